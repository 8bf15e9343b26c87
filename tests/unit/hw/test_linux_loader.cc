// Unit tests for the Linux x86-64 boot protocol: the setup header parser
// (linux_boot_header), boot_params and its e820 map (linux_boot_params),
// the placement and the loaded state (linux_loader), and the -kernel front
// door on a bzImage (x86_kernel_loader). The bzImages are synthetic
// (bzimage_builder.h), written to temp files.
#include "hw-models/loaders/linux_loader.h"

#include <glib.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "arch/x86/boot_tables.h"
#include "hw-models/loaders/linux_boot_header.h"
#include "hw-models/loaders/linux_boot_params.h"
#include "hw-models/loaders/x86_kernel_loader.h"
#include "tests/support/bzimage_builder.h"
#include "tests/support/cunit_main.h"
#include "tests/support/elf_builder.h"
#include "tests/support/temp_file.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::hw;
using test::build_bzimage;
using test::Bytes;
using test::ImageSpec;
using test::pattern;

constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kGiB = 1ull << 30;

// ------------------------------------------------------------- helpers

using kvmdbg::test::TempFile;

std::unique_ptr<GuestRam> make_ram(std::uint64_t low, std::uint64_t high = 0) {
    auto ram = std::make_unique<GuestRam>();
    CU_ASSERT_FATAL(ram->add_region(0, low).ok());
    if (high != 0) {
        CU_ASSERT_FATAL(ram->add_region(4 * kGiB, high).ok());
    }
    return ram;
}

std::uint64_t le(const std::uint8_t* p, int size) {
    std::uint64_t v = 0;
    for (int i = size - 1; i >= 0; --i) {
        v = (v << 8) | p[i];
    }
    return v;
}

bool has(const std::string& text, const std::string& part) {
    bool found = text.find(part) != std::string::npos;
    if (!found) {
        std::fprintf(stderr, "\n  message: %s\n  missing: %s\n", text.c_str(), part.c_str());
    }
    return found;
}

void expect_parse_error(const Bytes& image, const std::string& part) {
    auto r = parse_linux_setup_header(image, "k.img");
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().code, ENOEXEC);
    CU_ASSERT_TRUE(has(r.error().message, "k.img: " + part));
    CU_ASSERT_EQUAL(r.error().message.find('\n'), std::string::npos);
}

Result<X86BootPlan> load_file(const std::string& path, GuestRam& ram, const std::string& append = "",
                              const std::string& initrd = "") {
    Log log;
    X86KernelOptions o;
    o.kernel_path = path;
    o.append = append;
    o.initrd = initrd;
    o.reserved = {{0xffff0000, 0x100000000}};
    return load_x86_kernel(o, ram, log);
}

// ------------------------------------------------------------- the header

void test_parse_header() {
    ImageSpec spec;
    auto h = parse_linux_setup_header(build_bzimage(spec), "k.img");
    CU_ASSERT_TRUE_FATAL(h.ok());
    CU_ASSERT_EQUAL(h->setup_sects, 4);
    CU_ASSERT_EQUAL(h->version, 0x020f);
    CU_ASSERT_EQUAL(h->kernel_offset, 5 * 512);
    CU_ASSERT_EQUAL(h->kernel_size, spec.kernel_bytes);
    CU_ASSERT_EQUAL(h->header_end, 0x26c);
    CU_ASSERT_EQUAL(h->syssize, spec.kernel_bytes / 16);
    CU_ASSERT_EQUAL(h->initrd_addr_max, 0x7fffffff);
    CU_ASSERT_EQUAL(h->kernel_alignment, 0x200000);
    CU_ASSERT_TRUE(h->relocatable);
    CU_ASSERT_EQUAL(h->xloadflags, 0x7f);
    CU_ASSERT_EQUAL(h->cmdline_size, 0x7ff);
    CU_ASSERT_EQUAL(h->pref_address, 0x1000000);
    CU_ASSERT_EQUAL(h->init_size, 0x400000);
    CU_ASSERT_EQUAL(linux_protocol_text(0x020f), "2.15");
}

void test_setup_sects_zero_means_four() {
    ImageSpec spec;
    spec.setup_sects = 0;
    auto h = parse_linux_setup_header(build_bzimage(spec), "k.img");
    CU_ASSERT_TRUE_FATAL(h.ok());
    CU_ASSERT_EQUAL(h->kernel_offset, 5 * 512);
    spec.setup_sects = 39;
    h = parse_linux_setup_header(build_bzimage(spec), "k.img");
    CU_ASSERT_TRUE_FATAL(h.ok());
    CU_ASSERT_EQUAL(h->kernel_offset, 40 * 512);
}

