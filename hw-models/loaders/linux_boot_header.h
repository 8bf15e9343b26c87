// The Linux x86 boot protocol's setup header: what a bzImage says about
// itself, read and checked before anything is loaded (Linux
// Documentation/arch/x86/boot.rst, "The Real-Mode Kernel Header" and
// "Details of Header Fields").
//
// A bzImage file:
//
//   0x000  boot sector (512 bytes); its last bytes start the setup header:
//   0x1f1  setup_sects      u8   setup sectors after the boot sector (0: 4)
//   0x1f4  syssize          u32  protected-mode code size, 16-byte units (2.04+)
//   0x1fe  boot_flag        u16  0xaa55
//   0x200  jump             u16  0xeb XX: the header ends at 0x202 + XX
//   0x202  header           u32  "HdrS" (boot protocol 2.00+)
//   0x206  version          u16  protocol version, 0x020f = 2.15
//   0x211  loadflags        u8   bit 0 LOADED_HIGH (bzImage)
//   0x22c  initrd_addr_max  u32  highest byte an initrd may use (2.03+)
//   0x230  kernel_alignment u32  (2.05+)
//   0x234  relocatable_kernel u8 (2.05+)
//   0x236  xloadflags       u16  bit 0 XLF_KERNEL_64: the 64-bit entry at
//                                load address + 0x200 exists (2.12+)
//   0x238  cmdline_size     u32  longest command line, NUL excluded (2.06+)
//   0x258  pref_address     u64  preferred load address (2.10+)
//   0x260  init_size        u32  bytes the kernel needs from its load
//                                address while it decompresses (2.10+)
//   (setup_sects + 1) * 512      the protected-mode kernel, to the end
//
// Fields of a protocol version older than the one that introduced them read
// as 0. Pure; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common/result.h"

namespace kvmdbg::hw {

inline constexpr std::size_t kLinuxSetupHeaderOffset = 0x1f1;
inline constexpr std::size_t kLinuxBootFlagOffset = 0x1fe;
inline constexpr std::uint16_t kLinuxBootFlag = 0xaa55;
inline constexpr std::size_t kLinuxHeaderMagicOffset = 0x202;
/// The oldest protocol kvmdbg loads (cmdline_size exists from 2.06).
inline constexpr std::uint16_t kLinuxMinProtocol = 0x0206;
inline constexpr std::uint8_t kLinuxLoadedHigh = 0x01;    ///< loadflags bit 0
inline constexpr std::uint16_t kLinuxXlfKernel64 = 0x01;  ///< xloadflags bit 0
/// The 64-bit entry point's offset from the protected-mode kernel's start.
inline constexpr std::uint64_t kLinux64BitEntryOffset = 0x200;

/// What kvmdbg uses of a bzImage's setup header (layout above).
struct LinuxSetupHeader {
    std::uint8_t setup_sects = 0;  ///< as given (0 means 4)
    std::uint16_t version = 0;
    std::uint8_t loadflags = 0;
    std::uint32_t syssize = 0;
    std::uint32_t initrd_addr_max = 0;
    std::uint32_t kernel_alignment = 0;
    bool relocatable = false;
    std::uint16_t xloadflags = 0;
    std::uint32_t cmdline_size = 0;
    std::uint64_t pref_address = 0;
    std::uint32_t init_size = 0;

    /// End of the setup header in the file: 0x202 + the byte at 0x201.
    std::size_t header_end = 0;
    /// File offset of the protected-mode kernel: (setup_sects or 4, + 1) * 512.
    std::size_t kernel_offset = 0;
    /// Bytes of the protected-mode kernel: the rest of the file.
    std::size_t kernel_size = 0;
};

/// Who enters the kernel: kvmdbg itself through the 64-bit entry
/// (linux_loader.h), or firmware running the real-mode setup code
/// (linux_firmware_handoff.h), which any bzImage has.
enum class LinuxEntry { direct_64bit, real_mode_setup };

/// true if `file` has the boot flag 0xaa55 at 0x1fe.
bool has_linux_boot_flag(std::span<const std::uint8_t> file);
/// true if `file` has "HdrS" at 0x202.
bool has_linux_header_magic(std::span<const std::uint8_t> file);

/// "2.15" for 0x020f.
std::string linux_protocol_text(std::uint16_t version);

/// Reads and checks the setup header of the bzImage `file`. Errors, ENOEXEC,
/// each message "PATH: ..." in one line:
///   - "truncated bzImage: ..." (no whole boot sector; the setup sectors
///     or the syssize * 16 bytes of protected-mode code are cut short),
///   - "no boot flag 0xaa55 at 0x1fe: not a Linux boot image",
///   - "no \"HdrS\" magic at 0x202: ...",
///   - "Linux boot protocol X.YY is too old: kvmdbg needs 2.06 or later",
///   - "not a bzImage: LOADED_HIGH (loadflags bit 0) is clear ...",
///   - "the kernel has no 64-bit entry (XLF_KERNEL_64 clear ...)" (for
///     LinuxEntry::direct_64bit only).
Result<LinuxSetupHeader> parse_linux_setup_header(std::span<const std::uint8_t> file, const std::string& path,
                                                  LinuxEntry entry = LinuxEntry::direct_64bit);

/// E2BIG "PATH: -append is N bytes, longer than the kernel's cmdline_size
/// (M)" for a command line of `length` bytes (NUL not counted) the kernel
/// cannot take.
Status check_linux_cmdline_size(const LinuxSetupHeader& header, std::uint64_t length, const std::string& path);

/// Where an initrd of `size` bytes goes, as boot loaders place it: as high
/// as possible, page-aligned, ending at or below the lower of `limit` and
/// the kernel's initrd_addr_max + 1 (0x38000000 for a header whose field is
/// 0, boot.rst: protocol 2.02 and older), starting at or above `kernel_end`.
/// std::nullopt if it does not fit; *end_limit says where it had to end.
std::optional<std::uint64_t> place_linux_initrd(const LinuxSetupHeader& header, std::uint64_t size,
                                                std::uint64_t kernel_end, std::uint64_t limit,
                                                std::uint64_t* end_limit);

}  // namespace kvmdbg::hw
