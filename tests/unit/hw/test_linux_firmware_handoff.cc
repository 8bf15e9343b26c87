// Unit tests for linux_firmware_handoff(): a bzImage handed to firmware
// through fw_cfg's kernel items, as QEMU's x86_load_linux fills them. The
// split into setup and kernel, the fixed addresses, every setup-header byte
// a boot loader writes (Linux Documentation/arch/x86/boot.rst, "Details of
// Header Fields") and only those, the initrd's place, and the errors. The
// bzImages are synthetic (bzimage_builder.h).
#include "hw-models/pc/linux_firmware_handoff.h"

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "common/byte_order.h"
#include "hw-models/loaders/linux_boot_header.h"
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
using test::put32;
using test::TempFile;

constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kGiB = 1ull << 30;

// ------------------------------------------------------------- helpers

bool has(const std::string& text, const std::string& part) {
    bool found = text.find(part) != std::string::npos;
    if (!found) {
        std::fprintf(stderr, "\n  message: %s\n  missing: %s\n", text.c_str(), part.c_str());
    }
    return found;
}

Result<FwCfgKernelItems> hand_over(const Bytes& image, const std::string& cmdline = "", const std::string& initrd = "",
                                   std::uint64_t low_ram_end = 64 * kMiB) {
    LinuxFirmwareHandoff o;
    o.cmdline = cmdline;
    o.initrd_path = initrd;
    o.low_ram_end = low_ram_end;
    return linux_firmware_handoff(ImageFile{"k.img", image}, o);
}

std::uint64_t setup_field(const FwCfgKernelItems& items, std::size_t offset, std::size_t size) {
    CU_ASSERT_FATAL(offset + size <= items.setup.size());
    return load_le(items.setup.data() + offset, size);
}

// ------------------------------------------------- split and addresses

void check_split(std::uint8_t setup_sects, std::size_t setup_bytes) {
    ImageSpec spec;
    spec.setup_sects = setup_sects;
    Bytes image = build_bzimage(spec);
    auto items = hand_over(image);
    CU_ASSERT_TRUE_FATAL(items.ok());
    CU_ASSERT_EQUAL(items->setup.size(), setup_bytes);
    CU_ASSERT_TRUE(items->kernel == Bytes(image.begin() + static_cast<std::ptrdiff_t>(setup_bytes), image.end()));
    CU_ASSERT_TRUE(items->kernel == pattern(spec.kernel_bytes, 7));
}

void test_split_after_setup_sects_plus_boot_sector() {
    check_split(4, 5 * 512);
    check_split(39, 40 * 512);
}

void test_setup_sects_zero_means_four() { check_split(0, 5 * 512); }

void test_fixed_addresses_and_command_line() {
    auto items = hand_over(build_bzimage(ImageSpec{}), "console=ttyS0 root=/dev/vda");
    CU_ASSERT_TRUE_FATAL(items.ok());
    CU_ASSERT_EQUAL(items->setup_addr, 0x10000u);
    CU_ASSERT_EQUAL(items->cmdline_addr, 0x20000u);
    CU_ASSERT_EQUAL(items->kernel_addr, 0x100000u);
    CU_ASSERT_EQUAL(items->cmdline, "console=ttyS0 root=/dev/vda");
    CU_ASSERT_EQUAL(kFirmwareLinuxSetupAddr, 0x10000u);
    CU_ASSERT_EQUAL(kFirmwareLinuxCmdlineAddr, 0x20000u);
    CU_ASSERT_EQUAL(kFirmwareLinuxKernelAddr, 0x100000u);
}

void test_no_initrd_gives_empty_initrd_items() {
    auto items = hand_over(build_bzimage(ImageSpec{}));
    CU_ASSERT_TRUE_FATAL(items.ok());
    CU_ASSERT_TRUE(items->initrd.empty());
    CU_ASSERT_EQUAL(items->initrd_addr, 0u);
    CU_ASSERT_EQUAL(items->cmdline, "");
}

