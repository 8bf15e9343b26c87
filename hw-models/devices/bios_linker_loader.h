// BiosLinkerLoader: the command file "etc/table-loader" through which QEMU
// hands firmware tables (ACPI) that the firmware itself places in guest
// memory and links, as QEMU's hw/acpi/bios-linker-loader.c defines it and
// SeaBIOS's romfile_loader executes it. Each command is 128 bytes,
// little-endian, file names NUL-padded to 56 bytes:
//
//   0x00 le32 command
//   ALLOCATE (1):     file[56], le32 align, u8 zone (1 high RAM, 2 F-segment)
//                     load the fw_cfg file into memory of that zone
//   ADD_POINTER (2):  dest_file[56], src_file[56], le32 offset, u8 size
//                     dest[offset, +size) += the address src_file got
//   ADD_CHECKSUM (3): file[56], le32 offset, le32 start, le32 length
//                     file[offset] -= the byte sum of file[start, +length)
//   the rest of the 128 bytes zero
//
// The firmware runs them in order, so pointers come before the checksums
// over them. Pure value builder; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace kvmdbg::hw {

class BiosLinkerLoader {
public:
    static constexpr const char* kFileName = "etc/table-loader";
    static constexpr std::size_t kCommandSize = 128;
    static constexpr std::size_t kMaxName = 56;  ///< with the NUL
    enum class Zone : std::uint8_t { high = 1, fseg = 2 };

    /// Each returns EINVAL for a file name of kMaxName bytes or more.
    Status allocate(const std::string& file, std::uint32_t align, Zone zone);
    Status add_pointer(const std::string& dest_file, const std::string& src_file, std::uint32_t offset,
                       std::uint8_t size);
    Status add_checksum(const std::string& file, std::uint32_t offset, std::uint32_t start, std::uint32_t length);

    /// The commands so far, kCommandSize bytes each.
    const std::vector<std::uint8_t>& bytes() const { return bytes_; }

private:
    std::uint8_t* next(std::uint32_t command);
    std::vector<std::uint8_t> bytes_;
};

}  // namespace kvmdbg::hw