void test_truncated() {
    Bytes image = build_bzimage(ImageSpec{});
    expect_parse_error(Bytes(image.begin(), image.begin() + 0x1ff),
                       "truncated bzImage: the file has 511 bytes, less than the 512-byte boot sector");
    // Boot flag and "HdrS" present, the version field cut (found by fuzz_linux_loader).
    for (std::size_t size : {0x206, 0x207}) {
        expect_parse_error(Bytes(image.begin(), image.begin() + static_cast<std::ptrdiff_t>(size)),
                           "truncated bzImage: the file has " + std::to_string(size) +
                               " bytes and ends before the boot protocol version at 0x206");
    }
    expect_parse_error(Bytes(image.begin(), image.begin() + 3 * 512),
                       "truncated bzImage: the setup code ends at 0xa00 (setup_sects 4) and the file has 1536 bytes");
    expect_parse_error(Bytes(image.begin(), image.end() - 16),
                       "truncated bzImage: the protected-mode kernel at 0xa00 is 0x3000 bytes (syssize 0x300) but "
                       "the file has 0x2ff0 bytes after the setup code");
}

void test_missing_signatures() {
    Bytes image = build_bzimage(ImageSpec{});
    Bytes no_flag = image;
    no_flag[0x1fe] = 0;
    expect_parse_error(no_flag, "no boot flag 0xaa55 at 0x1fe: not a Linux boot image");
    Bytes no_magic = image;
    no_magic[0x202] = 'X';
    expect_parse_error(no_magic, "no \"HdrS\" magic at 0x202: not a Linux kernel with a setup header");
}

void test_old_protocol() {
    ImageSpec spec;
    spec.version = 0x0205;
    expect_parse_error(build_bzimage(spec), "Linux boot protocol 2.05 is too old: kvmdbg needs 2.06 or later");
    spec.version = 0x0206;
    // 2.06 parses but has no xloadflags: no 64-bit entry.
    expect_parse_error(build_bzimage(spec),
                       "the kernel has no 64-bit entry (XLF_KERNEL_64 clear in xloadflags, "
                       "boot protocol 2.06)");
}

void test_not_bzimage_or_not_64bit() {
    ImageSpec spec;
    spec.loadflags = 0;
    expect_parse_error(build_bzimage(spec), "not a bzImage: LOADED_HIGH (loadflags bit 0) is clear");
    spec = ImageSpec{};
    spec.xloadflags = 0x02;
    expect_parse_error(build_bzimage(spec),
                       "the kernel has no 64-bit entry (XLF_KERNEL_64 clear in xloadflags, "
                       "boot protocol 2.15): kvmdbg boots Linux through the 64-bit boot "
                       "protocol only");
}

const test::TestCase kHeader[] = {
    {"parse", test_parse_header},
    {"setup_sects 0 means 4", test_setup_sects_zero_means_four},
    {"truncated", test_truncated},
    {"missing boot flag or HdrS", test_missing_signatures},
    {"protocol older than 2.06", test_old_protocol},
    {"zImage, no 64-bit entry", test_not_bzimage_or_not_64bit},
};

// ------------------------------------------------------ e820, boot_params

void test_e820_map() {
    std::vector<GpaRange> ram = {{4 * kGiB, 4 * kGiB + kGiB}, {0, 128 * kMiB}};
    std::vector<GpaRange> reserved = {{0x1000, 0x9000}, {0x9fc00, 0x100000}, {0xffff0000, 4 * kGiB}};
    auto map = build_e820_map(ram, reserved);
    std::vector<E820Entry> want = {
        {0, 0x1000, E820Type::ram},
        {0x1000, 0x8000, E820Type::reserved},
        {0x9000, 0x9fc00 - 0x9000, E820Type::ram},
        {0x9fc00, 0x100000 - 0x9fc00, E820Type::reserved},
        {0x100000, 128 * kMiB - 0x100000, E820Type::ram},
        {0xffff0000, 0x10000, E820Type::reserved},
        {4 * kGiB, kGiB, E820Type::ram},
    };
    CU_ASSERT_EQUAL_FATAL(map.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        CU_ASSERT_TRUE(map[i] == want[i]);
    }
}

