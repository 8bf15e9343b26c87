// arm64 loaders (hw-models/loaders/arm64_image, arm64_loader): the Linux
// Image header, ELF64 EM_AARCH64 and Image placement, gzip'd Images, initrd
// and DTB slots (booting.rst), the boot plan's vCPU states, and every error,
// on synthetic images in memory.
#include "hw-models/loaders/arm64_loader.h"

#include <cstring>
#include <string>
#include <vector>

#include "hw-models/loaders/arm64_image.h"
#include "hw-models/loaders/elf_image.h"
#include "tests/support/cunit_main.h"
#include "tests/support/elf_builder.h"
#include "tests/support/gzip_builder.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::hw;
using test::build_elf;
using test::Bytes;
using test::pattern;
using test::put32;
using test::put64;
using test::seg;

constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kRam = 0x40000000;

struct Ram {
    GuestRam ram;
    explicit Ram(std::uint64_t size) {
        CU_ASSERT_FATAL(ram.add_region(kRam, size).ok());
        std::memset(ram.regions()[0].memory.data(), 0xcc, size);
    }
    const std::uint8_t* at(std::uint64_t gpa, std::uint64_t len = 1) const {
        const std::uint8_t* p = ram.host_ptr(gpa, len);
        CU_ASSERT_FATAL(p != nullptr);
        return p;
    }
};

// A Linux Image: header + `body` bytes of pattern.
Bytes linux_image(std::uint64_t text_offset, std::uint64_t image_size, std::size_t file_size,
                  std::uint64_t flags = 0xa) {
    Bytes b = pattern(file_size, 3);
    put32(b, 0, 0x91005a4d);  // code0: "MZ" + add x13, x18, #0x16 (EFI stub form)
    put32(b, 4, 0x14000000);  // code1: b .
    put64(b, 8, text_offset);
    put64(b, 16, image_size);
    put64(b, 24, flags);
    put64(b, 32, 0);
    put64(b, 40, 0);
    put64(b, 48, 0);
    put32(b, 56, 0x644d5241);
    put32(b, 60, 0);
    return b;
}

ImageFile file(const std::string& path, Bytes bytes) { return ImageFile{path, std::move(bytes)}; }

bool has(const std::string& text, const std::string& part) {
    bool found = text.find(part) != std::string::npos;
    if (!found) {
        std::fprintf(stderr, "\n  message: %s\n  missing: %s\n", text.c_str(), part.c_str());
    }
    return found;
}

void expect_error(const Result<Arm64BootPlan>& r, int code, const std::string& part) {
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().code, code);
    CU_ASSERT_TRUE(has(r.error().message, part));
}

// ------------------------------------------------------------ Image header

void test_image_header_fields() {
    Bytes b = linux_image(0x80000, 0x1230000, 0x2000, 0xa);
    CU_ASSERT_TRUE(has_arm64_image_magic(b));
    auto h = parse_arm64_image_header(b, "Image");
    CU_ASSERT_FATAL(h.ok());
    CU_ASSERT_EQUAL(h->text_offset, 0x80000u);
    CU_ASSERT_EQUAL(h->image_size, 0x1230000u);
    CU_ASSERT_EQUAL(h->flags, 0xau);
    CU_ASSERT_FALSE(h->big_endian());
    CU_ASSERT_EQUAL(h->page_size_code(), 1u);  // 4K
    CU_ASSERT_TRUE(h->anywhere_placement());
}

