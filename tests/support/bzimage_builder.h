// Builds synthetic Linux x86 bzImages in memory for the loader unit tests
// (linux_loader, linux_firmware_handoff, pc_lite): a boot sector with a
// setup header, setup sectors, and a patterned "protected-mode kernel".
// Test-only: no input checking; pure functions, any thread.
//
// Layout of an image from build_bzimage() (Linux Documentation/arch/x86/
// boot.rst, "The Real-Mode Kernel Header"; offsets in bytes):
//
//   0                  boot sector and setup sectors, zero but for the
//                      header: (S + 1) * 512 bytes, S = setup_sects or 4
//                      when it is 0
//   (S + 1) * 512      the protected-mode kernel: pattern(kernel_bytes, 7)
//
// Header fields written (all others zero):
//   0x1f1 setup_sects      0x1f4 syssize = kernel_bytes / 16
//   0x1fe boot_flag 0xaa55 0x200 jump 0xeb 0x6a (the header ends at 0x26c)
//   0x202 "HdrS"           0x206 version           0x211 loadflags
//   0x22c initrd_addr_max  0x230 kernel_alignment  0x234 relocatable_kernel
//   0x236 xloadflags       0x238 cmdline_size      0x258 pref_address
//   0x260 init_size        0x268 0x5a (a header byte a loader must carry over)
#pragma once

#include <cstddef>
#include <cstdint>

#include "tests/support/elf_builder.h"

namespace kvmdbg::test {

/// The header fields a synthetic bzImage gets (Debian 12's kernel has these
/// values except init_size, which is 0x3378000 there).
struct ImageSpec {
    std::uint8_t setup_sects = 4;
    std::uint16_t version = 0x020f;
    std::uint8_t loadflags = 0x01;
    std::uint32_t initrd_addr_max = 0x7fffffff;
    std::uint32_t kernel_alignment = 0x200000;
    std::uint8_t relocatable = 1;
    std::uint16_t xloadflags = 0x7f;
    std::uint32_t cmdline_size = 0x7ff;
    std::uint64_t pref_address = 0x1000000;
    std::uint32_t init_size = 0x400000;
    std::size_t kernel_bytes = 0x3000;
};

/// A bzImage with the header of `spec`, laid out as described at the top of
/// this file.
Bytes build_bzimage(const ImageSpec& spec);

}  // namespace kvmdbg::test
