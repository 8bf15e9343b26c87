#include "hw-models/virt/virt_firmware.h"

#include <cerrno>
#include <cstring>

#include "common/hex_string.h"
#include "hw-models/loaders/image_file.h"
#include "hw-models/virt/virt_memmap.h"

namespace kvmdbg::hw {

Result<VirtFirmware> VirtFirmware::load(const std::string& path) {
    auto file = read_image_file(path);
    if (!file) {
        return file.error();
    }
    std::uint64_t size = file->bytes.size();
    if (size > virt::kFlashSize) {
        return make_error(EFBIG, path + ": a -bios image on virt must fit the 64 MiB flash bank at 0, not " +
                                     std::to_string(size) + " bytes (" + hex_string(size) + ")");
    }
    auto flash = MappedRegion::anonymous(virt::kFlashSize);
    if (!flash) {
        return flash.error();
    }
    std::memcpy(flash->data(), file->bytes.data(), size);
    return VirtFirmware(std::move(flash).value(), size);
}

}  // namespace kvmdbg::hw