void test_image_header_legacy_and_errors() {
    // image_size 0: pre-3.17, text_offset 0x80000 and the file's size.
    Bytes legacy = linux_image(0x1234, 0, 0x3000);
    auto h = parse_arm64_image_header(legacy, "old");
    CU_ASSERT_FATAL(h.ok());
    CU_ASSERT_EQUAL(h->text_offset, 0x80000u);
    CU_ASSERT_EQUAL(h->image_size, 0x3000u);

    Bytes bad = linux_image(0, 0x10000, 0x1000);
    bad[56] = 'X';
    CU_ASSERT_FALSE(has_arm64_image_magic(bad));
    auto r = parse_arm64_image_header(bad, "bad");
    CU_ASSERT_FALSE(r.ok());
    CU_ASSERT_TRUE(has(r.error().message, "bad: not an arm64 Image"));

    Bytes shortfile(40, 0);
    r = parse_arm64_image_header(shortfile, "short");
    CU_ASSERT_FALSE(r.ok());
    CU_ASSERT_EQUAL(r.error().code, ENOEXEC);
    CU_ASSERT_TRUE(has(r.error().message, "truncated arm64 Image header"));

    r = parse_arm64_image_header(linux_image(0, 0x10000, 0x1000, 1), "be");
    CU_ASSERT_FALSE(r.ok());
    CU_ASSERT_TRUE(has(r.error().message, "big-endian"));

    r = parse_arm64_image_header(linux_image(0, 0x800, 0x1000), "small");
    CU_ASSERT_FALSE(r.ok());
    CU_ASSERT_TRUE(has(r.error().message, "image_size 0x800 is smaller than the file (0x1000 bytes)"));
}

// ------------------------------------------------------------ Image loading

void test_image_load_initrd_dtb() {
    Ram m(64 * kMiB);
    Bytes img = linux_image(0x80000, 0x300000, 0x5000);
    Bytes rd = pattern(0x1800, 77);
    ImageFile k = file("Image", img);
    ImageFile i = file("initrd.cpio", rd);
    Log log;
    auto r = load_arm64_kernel(k, &i, m.ram, log);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT(r->format == Arm64BootPlan::Format::linux_image);
    CU_ASSERT_EQUAL(r->entry, kRam + 0x80000);
    CU_ASSERT_EQUAL(r->kernel.start, kRam + 0x80000);
    CU_ASSERT_EQUAL(r->kernel.end, kRam + 0x380000);
    // The file bytes at the load address, zeroes up to image_size.
    CU_ASSERT_EQUAL(std::memcmp(m.at(kRam + 0x80000, img.size()), img.data(), img.size()), 0);
    CU_ASSERT_EQUAL(*m.at(kRam + 0x80000 + img.size()), 0);
    CU_ASSERT_EQUAL(*m.at(kRam + 0x37ffff), 0);
    CU_ASSERT_EQUAL(*m.at(kRam + 0x381800), 0xcc);  // after the initrd
    CU_ASSERT_EQUAL(*m.at(kRam + 0x7ffff), 0xcc);
    // initrd on the next page, DTB slot on the next 2 MiB boundary.
    CU_ASSERT_EQUAL(r->initrd.start, kRam + 0x380000);
    CU_ASSERT_EQUAL(r->initrd.end, kRam + 0x381800);
    CU_ASSERT_EQUAL(std::memcmp(m.at(r->initrd.start, rd.size()), rd.data(), rd.size()), 0);
    CU_ASSERT_EQUAL(r->dtb_addr, kRam + 0x400000);
    CU_ASSERT_EQUAL(r->dtb_size, 0u);
    CU_ASSERT_EQUAL(r->loaded.size(), 2u);

    Bytes dtb = pattern(0x321, 9);
    CU_ASSERT_FATAL(place_arm64_dtb(*r, dtb, m.ram, log).ok());
    CU_ASSERT_EQUAL(r->dtb_size, 0x321u);
    CU_ASSERT_EQUAL(std::memcmp(m.at(r->dtb_addr, dtb.size()), dtb.data(), dtb.size()), 0);
    CU_ASSERT_EQUAL(r->loaded.size(), 3u);
    CU_ASSERT_EQUAL(r->loaded.back().start, kRam + 0x400000);
    CU_ASSERT_EQUAL(r->loaded.back().end, kRam + 0x400321);
    for (std::size_t a = 0; a < r->loaded.size(); ++a)
        for (std::size_t b = a + 1; b < r->loaded.size(); ++b)
            CU_ASSERT_FALSE(r->loaded[a].overlaps(r->loaded[b]));

    // vCPU states: boot CPU at the entry with x0 = DTB, EL1h DAIF masked;
    // secondaries powered off for PSCI CPU_ON.
    Arm64VcpuBoot v0 = r->vcpu(0);
    CU_ASSERT_FALSE(v0.powered_off);
    CU_ASSERT_EQUAL(v0.pc, kRam + 0x80000);
    CU_ASSERT_EQUAL(v0.x0, kRam + 0x400000);
    CU_ASSERT_EQUAL(v0.pstate, 0x3c5u);
    Arm64VcpuBoot v1 = r->vcpu(1);
    CU_ASSERT_TRUE(v1.powered_off);
    CU_ASSERT_EQUAL(v1.pstate, 0x3c5u);
}