const test::TestCase kSplit[] = {
    {"setup is (setup_sects + 1) * 512 bytes, the kernel the rest", test_split_after_setup_sects_plus_boot_sector},
    {"setup_sects 0 means 4", test_setup_sects_zero_means_four},
    {"setup at 0x10000, command line at 0x20000, kernel at 0x100000", test_fixed_addresses_and_command_line},
    {"without -initrd the initrd items are empty", test_no_initrd_gives_empty_initrd_items},
};

// -------------------------------------------------- the patched header

void test_loader_fields_patched_and_nothing_else() {
    ImageSpec spec;
    spec.loadflags = 0x21;  // LOADED_HIGH and QUIET_FLAG: kept
    Bytes image = build_bzimage(spec);
    // Stale values where the loader writes: all overwritten.
    image[0x210] = 0x11;
    put32(image, 0x218, 0xdeadbeef);
    put32(image, 0x21c, 0xcafef00d);
    image[0x224] = 0x34;
    image[0x225] = 0x12;
    put32(image, 0x228, 0x12345678);
    auto items = hand_over(image, "quiet");
    CU_ASSERT_TRUE_FATAL(items.ok());
    CU_ASSERT_EQUAL(setup_field(*items, 0x210, 1), 0xb0u);     // type_of_loader
    CU_ASSERT_EQUAL(setup_field(*items, 0x211, 1), 0xa1u);     // loadflags | CAN_USE_HEAP
    CU_ASSERT_EQUAL(setup_field(*items, 0x218, 4), 0u);        // ramdisk_image
    CU_ASSERT_EQUAL(setup_field(*items, 0x21c, 4), 0u);        // ramdisk_size
    CU_ASSERT_EQUAL(setup_field(*items, 0x224, 2), 0xfe00u);   // heap_end_ptr
    CU_ASSERT_EQUAL(setup_field(*items, 0x228, 4), 0x20000u);  // cmd_line_ptr
    CU_ASSERT_EQUAL(kQemuLoaderType, 0xb0);
    // Every other byte of the setup is the file's.
    CU_ASSERT_EQUAL_FATAL(items->setup.size(), 5u * 512);
    auto patched = [](std::size_t i) {
        return i == 0x210 || i == 0x211 || (i >= 0x218 && i < 0x220) || (i >= 0x224 && i < 0x226) ||
               (i >= 0x228 && i < 0x22c);
    };
    std::size_t differing = 0;
    for (std::size_t i = 0; i < items->setup.size(); ++i) {
        if (!patched(i) && items->setup[i] != image[i]) {
            std::fprintf(stderr, "\n  setup byte 0x%zx changed\n", i);
            ++differing;
        }
    }
    CU_ASSERT_EQUAL(differing, 0u);
    CU_ASSERT_EQUAL(items->setup[0x268], 0x5a);
}

void test_can_use_heap_already_set_stays_set() {
    ImageSpec spec;
    spec.loadflags = 0x81;
    auto items = hand_over(build_bzimage(spec));
    CU_ASSERT_TRUE_FATAL(items.ok());
    CU_ASSERT_EQUAL(setup_field(*items, 0x211, 1), 0x81u);
}

void test_kernel_without_64bit_entry_accepted() {
    ImageSpec spec;
    spec.xloadflags = 0x02;  // XLF_CAN_BE_LOADED_ABOVE_4G only, no XLF_KERNEL_64
    Bytes image = build_bzimage(spec);
    // The direct loader refuses it ...
    auto direct = parse_linux_setup_header(image, "k.img");
    CU_ASSERT_FALSE_FATAL(direct.ok());
    CU_ASSERT_TRUE(has(direct.error().message, "the kernel has no 64-bit entry"));
    // ... the firmware enters it through the real-mode setup code.
    CU_ASSERT_TRUE(hand_over(image).ok());
    // Protocol 2.06 has no xloadflags at all.
    spec.version = 0x0206;
    CU_ASSERT_TRUE(hand_over(build_bzimage(spec)).ok());
}

