// The Linux x86 "zero page": struct boot_params, the 4 KiB the boot loader
// hands the kernel (RSI at the 64-bit entry), and the e820 memory map in it
// (Linux Documentation/arch/x86/boot.rst, "64-bit Boot Protocol";
// Documentation/arch/x86/zero-page.rst; arch/x86/include/uapi/asm/bootparam.h).
//
//   offset  size  field                 what kvmdbg writes
//   0x0c0   u32   ext_ramdisk_image     ramdisk address bits 63:32 (0 below 4 GiB)
//   0x0c4   u32   ext_ramdisk_size      ramdisk size bits 63:32
//   0x0c8   u32   ext_cmd_line_ptr      command line address bits 63:32
//   0x1e8   u8    e820_entries          number of e820_table entries
//   0x1f1   ...   hdr                   the file's setup header, byte for
//                                       byte from 0x1f1 to its end (0x202 +
//                                       the byte at 0x201), then:
//   0x210   u8      type_of_loader      0xff (a loader without an assigned id)
//   0x218   u32     ramdisk_image       initrd address (0: none)
//   0x21c   u32     ramdisk_size        initrd bytes
//   0x228   u32     cmd_line_ptr        command line address
//   0x2d0   20 * n  e820_table          {u64 addr, u64 size, u32 type}, n <= 128
//
// Everything else is zero (no screen, no EDD, no EFI, no ACPI RSDP: Linux
// scans the BIOS area for the RSDP and the MP table and finds neither).
// Pure; any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "hw-models/loaders/gpa_range.h"

namespace kvmdbg::hw {

inline constexpr std::size_t kLinuxBootParamsSize = 4096;
inline constexpr std::size_t kBootParamsExtRamdiskImage = 0x0c0;
inline constexpr std::size_t kBootParamsExtRamdiskSize = 0x0c4;
inline constexpr std::size_t kBootParamsExtCmdLinePtr = 0x0c8;
inline constexpr std::size_t kBootParamsE820Entries = 0x1e8;
inline constexpr std::size_t kBootParamsTypeOfLoader = 0x210;
inline constexpr std::size_t kBootParamsRamdiskImage = 0x218;
inline constexpr std::size_t kBootParamsRamdiskSize = 0x21c;
inline constexpr std::size_t kBootParamsCmdLinePtr = 0x228;
inline constexpr std::size_t kBootParamsE820Table = 0x2d0;
/// End of the setup header's room in boot_params (edd_mbr_sig_buffer follows).
inline constexpr std::size_t kBootParamsSetupHeaderEnd = 0x290;
inline constexpr std::size_t kE820EntrySize = 20;
/// E820_MAX_ENTRIES_ZEROPAGE: the table's room in boot_params.
inline constexpr std::size_t kE820MaxEntries = 128;
inline constexpr std::uint8_t kTypeOfLoaderUndefined = 0xff;

enum class E820Type : std::uint32_t { ram = 1, reserved = 2 };

struct E820Entry {
    std::uint64_t addr = 0;
    std::uint64_t size = 0;
    E820Type type = E820Type::ram;

    bool operator==(const E820Entry&) const = default;
};

/// Writes `entry` as the 20 bytes of an e820 table entry (kE820EntrySize:
/// le64 addr, le64 size, le32 type), as boot_params and fw_cfg's
/// "etc/e820" both lay it out.
void write_e820_entry(std::uint8_t* out, const E820Entry& entry);

/// The e820 map of `ram` with `reserved` taken out of it: sorted by
/// address, adjacent ranges of one type merged; a reserved range wins over
/// RAM; reserved ranges outside RAM (a ROM) are listed too, holes are not.
std::vector<E820Entry> build_e820_map(std::span<const GpaRange> ram, std::span<const GpaRange> reserved);

/// What goes into boot_params besides the setup header.
struct LinuxBootParamsInput {
    std::span<const std::uint8_t> setup_header;  ///< the file's bytes [0x1f1, header end)
    std::uint64_t cmd_line_ptr = 0;
    std::uint64_t ramdisk_image = 0;  ///< 0: no initrd
    std::uint64_t ramdisk_size = 0;
    std::vector<E820Entry> e820;
};

/// The 4 KiB of boot_params (layout above). The setup header is copied only
/// up to kBootParamsSetupHeaderEnd. Errors: EINVAL for more than 128 e820
/// entries or a setup header that does not start at 0x1f1's room.
Result<std::array<std::uint8_t, kLinuxBootParamsSize>> build_linux_boot_params(const LinuxBootParamsInput& input);

}  // namespace kvmdbg::hw