void test_image_text_offset_zero_no_initrd() {
    Ram m(8 * kMiB);
    ImageFile k = file("Image", linux_image(0, 0x200000, 0x1000));
    Log log;
    auto r = load_arm64_kernel(k, nullptr, m.ram, log);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(r->entry, kRam);
    CU_ASSERT_EQUAL(r->initrd.start, 0u);
    CU_ASSERT_EQUAL(r->initrd.end, 0u);
    CU_ASSERT_EQUAL(r->dtb_addr, kRam + 0x200000);  // exactly at the kernel's end
}

void test_image_errors() {
    Log log;
    {
        Ram m(4 * kMiB);
        ImageFile k = file("big", linux_image(0, 5 * kMiB, 0x1000));
        expect_error(load_arm64_kernel(k, nullptr, m.ram, log), EFBIG, "big: image_size 0x500000 is larger");
    }
    {
        Ram m(4 * kMiB);
        ImageFile k = file("off", linux_image(0x380000, 0x100000, 0x1000));
        expect_error(load_arm64_kernel(k, nullptr, m.ram, log), ENOSPC, "off: the Image");
    }
    {
        Ram m(4 * kMiB);  // kernel fills RAM to the end: no 2 MiB DTB slot
        ImageFile k = file("full", linux_image(0, 3 * kMiB + 1, 0x1000));
        expect_error(load_arm64_kernel(k, nullptr, m.ram, log), ENOSPC,
                     "full: no 2 MiB aligned room for the device tree");
        CU_ASSERT_EQUAL(*m.at(kRam), 0xcc);  // nothing written
    }
    {
        Ram m(4 * kMiB);
        ImageFile k = file("Image", linux_image(0, 0x100000, 0x1000));
        ImageFile i = file("huge.cpio", Bytes(5 * kMiB, 1));
        expect_error(load_arm64_kernel(k, &i, m.ram, log), EFBIG, "huge.cpio: the initrd");
        ImageFile i2 = file("room.cpio", Bytes(3 * kMiB + 1, 1));
        expect_error(load_arm64_kernel(k, &i2, m.ram, log), ENOSPC, "room.cpio: no room for the initrd");
    }
    {
        Ram m(4 * kMiB);
        ImageFile k = file("junk", pattern(0x100, 1));
        expect_error(load_arm64_kernel(k, nullptr, m.ram, log), ENOEXEC,
                     "junk: neither an ELF file nor an arm64 Image");
    }
}

// ------------------------------------------------------------ gzip'd Image

void test_gzip_image_load() {
    // Image.gz loads exactly as the Image it holds, initrd and DTB slot too.
    Bytes img = linux_image(0x80000, 0x300000, 0x5000);
    Bytes rd = pattern(0x1800, 77);
    ImageFile i = file("initrd.cpio", rd);
    Log log;
    Ram plain(64 * kMiB);
    auto p = load_arm64_kernel(file("Image", img), &i, plain.ram, log);
    CU_ASSERT_FATAL(p.ok());
    Ram m(64 * kMiB);
    auto r = load_arm64_kernel(file("Image.gz", test::gzip_bytes(img)), &i, m.ram, log);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT(r->format == Arm64BootPlan::Format::linux_image);
    CU_ASSERT_EQUAL(r->entry, p->entry);
    CU_ASSERT_EQUAL(r->kernel.start, p->kernel.start);
    CU_ASSERT_EQUAL(r->kernel.end, p->kernel.end);
    CU_ASSERT_EQUAL(r->initrd.start, p->initrd.start);
    CU_ASSERT_EQUAL(r->initrd.end, p->initrd.end);
    CU_ASSERT_EQUAL(r->dtb_addr, p->dtb_addr);
    CU_ASSERT_EQUAL(std::memcmp(m.at(kRam, 64 * kMiB), plain.at(kRam, 64 * kMiB), 64 * kMiB), 0);
    CU_ASSERT_EQUAL(std::memcmp(m.at(kRam + 0x80000, img.size()), img.data(), img.size()), 0);
}