const test::TestCase kHeader[] = {
    {"type_of_loader, loadflags, ramdisk, heap_end_ptr and cmd_line_ptr patched, nothing else",
     test_loader_fields_patched_and_nothing_else},
    {"CAN_USE_HEAP already set stays set", test_can_use_heap_already_set_stays_set},
    {"a kernel without XLF_KERNEL_64 is accepted", test_kernel_without_64bit_entry_accepted},
};

// ------------------------------------------------------------ the initrd

void check_initrd_at(const ImageSpec& spec, std::uint64_t low_ram_end, std::size_t size, std::uint32_t want) {
    Bytes initrd = pattern(size, 3);
    TempFile rd(initrd);
    auto items = hand_over(build_bzimage(spec), "", rd.path(), low_ram_end);
    CU_ASSERT_TRUE_FATAL(items.ok());
    CU_ASSERT_EQUAL(items->initrd_addr, want);
    CU_ASSERT_EQUAL(items->initrd_addr % 4096, 0u);
    CU_ASSERT_TRUE(items->initrd == initrd);
    CU_ASSERT_EQUAL(setup_field(*items, 0x218, 4), want);
    CU_ASSERT_EQUAL(setup_field(*items, 0x21c, 4), size);
}

void test_initrd_below_ram_end_less_firmware_reserve() {
    // initrd_addr_max 0x7fffffff is above RAM: the limit is 64 MiB - 1 MiB.
    check_initrd_at(ImageSpec{}, 64 * kMiB, 0x1801, 63 * kMiB - 0x2000);
    check_initrd_at(ImageSpec{}, 64 * kMiB, 0x2000, 63 * kMiB - 0x2000);
    CU_ASSERT_EQUAL(kFirmwareHighReserve, kMiB);
}

void test_initrd_below_initrd_addr_max() {
    ImageSpec spec;
    spec.initrd_addr_max = 0x2ffffff;  // inclusive: the limit is 48 MiB
    check_initrd_at(spec, 64 * kMiB, 0x1801, 48 * kMiB - 0x2000);
    // Not page aligned: the limit still stays above the initrd's end.
    spec.initrd_addr_max = 0x2fff7ff;
    check_initrd_at(spec, 64 * kMiB, 0x1000, 48 * kMiB - 0x2000);
    // A 3 GiB machine: the kernel's 2 GiB limit wins.
    check_initrd_at(ImageSpec{}, 3 * kGiB, 0x1000, 0x7ffff000);
}

void test_initrd_addr_max_zero_means_protocol_default() {
    ImageSpec spec;
    spec.initrd_addr_max = 0;  // boot.rst: 0x37ffffff for kernels that leave it out
    check_initrd_at(spec, 2 * kGiB, 0x1000, 0x38000000 - 0x1000);
}

void test_initrd_exactly_filling_the_room_fits() {
    ImageSpec spec;
    spec.init_size = 0xdff000;  // the kernel ends at 0xeff000, 4 KiB below 15 MiB
    check_initrd_at(spec, 16 * kMiB, 0x1000, 0xeff000);
}

const test::TestCase kInitrd[] = {
    {"page aligned, highest below the end of low RAM less 1 MiB", test_initrd_below_ram_end_less_firmware_reserve},
    {"page aligned, highest below initrd_addr_max + 1", test_initrd_below_initrd_addr_max},
    {"initrd_addr_max 0 means 0x37ffffff", test_initrd_addr_max_zero_means_protocol_default},
    {"an initrd exactly filling the room after the kernel fits", test_initrd_exactly_filling_the_room_fits},
};

// --------------------------------------------------------------- errors

void test_append_longer_than_cmdline_size_refused() {
    ImageSpec spec;
    spec.cmdline_size = 8;
    Bytes image = build_bzimage(spec);
    CU_ASSERT_TRUE(hand_over(image, "12345678").ok());
    auto r = hand_over(image, "console=ttyS0");
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().code, E2BIG);
    CU_ASSERT_TRUE(has(r.error().message, "k.img: -append is 13 bytes, longer than the kernel's cmdline_size (8)"));
}