void test_e820_adjacent_reserved_merge() {
    std::vector<GpaRange> ram = {{0, 2 * kMiB}};
    std::vector<GpaRange> reserved = {{0x1000, 0x2000}, {0x2000, 0x3000}};
    auto map = build_e820_map(ram, reserved);
    CU_ASSERT_EQUAL_FATAL(map.size(), 3u);
    CU_ASSERT_TRUE((map[1] == E820Entry{0x1000, 0x2000, E820Type::reserved}));
    CU_ASSERT_TRUE((map[2] == E820Entry{0x3000, 2 * kMiB - 0x3000, E820Type::ram}));
}

void test_boot_params_fields() {
    Bytes header(0x26c - 0x1f1, 0x11);
    LinuxBootParamsInput in;
    in.setup_header = header;
    in.cmd_line_ptr = 0x20000;
    in.ramdisk_image = 0x7ff0000;
    in.ramdisk_size = 0x1234;
    in.e820 = {{0, 0x9fc00, E820Type::ram}, {0x9fc00, 0x60400, E820Type::reserved}};
    auto zp = build_linux_boot_params(in);
    CU_ASSERT_TRUE_FATAL(zp.ok());
    const std::uint8_t* p = zp->data();
    CU_ASSERT_EQUAL(p[0x1f0], 0);
    CU_ASSERT_EQUAL(p[0x1f1], 0x11);
    CU_ASSERT_EQUAL(p[0x26b], 0x11);
    CU_ASSERT_EQUAL(p[0x26c], 0);
    CU_ASSERT_EQUAL(p[0x210], 0xff);
    CU_ASSERT_EQUAL(le(p + 0x228, 4), 0x20000u);
    CU_ASSERT_EQUAL(le(p + 0xc8, 4), 0u);
    CU_ASSERT_EQUAL(le(p + 0x218, 4), 0x7ff0000u);
    CU_ASSERT_EQUAL(le(p + 0x21c, 4), 0x1234u);
    CU_ASSERT_EQUAL(p[0x1e8], 2);
    CU_ASSERT_EQUAL(le(p + 0x2d0, 8), 0u);
    CU_ASSERT_EQUAL(le(p + 0x2d8, 8), 0x9fc00u);
    CU_ASSERT_EQUAL(le(p + 0x2e0, 4), 1u);
    CU_ASSERT_EQUAL(le(p + 0x2e4, 8), 0x9fc00u);
    CU_ASSERT_EQUAL(le(p + 0x2ec, 8), 0x60400u);
    CU_ASSERT_EQUAL(le(p + 0x2f4, 4), 2u);
    CU_ASSERT_EQUAL(p[0x2f8], 0);
}

void test_boot_params_limits() {
    Bytes header(0x300, 0x22);  // longer than the room: cut at 0x290
    LinuxBootParamsInput in;
    in.setup_header = header;
    in.ramdisk_image = 0x1'2345'6000;
    auto zp = build_linux_boot_params(in);
    CU_ASSERT_TRUE_FATAL(zp.ok());
    CU_ASSERT_EQUAL((*zp)[0x28f], 0x22);
    CU_ASSERT_EQUAL((*zp)[0x290], 0);
    CU_ASSERT_EQUAL(le(zp->data() + 0x218, 4), 0x23456000u);
    CU_ASSERT_EQUAL(le(zp->data() + 0xc0, 4), 1u);
    in.e820.assign(129, E820Entry{});
    auto too_many = build_linux_boot_params(in);
    CU_ASSERT_FALSE_FATAL(too_many.ok());
    CU_ASSERT_EQUAL(too_many.error().code, EINVAL);
}

const test::TestCase kBootParams[] = {
    {"e820 map", test_e820_map},
    {"e820 merges adjacent ranges", test_e820_adjacent_reserved_merge},
    {"boot_params fields", test_boot_params_fields},
    {"boot_params limits", test_boot_params_limits},
};

// ---------------------------------------------------------- placement

LinuxSetupHeader header_of(const ImageSpec& spec) {
    auto h = parse_linux_setup_header(build_bzimage(spec), "k.img");
    CU_ASSERT_TRUE_FATAL(h.ok());
    return *h;
}

