// FwCfgItems: the items a fw_cfg device (fw_cfg.h) serves, and its file
// directory, laid out as QEMU's docs/specs/fw_cfg.rst and hw/nvram/fw_cfg.c
// define them.
//
// An item is a byte string under a 16-bit selector key:
//
//    15       14         13 .. 0
//   +--------+----------+-----------------+
//   | arch   | (write   | item index      |
//   | local  | channel) |                 |
//   +--------+----------+-----------------+
//
// Bit 15 picks the architecture-specific table (x86: 0x8000 and up), bit 14
// is ignored when an item is looked up (QEMU's FW_CFG_ENTRY_MASK); indexes
// at or above kFileFirst + kFileSlots select nothing. Numbers are stored
// little-endian (QEMU's fw_cfg_add_i16/i32/i64); the file directory is
// big-endian:
//
//   FW_CFG_FILE_DIR (0x0019):
//     be32 count
//     count x { be32 size; be16 select; be16 reserved (0); char name[56]; }
//
// Files get selectors from kFileFirst (0x0020) on, in strcmp() order of
// their names, renumbered on every insertion, as QEMU's
// fw_cfg_add_file_callback does for current machine types.
//
// Threads: filled by the machine on the main thread before vCPUs start,
// then only read (by the device, under the bus lock).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace kvmdbg::hw {

/// Selector keys (QEMU include/standard-headers/linux/qemu_fw_cfg.h).
namespace fw_cfg_key {
inline constexpr std::uint16_t kSignature = 0x0000;  ///< "QEMU"
inline constexpr std::uint16_t kId = 0x0001;         ///< le32 feature bits
inline constexpr std::uint16_t kUuid = 0x0002;       ///< 16 bytes
inline constexpr std::uint16_t kRamSize = 0x0003;    ///< le64
inline constexpr std::uint16_t kNbCpus = 0x0005;     ///< le16
inline constexpr std::uint16_t kKernelAddr = 0x0007;
inline constexpr std::uint16_t kKernelSize = 0x0008;
inline constexpr std::uint16_t kInitrdAddr = 0x000a;
inline constexpr std::uint16_t kInitrdSize = 0x000b;
inline constexpr std::uint16_t kMaxCpus = 0x000f;  ///< le16
inline constexpr std::uint16_t kKernelData = 0x0011;
inline constexpr std::uint16_t kInitrdData = 0x0012;
inline constexpr std::uint16_t kCmdlineAddr = 0x0013;
inline constexpr std::uint16_t kCmdlineSize = 0x0014;
inline constexpr std::uint16_t kCmdlineData = 0x0015;
inline constexpr std::uint16_t kSetupAddr = 0x0016;
inline constexpr std::uint16_t kSetupSize = 0x0017;
inline constexpr std::uint16_t kSetupData = 0x0018;
inline constexpr std::uint16_t kFileDir = 0x0019;
inline constexpr std::uint16_t kFileFirst = 0x0020;
inline constexpr std::uint16_t kWriteChannel = 0x4000;
inline constexpr std::uint16_t kArchLocal = 0x8000;
inline constexpr std::uint16_t kEntryMask = 0x3fff;
}  // namespace fw_cfg_key

class FwCfgItems {
public:
    /// QEMU's FW_CFG_FILE_SLOTS_DFLT: how many files fit.
    static constexpr std::uint16_t kFileSlots = 0x20;
    /// QEMU's FW_CFG_MAX_FILE_PATH, the NUL included.
    static constexpr std::size_t kMaxFileName = 56;
    static constexpr std::size_t kFileDirEntrySize = 64;
    /// Items are shorter than this (their sizes are 32-bit).
    static constexpr std::size_t kMaxItemSize = 0xffffffff;

    FwCfgItems();

    /// Sets (or replaces) the item at `key`, which must be a fixed item:
    /// index below kFileFirst but not FW_CFG_FILE_DIR, bit 14 clear.
    /// Errors: EINVAL otherwise, or for kMaxItemSize bytes or more.
    Status set(std::uint16_t key, std::vector<std::uint8_t> bytes);
    Status set_u16(std::uint16_t key, std::uint16_t value);
    Status set_u32(std::uint16_t key, std::uint32_t value);
    Status set_u64(std::uint16_t key, std::uint64_t value);

    /// Adds the file `name` and rebuilds the directory. Errors: EINVAL for
    /// an empty name or one of kMaxFileName bytes or more (or with a NUL),
    /// or kMaxItemSize bytes or more of content, EEXIST for a
    /// name already there, ENOSPC when all kFileSlots are taken.
    Status add_file(const std::string& name, std::vector<std::uint8_t> bytes);

    /// The selector of file `name`, or 0 when there is none.
    std::uint16_t file_selector(const std::string& name) const;

    /// The bytes of the item `key` selects (bit 14 ignored); empty for a key
    /// that selects nothing or an item never set. Valid until the next
    /// set()/add_file().
    std::span<const std::uint8_t> item(std::uint16_t key) const;

    /// Whether `key` selects a slot at all (QEMU's fw_cfg_select result).
    static bool valid_key(std::uint16_t key) {
        return (key & fw_cfg_key::kEntryMask) < fw_cfg_key::kFileFirst + kFileSlots;
    }

private:
    struct File {
        std::string name;
        std::vector<std::uint8_t> bytes;
    };
    void rebuild_file_dir();

    std::vector<std::vector<std::uint8_t>> generic_;  // index < kFileFirst
    std::vector<std::vector<std::uint8_t>> arch_;     // bit 15 set
    std::vector<File> files_;                         // sorted by name
};

}  // namespace kvmdbg::hw
