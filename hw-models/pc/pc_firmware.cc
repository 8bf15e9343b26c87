#include "hw-models/pc/pc_firmware.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/hex_string.h"
#include "hw-models/loaders/image_file.h"

namespace kvmdbg::hw {

Result<PcFirmware> PcFirmware::load(const std::string& path) {
    auto file = read_image_file(path);
    if (!file) {
        return file.error();
    }
    std::uint64_t size = file->bytes.size();
    if (size % kGranule != 0 || size > kMaxSize) {
        return make_error(EINVAL, path + ": a -bios image must be a multiple of 64 KiB and at most 16 MiB, not " +
                                      std::to_string(size) + " bytes (" + hex_string(size) + ")");
    }
    auto rom = MappedRegion::anonymous(size);
    if (!rom) {
        return rom.error();
    }
    std::memcpy(rom->data(), file->bytes.data(), size);
    return PcFirmware(path, std::move(rom).value());
}

std::span<const std::uint8_t> PcFirmware::isa_bios() const {
    std::size_t n = std::min<std::size_t>(rom_.size(), kIsaBiosMax);
    return {rom_.data() + rom_.size() - n, n};
}

}  // namespace kvmdbg::hw
