// The Linux x86-64 boot protocol, as `qemu-system-x86_64 -kernel bzImage
// [-initrd F] [-append S]` boots it but through the 64-bit entry (Linux
// Documentation/arch/x86/boot.rst, "64-bit Boot Protocol"; Firecracker and
// cloud-hypervisor enter the same way): no real-mode setup code runs.
//
// Guest-physical layout (low RAM; the boot tables are reserved in e820):
//
//   0x001000  boot GDT (arch/x86/boot_tables.h, write_linux_boot_gdt:
//             __BOOT_CS 0x10, __BOOT_DS 0x18), rest of the page zero
//   0x002000  identity page tables for [0, 4 GiB), 2 MiB pages (6 pages);
//             CR3 = 0x2000
//   0x008000  the boot stack page, RSP = 0x9000 (the kernel's first
//             instructions push a far return before they switch stacks)
//   0x010000  boot_params, the zero page (linux_boot_params.h); RSI
//   0x020000  the command line (-append), NUL-terminated, at most the
//             kernel's cmdline_size and below the EBDA at 0x9fc00
//   L         the protected-mode kernel: the file from (setup_sects + 1) *
//             512 on, at L = pref_address (protocol 2.10+, else 0x100000;
//             rounded up to kernel_alignment if the kernel is relocatable).
//             [L, L + init_size) must be RAM below 4 GiB, above 1 MiB.
//   I         the initrd (-initrd, one file), page aligned, as high as
//             possible below min(initrd_addr_max + 1, the end of the RAM
//             region holding L, 4 GiB) and above L + init_size.
//
// e820 (build_e820_map): RAM as the machine has it, with reserved
//   [0x1000, 0x9000) (boot GDT, page tables, stack), [0x9fc00, 0x100000)
//   (EBDA and BIOS area, as SeaBIOS reports them) and the machine's own
//   reserved ranges (pc-lite: its firmware ROM).
//
// vCPU 0 enters in 64-bit mode at L + 0x200 with CR0 PE|PG (and MP, ET, NE,
// WP), CR4 PAE (and OSFXSR, OSXMMEXCPT), EFER LME|LMA, interrupts off, RSI
// = 0x10000. The APs wait for INIT/SIPI, which Linux sends through the
// local APIC.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "hw-models/guest_ram.h"
#include "hw-models/loaders/gpa_range.h"
#include "hw-models/loaders/image_file.h"
#include "hw-models/loaders/linux_boot_header.h"
#include "hw-models/loaders/x86_boot_plan.h"

namespace kvmdbg::hw {

inline constexpr std::uint64_t kLinuxBootGdtGpa = 0x1000;
inline constexpr std::uint64_t kLinuxPageTablesGpa = 0x2000;
inline constexpr std::uint64_t kLinuxBootStackTop = 0x9000;
inline constexpr std::uint64_t kLinuxBootParamsGpa = 0x10000;
inline constexpr std::uint64_t kLinuxCmdlineGpa = 0x20000;
/// The EBDA's start: the command line stays below it.
inline constexpr std::uint64_t kLinuxCmdlineLimit = 0x9fc00;
/// Where the classic protocol loads the protected-mode kernel.
inline constexpr std::uint64_t kLinuxClassicLoadAddress = 0x100000;
/// The identity map covers [0, 4 GiB).
inline constexpr std::uint64_t kLinuxIdentityMapTop = 4ull << 30;

/// What the command line gives besides the kernel.
struct LinuxLoadOptions {
    std::string cmdline;      ///< -append
    std::string initrd_path;  ///< -initrd: one file, or empty
    /// Machine ranges to list as reserved in e820 (pc-lite: the ROM).
    std::vector<GpaRange> reserved;
};

/// Where the kernel, command line and initrd go (layout above).
struct LinuxLayout {
    std::uint64_t kernel_load = 0;  ///< L
    std::uint64_t kernel_end = 0;   ///< L + max(init_size, kernel file bytes)
    std::uint64_t cmdline_gpa = kLinuxCmdlineGpa;
    std::uint64_t initrd_gpa = 0;  ///< 0: no initrd
    std::uint64_t initrd_size = 0;
};

/// Places the kernel, a command line of `cmdline_length` bytes (NUL not
/// counted) and an initrd of `initrd_size` bytes (0: none) in `ram`. Pure.
/// Errors, ENOEXEC/ENOMEM/E2BIG/ENOSPC, one line each starting with `path`
/// (the kernel's) or `initrd_path`: a load address below 1 MiB; [L, L +
/// init_size) not in RAM below 4 GiB; a command line longer than
/// cmdline_size or than the room below the EBDA; an initrd that does not
/// fit between the kernel's end and its limit.
Result<LinuxLayout> plan_linux_layout(const LinuxSetupHeader& header, std::uint64_t cmdline_length,
                                      std::uint64_t initrd_size, const GuestRam& ram, const std::string& path,
                                      const std::string& initrd_path);

/// Loads the bzImage `kernel` (and options.initrd_path) into `ram` and
/// returns the plan: vCPU 0 at the 64-bit entry, the APs waiting for
/// INIT/SIPI; plan.loaded lists the boot tables and stack, boot_params,
/// the command line, the kernel and the initrd. Main thread, before the
/// vCPUs run; RAM is written only after every check passed. Logs under
/// LogCategory::loader. Errors: those of parse_linux_setup_header(),
/// plan_linux_layout() and read_image_file() for the initrd.
Result<X86BootPlan> load_linux(const ImageFile& kernel, const LinuxLoadOptions& options, GuestRam& ram, Log& log);

}  // namespace kvmdbg::hw
