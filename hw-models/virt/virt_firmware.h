// VirtFirmware: a `-bios` image on `-M virt` (U-Boot's u-boot.bin, an EDK2
// build), placed as QEMU's virt places it: at the start of the first flash
// bank, guest-physical 0 (virt_memmap.h kFlashBase), where vCPU 0 starts.
// The bank is kFlashSize bytes, read-only (a KVM read-only memslot: guest
// writes exit to the bus, where nothing answers them); the bytes past the
// image read as zero.
//
// As QEMU does for firmware, the machine puts the device tree at the start
// of RAM (0x40000000) instead of after a kernel: U-Boot's qemu_arm64 and
// EDK2's ArmVirtQemu look for it there.
//
// Differences from QEMU: the bank is ROM, not a CFI flash device (firmware
// that writes its environment or variables to flash gets no answer; U-Boot
// then uses its default environment), and there is no second bank.
#pragma once

#include <cstdint>
#include <string>

#include "common/mapped_region.h"
#include "common/result.h"

namespace kvmdbg::hw {

class VirtFirmware {
public:
    /// Reads the image. Errors name the path: the file's own errors (an
    /// empty file is one), EFBIG for an image larger than the flash bank.
    static Result<VirtFirmware> load(const std::string& path);

    /// The whole bank, the image at its start, to be mapped read-only.
    const MappedRegion& flash() const { return flash_; }
    std::uint64_t image_size() const { return image_size_; }

private:
    VirtFirmware(MappedRegion flash, std::uint64_t image_size) : flash_(std::move(flash)), image_size_(image_size) {}

    MappedRegion flash_;
    std::uint64_t image_size_;
};

}  // namespace kvmdbg::hw