void test_kernel_placement() {
    auto ram = make_ram(64 * kMiB);
    auto l = plan_linux_layout(header_of(ImageSpec{}), 0, 0, *ram, "k.img", "");
    CU_ASSERT_TRUE_FATAL(l.ok());
    CU_ASSERT_EQUAL(l->kernel_load, 0x1000000u);
    CU_ASSERT_EQUAL(l->kernel_end, 0x1400000u);
    CU_ASSERT_EQUAL(l->initrd_gpa, 0u);
    // No pref_address: the classic 1 MiB, rounded up to kernel_alignment
    // for a relocatable kernel.
    ImageSpec spec;
    spec.pref_address = 0;
    l = plan_linux_layout(header_of(spec), 0, 0, *ram, "k.img", "");
    CU_ASSERT_TRUE_FATAL(l.ok());
    CU_ASSERT_EQUAL(l->kernel_load, 0x200000u);
    spec.relocatable = 0;
    l = plan_linux_layout(header_of(spec), 0, 0, *ram, "k.img", "");
    CU_ASSERT_TRUE_FATAL(l.ok());
    CU_ASSERT_EQUAL(l->kernel_load, 0x100000u);
}

void test_kernel_does_not_fit() {
    auto ram = make_ram(20 * kMiB);  // [16 MiB, 20 MiB) < init_size 0x400000 + 16 MiB
    ImageSpec spec;
    spec.init_size = 0x400001;
    auto l = plan_linux_layout(header_of(spec), 0, 0, *ram, "k.img", "");
    CU_ASSERT_FALSE_FATAL(l.ok());
    CU_ASSERT_EQUAL(l.error().code, ENOMEM);
    CU_ASSERT_TRUE(has(l.error().message,
                       "k.img: the kernel needs RAM at [0x1000000, 0x1400001) (init_size "
                       "0x400001) and the guest has no RAM there: give more -m"));
    spec = ImageSpec{};
    spec.pref_address = 0x80000;
    spec.relocatable = 0;
    l = plan_linux_layout(header_of(spec), 0, 0, *ram, "k.img", "");
    CU_ASSERT_FALSE_FATAL(l.ok());
    CU_ASSERT_TRUE(has(l.error().message, "k.img: load address 0x80000 (pref_address) is below 1 MiB"));
}

void test_cmdline_bounds() {
    auto ram = make_ram(64 * kMiB);
    LinuxSetupHeader h = header_of(ImageSpec{});
    CU_ASSERT_TRUE(plan_linux_layout(h, 0x7ff, 0, *ram, "k.img", "").ok());
    auto l = plan_linux_layout(h, 0x800, 0, *ram, "k.img", "");
    CU_ASSERT_FALSE_FATAL(l.ok());
    CU_ASSERT_EQUAL(l.error().code, E2BIG);
    CU_ASSERT_TRUE(
        has(l.error().message, "k.img: -append is 2048 bytes, longer than the kernel's cmdline_size (2047)"));
    // A huge cmdline_size still stops below the EBDA.
    h.cmdline_size = 0xffffffff;
    CU_ASSERT_TRUE(plan_linux_layout(h, 0x9fc00 - 0x20000 - 1, 0, *ram, "k.img", "").ok());
    l = plan_linux_layout(h, 0x9fc00 - 0x20000, 0, *ram, "k.img", "");
    CU_ASSERT_FALSE_FATAL(l.ok());
    CU_ASSERT_TRUE(has(l.error().message, "more than fits at 0x20000 below the EBDA"));
}

void test_initrd_bounds() {
    auto ram = make_ram(64 * kMiB);
    LinuxSetupHeader h = header_of(ImageSpec{});
    auto l = plan_linux_layout(h, 0, 0x1234, *ram, "k.img", "rd.img");
    CU_ASSERT_TRUE_FATAL(l.ok());
    CU_ASSERT_EQUAL(l->initrd_gpa, (64 * kMiB - 0x1234) & ~0xfffull);
    CU_ASSERT_EQUAL(l->initrd_size, 0x1234u);
    // initrd_addr_max below the RAM end is the limit (inclusive).
    h.initrd_addr_max = 0x2ffffff;
    l = plan_linux_layout(h, 0, 0x2000, *ram, "k.img", "rd.img");
    CU_ASSERT_TRUE_FATAL(l.ok());
    CU_ASSERT_EQUAL(l->initrd_gpa, 0x3000000u - 0x2000);
    // Exactly the room between the kernel's end and the limit fits; a byte more does not.
    std::uint64_t room = 0x3000000 - 0x1400000;
    CU_ASSERT_TRUE(plan_linux_layout(h, 0, room, *ram, "k.img", "rd.img").ok());
    l = plan_linux_layout(h, 0, room + 1, *ram, "k.img", "rd.img");
    CU_ASSERT_FALSE_FATAL(l.ok());
    CU_ASSERT_EQUAL(l.error().code, ENOSPC);
    CU_ASSERT_TRUE(has(l.error().message,
                       "rd.img: the initrd (29360129 bytes) does not fit between the kernel's "
                       "end 0x1400000 and 0x3000000"));
    // Larger than all of RAM.
    l = plan_linux_layout(h, 0, 8 * kGiB, *ram, "k.img", "rd.img");
    CU_ASSERT_FALSE(l.ok());
}