void test_gzip_image_errors() {
    Log log;
    Bytes img = linux_image(0, 0x100000, 0x1000);
    {
        Ram m(4 * kMiB);
        Bytes gz = test::gzip_bytes(img);
        gz.resize(gz.size() - 3);
        expect_error(load_arm64_kernel(file("cut.gz", gz), nullptr, m.ram, log), ENOEXEC,
                     "cut.gz: truncated gzip stream");
        CU_ASSERT_EQUAL(*m.at(kRam), 0xcc);  // nothing written
    }
    {
        Ram m(4 * kMiB);
        Bytes gz = test::gzip_bytes(img);
        gz[gz.size() - 6] ^= 0x40;  // CRC32
        expect_error(load_arm64_kernel(file("bad.gz", gz), nullptr, m.ram, log), ENOEXEC,
                     "bad.gz: corrupt gzip stream");
    }
    {
        Ram m(4 * kMiB);  // decompresses to more than the RAM
        expect_error(load_arm64_kernel(file("big.gz", test::gzip_bytes(Bytes(5 * kMiB, 0))), nullptr, m.ram, log),
                     EFBIG, "big.gz: the gzip stream decompresses to more than 0x400000 bytes (the guest's RAM size)");
    }
    {
        Ram m(4 * kMiB);  // a gzip'd ELF or anything else is not taken
        Bytes elf = build_elf(true, kElfMachineAarch64, 0x40080000, {seg(0x40080000, 0x100, 0x100)});
        expect_error(load_arm64_kernel(file("elf.gz", test::gzip_bytes(elf)), nullptr, m.ram, log), ENOEXEC,
                     "elf.gz: gzip-compressed, but not an arm64 Image once decompressed");
    }
    {
        Ram m(4 * kMiB);  // the Image inside is checked as any Image
        expect_error(load_arm64_kernel(file("huge.gz", test::gzip_bytes(linux_image(0, 5 * kMiB, 0x1000))), nullptr,
                                       m.ram, log),
                     EFBIG, "huge.gz: image_size 0x500000 is larger");
    }
}

// ------------------------------------------------------------ ELF64

void test_elf_load() {
    Ram m(16 * kMiB);
    Bytes text = pattern(0x40, 5);
    Bytes data = pattern(0x10, 50);
    Bytes elf = build_elf(true, kElfMachineAarch64, 0x40080010,
                          {seg(0x40080000, text, 0x40), seg(0x40090000, data, 0x1000)});
    ImageFile k = file("guest.elf", elf);
    Log log;
    auto r = load_arm64_kernel(k, nullptr, m.ram, log);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT(r->format == Arm64BootPlan::Format::elf64);
    CU_ASSERT_EQUAL(r->entry, 0x40080010u);
    CU_ASSERT_EQUAL(r->kernel.start, 0x40080000u);
    CU_ASSERT_EQUAL(r->kernel.end, 0x40091000u);
    CU_ASSERT_EQUAL(std::memcmp(m.at(0x40080000, 0x40), text.data(), 0x40), 0);
    CU_ASSERT_EQUAL(std::memcmp(m.at(0x40090000, 0x10), data.data(), 0x10), 0);
    CU_ASSERT_EQUAL(*m.at(0x40090010), 0);
    CU_ASSERT_EQUAL(*m.at(0x40090fff), 0);
    CU_ASSERT_EQUAL(*m.at(0x40091000), 0xcc);
    CU_ASSERT_EQUAL(r->dtb_addr, 0x40200000u);
    CU_ASSERT_EQUAL(r->vcpu(0).pc, 0x40080010u);
    CU_ASSERT_EQUAL(r->vcpu(0).x0, 0x40200000u);
}

