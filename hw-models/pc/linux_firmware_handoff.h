// A Linux bzImage handed to firmware instead of booted directly: `-bios`
// with `-kernel`/`-initrd`/`-append`, as QEMU's pc machines do it
// (x86_load_linux with fw_cfg). kvmdbg loads nothing into RAM; it fills
// fw_cfg's kernel items (fw_cfg.h, FwCfgKernelItems) and the firmware's
// option ROM (QEMU's linuxboot_dma.bin, run by SeaBIOS from fw_cfg's
// "genroms/") copies them into place and jumps to the kernel's real-mode
// setup code, which then calls the firmware (e820, video) and enters the
// kernel as on a PC booted from disk.
//
// Layout (QEMU's, for boot protocol 2.02 and later; kvmdbg takes 2.06+):
//
//   0x010000  setup      the boot sector and setup sectors, (setup_sects +
//                        1) * 512 bytes, with the header fields a boot
//                        loader fills (below); FW_CFG_SETUP_*
//   0x020000  cmdline    -append and its NUL; FW_CFG_CMDLINE_*
//   0x100000  kernel     the protected-mode part (code32_start);
//                        FW_CFG_KERNEL_*
//   I         initrd     page aligned, as high as possible below the
//                        lowest of initrd_addr_max + 1 and the end of RAM
//                        below 4 GiB less kFirmwareHighReserve (where
//                        SeaBIOS keeps its tables); FW_CFG_INITRD_*
//
// Header fields filled in the setup copy (Linux Documentation/arch/x86/
// boot.rst, "Details of Header Fields"):
//   0x210 type_of_loader   0xb0 (QEMU's loader id)
//   0x211 loadflags        |= CAN_USE_HEAP (0x80)
//   0x218 ramdisk_image    I (0 without -initrd)
//   0x21c ramdisk_size
//   0x224 heap_end_ptr     0xfe00: the heap ends 0x200 below the command
//                          line, relative to the setup code
//   0x228 cmd_line_ptr     0x20000
//
// Pure; any thread.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "hw-models/devices/fw_cfg.h"
#include "hw-models/loaders/image_file.h"

namespace kvmdbg::hw {

inline constexpr std::uint32_t kFirmwareLinuxSetupAddr = 0x10000;
inline constexpr std::uint32_t kFirmwareLinuxCmdlineAddr = 0x20000;
inline constexpr std::uint32_t kFirmwareLinuxKernelAddr = 0x100000;
/// Bytes at the top of RAM below 4 GiB the initrd stays out of: SeaBIOS
/// allocates its high tables (ACPI, SMBIOS, its own data) there, up to its
/// BUILD_MAX_HIGHTABLE of 256 KiB; one MiB leaves room for other firmware.
inline constexpr std::uint64_t kFirmwareHighReserve = 1ull << 20;
/// The boot loader id QEMU writes into type_of_loader.
inline constexpr std::uint8_t kQemuLoaderType = 0xb0;

struct LinuxFirmwareHandoff {
    std::string cmdline;      ///< -append
    std::string initrd_path;  ///< -initrd: one file, or empty
    /// The end of the RAM region at 0 (pc-lite: min(-m, 3 GiB)).
    std::uint64_t low_ram_end = 0;
};

/// The fw_cfg kernel items for the bzImage `kernel` (layout above).
/// Errors, one line each starting with the kernel's or the initrd's path:
/// those of parse_linux_setup_header() (any bzImage of protocol 2.06 or
/// later; no 64-bit entry needed), E2BIG for -append longer than the
/// kernel's cmdline_size, ENOSPC for an initrd that does not fit between
/// the kernel's end (0x100000 + init_size) and its limit, and
/// read_image_file()'s for the initrd.
Result<FwCfgKernelItems> linux_firmware_handoff(const ImageFile& kernel, const LinuxFirmwareHandoff& options);

}  // namespace kvmdbg::hw