void test_initrd_below_4gib_with_high_ram() {
    auto ram = make_ram(3 * kGiB, kGiB);
    LinuxSetupHeader h = header_of(ImageSpec{});
    h.initrd_addr_max = 0xffffffff;
    auto l = plan_linux_layout(h, 0, 0x10000, *ram, "k.img", "rd.img");
    CU_ASSERT_TRUE_FATAL(l.ok());
    CU_ASSERT_EQUAL(l->initrd_gpa, 3 * kGiB - 0x10000);
}

const test::TestCase kPlacement[] = {
    {"kernel load address", test_kernel_placement},
    {"kernel does not fit", test_kernel_does_not_fit},
    {"command line bounds", test_cmdline_bounds},
    {"initrd bounds", test_initrd_bounds},
    {"initrd below 4 GiB with high RAM", test_initrd_below_4gib_with_high_ram},
};

// ----------------------------------------------------- the whole load

void check_loaded_memory(const GuestRam& ram, const Bytes& image, const Bytes& initrd, std::uint64_t initrd_gpa) {
    // Kernel bytes at the load address; the boot_params header copy; the
    // command line with its NUL; the initrd.
    CU_ASSERT_EQUAL(std::memcmp(ram.host_ptr(0x1000000, 0x3000), image.data() + 0xa00, 0x3000), 0);
    const std::uint8_t* zp = ram.host_ptr(0x10000, 0x1000);
    CU_ASSERT_EQUAL(std::memcmp(zp + 0x1f1, image.data() + 0x1f1, 0x210 - 0x1f1), 0);
    CU_ASSERT_EQUAL(zp[0x210], 0xff);
    CU_ASSERT_EQUAL(zp[0x268], 0x5a);
    CU_ASSERT_EQUAL(le(zp + 0x228, 4), 0x20000u);
    CU_ASSERT_EQUAL(le(zp + 0x218, 4), initrd_gpa);
    CU_ASSERT_EQUAL(le(zp + 0x21c, 4), initrd.size());
    CU_ASSERT_EQUAL(std::strcmp(reinterpret_cast<const char*>(ram.host_ptr(0x20000, 16)), "console=ttyS0"), 0);
    CU_ASSERT_EQUAL(std::memcmp(ram.host_ptr(initrd_gpa, initrd.size()), initrd.data(), initrd.size()), 0);
    // e820: RAM, the boot tables, RAM, EBDA + BIOS area, RAM, the ROM.
    CU_ASSERT_EQUAL(zp[0x1e8], 6);
    CU_ASSERT_EQUAL(le(zp + 0x2d0 + 20 * 1, 8), 0x1000u);
    CU_ASSERT_EQUAL(le(zp + 0x2d0 + 20 * 1 + 16, 4), 2u);
    CU_ASSERT_EQUAL(le(zp + 0x2d0 + 20 * 4, 8), 0x100000u);
    CU_ASSERT_EQUAL(le(zp + 0x2d0 + 20 * 4 + 8, 8), 64 * kMiB - 0x100000);
    CU_ASSERT_EQUAL(le(zp + 0x2d0 + 20 * 5, 8), 0xffff0000u);
}

void check_gdt_and_page_tables(const GuestRam& ram) {
    const std::uint8_t* gdt = ram.host_ptr(0x1000, 32);
    CU_ASSERT_EQUAL(le(gdt + 0x10, 8), 0x00af9b000000ffffull);  // __BOOT_CS: 64-bit code
    CU_ASSERT_EQUAL(le(gdt + 0x18, 8), 0x00cf93000000ffffull);  // __BOOT_DS: flat data
    const std::uint8_t* pt = ram.host_ptr(0x2000, 0x6000);
    CU_ASSERT_EQUAL(le(pt, 8), 0x3003u);                      // PML4[0] -> PDPT
    CU_ASSERT_EQUAL(le(pt + 0x1000 + 8 * 3, 8), 0x7003u);     // PDPT[3] -> PD 3
    CU_ASSERT_EQUAL(le(pt + 0x1000 + 8 * 4, 8), 0u);          // only 4 GiB
    CU_ASSERT_EQUAL(le(pt + 0x2000 + 8 * 8, 8), 0x1000083u);  // 16 MiB, 2 MiB page
    CU_ASSERT_EQUAL(le(pt + 0x5000 + 8 * 511, 8), 0xffe00083u);
}

