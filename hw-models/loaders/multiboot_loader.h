// Multiboot v1 kernel loader, with the semantics of QEMU's `-kernel`
// (hw/i386/multiboot.c) but without an option ROM: the image, the modules
// and the boot information go straight into guest RAM and vCPU 0 starts at
// the kernel's entry in 32-bit protected mode (Multiboot spec 0.6.96,
// section 3.2 "Machine state").
//
// Guest-physical layout, all page-aligned steps counted from the kernel's
// load address L (QEMU's mb_buf):
//
//   L                          kernel image (a.out kludge: file bytes then
//                              bss zeroes; ELF: the PT_LOAD span [low, high))
//   L + A, A = align(size)     module list: 16-byte mods entries (spec 3.3:
//                              mod_start, mod_end, string, reserved),
//                              then the strings: each module's string, the
//                              kernel command line, the loader name "kvmdbg"
//   L + B, B = align(A + ...)  module 0, then each next module page aligned
//   I = align(end of last)     the boot information page (not in QEMU, which
//                              keeps it at 0x9500 via its option ROM):
//        I + 0x000             multiboot_info (88 bytes, spec 3.3)
//        I + 0x058             memory map, 24-byte entries (size = 20 first)
//        I + 0x800             boot GDT (arch/x86/boot_tables.h), GDTR base
//
// The information (spec 3.3) has flags MEM|BOOT_DEVICE|CMDLINE|MODS|MMAP|
// LOADER_NAME (0x24f), boot_device = 0x8000ffff, cmdline = "<kernel path>
// <append>" exactly as QEMU builds it (the path, one space, then -append, so
// an empty -append leaves a trailing space).
//
// Memory fields: what a kernel sees under `qemu-system-x86_64 -kernel`, i.e.
// what QEMU's multiboot option ROM (pc-bios/optionrom/multiboot.S) reads
// from SeaBIOS at boot: the memory map is SeaBIOS's e820 map, mem_lower is
// int 0x12 and mem_upper is the length of the map entry starting at 1 MiB.
// Kernels written against QEMU (Xen places its trampoline from these) see
// the same numbers here. With T = the end of the RAM region at 0 (the low
// RAM below 4 GiB), the map is, in this order:
//   [0, 0x9fc00)              1 available  (conventional memory)
//   [0x9fc00, 0xa0000)        2 reserved   (EBDA, 1 KiB)
//   [0xf0000, 0x100000)       2 reserved   (BIOS area)
//   [0x100000, T - 0x20000)   1 available
//   [T - 0x20000, T)          2 reserved   (SeaBIOS's high tables, 128 KiB)
//   [0xfffc0000, 4 GiB)       2 reserved   (BIOS ROM)
//   each RAM region at or above 4 GiB, 1 available
// mem_lower = 639 and mem_upper = (T - 0x20000 - 1 MiB) / 1024: for -m 128M
// that is 129920 (QEMU 7.2 + SeaBIOS give the same). pc-lite has no BIOS:
// the reserved ranges below T are RAM that nothing uses, kept out of the
// kernel's way only so that its view is QEMU's, and [0xfffc0000, 4 GiB) is
// unassigned. Loading itself does not avoid them (QEMU does not either) and
// may use [0xa0000, 0x100000): pc-lite has RAM there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "hw-models/guest_ram.h"
#include "hw-models/loaders/image_file.h"
#include "hw-models/loaders/x86_boot_plan.h"

namespace kvmdbg::hw {

inline constexpr std::uint32_t kMultibootHeaderMagic = 0x1BADB002;
inline constexpr std::uint32_t kMultibootBootloaderMagic = 0x2BADB002;
/// The header must lie in the first 8 KiB; QEMU stops its scan at 8192 - 48.
inline constexpr std::size_t kMultibootSearchLimit = 8192;

/// Result of scanning an image for a Multiboot v1 header.
struct MultibootHeaderScan {
    /// Offset of the first 4-byte aligned header whose magic + flags +
    /// checksum == 0 (mod 2^32) below 8192 - 48, as QEMU searches.
    std::optional<std::size_t> header;
    /// Offset of the first magic found there whose checksum is wrong.
    std::optional<std::size_t> bad_checksum;
};

/// Scans the start of `file`. Pure; never reads past the end of `file`.
MultibootHeaderScan scan_multiboot_header(std::span<const std::uint8_t> file);

/// One multiboot module from a QEMU `-initrd` list.
struct MultibootModule {
    std::string path;                 ///< the file to load
    std::optional<std::string> args;  ///< text after the first space, if any

    /// The module's string as the guest sees it (QEMU passes the whole list
    /// item): `path`, or path + ' ' + *args.
    std::string string() const { return args ? path + ' ' + *args : path; }
};

/// Splits QEMU's `-initrd "file1 arg arg,file2"` syntax: items are comma
/// separated, ",," stands for a literal comma, a trailing comma ends the
/// list, and each item's first space separates the path from its arguments.
/// An empty spec gives no modules. Pure.
std::vector<MultibootModule> parse_multiboot_modules(std::string_view spec);

struct MultibootOptions {
    std::string append;   ///< -append; may be empty
    std::string modules;  ///< the raw -initrd spec; empty: no modules
};

/// Loads `kernel` (its path names it in errors and starts the command line)
/// and the modules into `ram` and returns the plan: vCPU 0 in protected mode
/// at the entry with EAX = 0x2BADB002, EBX = the info address; APs wait
/// for SIPI; plan.loaded lists the kernel span, the module list + strings +
/// modules, and the info page. Logs placements under LogCategory::loader.
/// Main thread, before the vCPUs run. RAM is written only after every check
/// passed, except that a module read error can come after nothing was
/// written either.
///
/// Errors (messages start with the file's path): ENOEXEC no header, bad
/// checksum, truncated header, a.out kludge fields inconsistent
/// (header_addr < load_addr, header_addr - load_addr beyond the header's
/// offset, load_end_addr < load_addr, bss_end_addr below the loaded end,
/// beyond 4 GiB), truncated file, "cannot load a 64-bit ELF as multiboot;
/// give a 32-bit one", ELF errors (elf_image.h); EFBIG image larger than
/// RAM; EFAULT a segment, the kernel, a module or the info page outside RAM
/// (naming the address range); module file errors (image_file.h); EINVAL
/// an empty module name.
Result<X86BootPlan> load_multiboot(const ImageFile& kernel, const MultibootOptions& options, GuestRam& ram, Log& log);

}  // namespace kvmdbg::hw