void test_elf_errors() {
    Ram m(16 * kMiB);
    Log log;
    ImageFile x86 = file("x86.elf", build_elf(true, kElfMachineX86_64, 0x40080000, {seg(0x40080000, 0x10, 0x10)}));
    expect_error(load_arm64_kernel(x86, nullptr, m.ram, log), ENOEXEC,
                 "x86.elf: ELF machine 62 is not AArch64 (EM_AARCH64 183)");
    ImageFile e32 = file("e32.elf", build_elf(false, kElfMachineAarch64, 0x40080000, {seg(0x40080000, 0x10, 0x10)}));
    expect_error(load_arm64_kernel(e32, nullptr, m.ram, log), ENOEXEC, "e32.elf: not a 64-bit ELF");
    ImageFile low = file("low.elf", build_elf(true, kElfMachineAarch64, 0x80000, {seg(0x80000, 0x10, 0x10)}));
    expect_error(load_arm64_kernel(low, nullptr, m.ram, log), EFAULT,
                 "low.elf: segment 0 [0x80000, 0x80010) is outside guest RAM");
    ImageFile entry = file("entry.elf", build_elf(true, kElfMachineAarch64, 0x40100000, {seg(0x40080000, 0x10, 0x10)}));
    expect_error(load_arm64_kernel(entry, nullptr, m.ram, log), ENOEXEC,
                 "entry.elf: entry point 0x40100000 is not inside any loaded segment");
    ImageFile big = file("big.elf",
                         build_elf(true, kElfMachineAarch64, 0x40000000, {seg(0x40000000, 0x10, 17 * kMiB)}));
    expect_error(load_arm64_kernel(big, nullptr, m.ram, log), EFBIG, "big.elf: the segments need 0x1100000 bytes");
    Bytes be = build_elf(true, kElfMachineAarch64, 0x40080000, {seg(0x40080000, 0x10, 0x10)});
    be[5] = 2;
    expect_error(load_arm64_kernel(file("be.elf", be), nullptr, m.ram, log), ENOEXEC, "big-endian ELF");
    // Memory untouched by every failed load.
    CU_ASSERT_EQUAL(*m.at(0x40080000), 0xcc);
}

void test_dtb_limits() {
    Ram m(8 * kMiB);
    ImageFile k = file("Image", linux_image(0, 0x100000, 0x1000));
    Log log;
    auto r = load_arm64_kernel(k, nullptr, m.ram, log);
    CU_ASSERT_FATAL(r.ok());
    Bytes too_big((2 * kMiB) + 8, 0);
    auto s = place_arm64_dtb(*r, too_big, m.ram, log);
    CU_ASSERT_FALSE(s.ok());
    CU_ASSERT_EQUAL(s.error().code, EFBIG);
    CU_ASSERT_EQUAL(r->dtb_size, 0u);
    // The slot is at 0x40200000; RAM ends at 0x40800000: 2 MiB fits exactly.
    Bytes max(2 * kMiB, 0x11);
    CU_ASSERT_TRUE(place_arm64_dtb(*r, max, m.ram, log).ok());
    // With the slot near the end of RAM the DTB must fit before it ends.
    Ram small(3 * kMiB);
    auto r2 = load_arm64_kernel(k, nullptr, small.ram, log);
    CU_ASSERT_FATAL(r2.ok());
    CU_ASSERT_EQUAL(r2->dtb_addr, kRam + 0x200000);
    s = place_arm64_dtb(*r2, Bytes(kMiB + 1, 0), small.ram, log);
    CU_ASSERT_FALSE(s.ok());
    CU_ASSERT_TRUE(has(s.error().message, "does not fit in RAM at 0x40200000"));
}

constexpr kvmdbg::test::TestCase kImage[] = {
    {"header fields", test_image_header_fields},
    {"legacy header and errors", test_image_header_legacy_and_errors},
    {"load with initrd and DTB", test_image_load_initrd_dtb},
    {"text_offset 0 without initrd", test_image_text_offset_zero_no_initrd},
    {"load errors", test_image_errors},
};
constexpr kvmdbg::test::TestCase kGzip[] = {
    {"gzip'd Image loads as the Image", test_gzip_image_load},
    {"gzip'd Image errors", test_gzip_image_errors},
};
constexpr kvmdbg::test::TestCase kElf[] = {
    {"ELF64 AArch64 load", test_elf_load},
    {"ELF errors", test_elf_errors},
    {"DTB limits", test_dtb_limits},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {
    {"arm64 Image", kImage},
    {"arm64 Image.gz", kGzip},
    {"arm64 ELF64 and DTB", kElf},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