void check_entry_state(const X86BootPlan& plan) {
    const KvmdbgX86State& st = plan.bsp_state;
    CU_ASSERT_EQUAL(plan.protocol, "Linux");
    CU_ASSERT_FALSE(plan.all_vcpus_start_at_entry);
    CU_ASSERT_EQUAL(plan.entry, 0x1000200u);
    CU_ASSERT_EQUAL(st.rip, 0x1000200u);
    CU_ASSERT_EQUAL(st.gpr[KVMDBG_X86_RSI], 0x10000u);
    CU_ASSERT_EQUAL(st.gpr[KVMDBG_X86_RSP], 0x9000u);
    CU_ASSERT_EQUAL(st.cs.selector, 0x10);
    CU_ASSERT_EQUAL(st.cs.l, 1);
    CU_ASSERT_EQUAL(st.ds.selector, 0x18);
    CU_ASSERT_EQUAL(st.ss.selector, 0x18);
    CU_ASSERT_EQUAL(st.es.selector, 0x18);
    CU_ASSERT_EQUAL(st.gdt.base, 0x1000u);
    CU_ASSERT_EQUAL(st.cr3, 0x2000u);
    CU_ASSERT_EQUAL(st.cr0 & 0x80000001u, 0x80000001u);
    CU_ASSERT_EQUAL(st.cr4 & 0x20u, 0x20u);
    CU_ASSERT_EQUAL(st.efer & 0x500u, 0x500u);
    CU_ASSERT_EQUAL(st.rflags & 0x200u, 0u);
    // APs wait for INIT/SIPI in the reset state.
    KvmdbgX86State ap = plan.vcpu_state(1, 2);
    CU_ASSERT_EQUAL(ap.cs.selector, 0xf000);
    CU_ASSERT_EQUAL(ap.rip, 0xfff0u);
    CU_ASSERT_EQUAL(plan.max_vcpus(), UINT32_MAX);
}

void test_load_bzimage() {
    auto ram = make_ram(64 * kMiB);
    Bytes image = build_bzimage(ImageSpec{});
    Bytes initrd = pattern(0x1800, 3);
    TempFile kernel(image);
    TempFile rd(initrd);
    auto plan = load_file(kernel.path(), *ram, "console=ttyS0", rd.path());
    CU_ASSERT_TRUE_FATAL(plan.ok());
    std::uint64_t initrd_gpa = (64 * kMiB - 0x1800) & ~0xfffull;
    check_loaded_memory(*ram, image, initrd, initrd_gpa);
    check_gdt_and_page_tables(*ram);
    check_entry_state(*plan);
    CU_ASSERT_TRUE(plan->loaded_over(0x1000, 0x1001));
    CU_ASSERT_TRUE(plan->loaded_over(initrd_gpa, initrd_gpa + 1));
    CU_ASSERT_FALSE(plan->loaded_over(0x400, 0x500));  // the BIOS data area stays the machine's
}

void test_front_door_errors() {
    auto ram = make_ram(64 * kMiB);
    ImageSpec spec;
    spec.cmdline_size = 8;
    TempFile kernel(build_bzimage(spec));
    auto r = load_file(kernel.path(), *ram, "console=ttyS0");
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_TRUE(has(r.error().message, kernel.path() + ": -append is 13 bytes, longer than the kernel's "
                                                          "cmdline_size (8)"));
    r = load_file(kernel.path(), *ram, "", "/nonexistent/initrd.img");
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_TRUE(has(r.error().message, "/nonexistent/initrd.img"));
    // Only "HdrS", no boot flag: the Linux loader names what is missing.
    Bytes no_flag = build_bzimage(ImageSpec{});
    no_flag[0x1fe] = 0;
    TempFile half(no_flag);
    r = load_file(half.path(), *ram);
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_TRUE(has(r.error().message, half.path() + ": no boot flag 0xaa55 at 0x1fe"));
    // Nothing was written on failure.
    CU_ASSERT_EQUAL(*ram->host_ptr(0x1010, 1), 0);
}

const test::TestCase kLoad[] = {
    {"bzImage with initrd and command line", test_load_bzimage},
    {"front door errors", test_front_door_errors},
};

const test::TestSuite kSuites[] = {
    {"linux setup header", kHeader},
    {"boot_params and e820", kBootParams},
    {"placement", kPlacement},
    {"load", kLoad},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