void test_initrd_one_byte_too_large_refused() {
    ImageSpec spec;
    spec.init_size = 0xdff000;
    TempFile rd(pattern(0x1001, 3));
    auto r = hand_over(build_bzimage(spec), "", rd.path(), 16 * kMiB);
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().code, ENOSPC);
    CU_ASSERT_TRUE(has(r.error().message, rd.path() + ": the initrd (4097 bytes) does not fit between the kernel's end "
                                                      "0xeff000 and 0xf00000"));
    CU_ASSERT_TRUE(has(r.error().message, "give more -m"));
    CU_ASSERT_EQUAL(r.error().message.find('\n'), std::string::npos);
}

void test_initrd_with_no_ram_above_the_reserve_refused() {
    TempFile rd(pattern(0x1000, 3));
    auto r = hand_over(build_bzimage(ImageSpec{}), "", rd.path(), kMiB);
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().code, ENOSPC);
    CU_ASSERT_TRUE(has(r.error().message, rd.path() + ": the initrd (4096 bytes) does not fit"));
}

void test_initrd_kernel_end_uses_larger_of_init_size_and_file() {
    // A kernel file longer than init_size: its end is 0x100000 + the file's kernel part.
    ImageSpec spec;
    spec.init_size = 0x1000;
    spec.kernel_bytes = 0x3000;
    TempFile rd(pattern(0x1000, 3));
    auto r = hand_over(build_bzimage(spec), "", rd.path(), 0x104000 + kMiB);
    CU_ASSERT_TRUE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r->initrd_addr, 0x103000u);
    TempFile big(pattern(0x1001, 3));
    r = hand_over(build_bzimage(spec), "", big.path(), 0x104000 + kMiB);
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_TRUE(has(r.error().message, "does not fit between the kernel's end 0x103000 and 0x104000"));
}

void test_missing_initrd_file_refused() {
    auto r = hand_over(build_bzimage(ImageSpec{}), "", "/nonexistent/initrd.img");
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().code, ENOENT);
    CU_ASSERT_TRUE(has(r.error().message, "/nonexistent/initrd.img: cannot open"));
}

void test_truncated_bzimage_refused() {
    Bytes image = build_bzimage(ImageSpec{});
    auto r = hand_over(Bytes(image.begin(), image.begin() + 3 * 512));
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().code, ENOEXEC);
    CU_ASSERT_TRUE(has(r.error().message,
                       "k.img: truncated bzImage: the setup code ends at 0xa00 (setup_sects 4) and the file has "
                       "1536 bytes"));
    r = hand_over(Bytes(image.begin(), image.end() - 16));
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().code, ENOEXEC);
    CU_ASSERT_TRUE(has(r.error().message, "k.img: truncated bzImage: the protected-mode kernel at 0xa00"));
}

void test_protocol_older_than_2_06_refused() {
    ImageSpec spec;
    spec.version = 0x0205;
    auto r = hand_over(build_bzimage(spec));
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().code, ENOEXEC);
    CU_ASSERT_TRUE(has(r.error().message, "k.img: Linux boot protocol 2.05 is too old"));
}

const test::TestCase kErrors[] = {
    {"-append longer than cmdline_size is E2BIG", test_append_longer_than_cmdline_size_refused},
    {"an initrd a byte larger than the room is ENOSPC naming the initrd", test_initrd_one_byte_too_large_refused},
    {"an initrd with no RAM above the firmware's reserve is ENOSPC", test_initrd_with_no_ram_above_the_reserve_refused},
    {"the kernel's end is the larger of init_size and its file part",
     test_initrd_kernel_end_uses_larger_of_init_size_and_file},
    {"a missing initrd file is refused with its path", test_missing_initrd_file_refused},
    {"a truncated bzImage is refused", test_truncated_bzimage_refused},
    {"boot protocol older than 2.06 is refused", test_protocol_older_than_2_06_refused},
};

const test::TestSuite kSuites[] = {
    {"firmware handoff: setup, kernel, command line", kSplit},
    {"firmware handoff: setup header", kHeader},
    {"firmware handoff: initrd placement", kInitrd},
    {"firmware handoff: errors", kErrors},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
