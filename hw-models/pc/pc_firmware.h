// PcFirmware: a `-bios` image (SeaBIOS's bios.bin or bios-256k.bin) placed
// as QEMU's pc machine places it, so that the vCPU starts it at the reset
// vector.
//
//   guest-physical
//   4 GiB - size .. 4 GiB      the whole image, read-only (a KVM read-only
//                              memslot): the reset vector 0xfffffff0 is
//                              16 bytes below its end
//   1 MiB - isa .. 1 MiB       the image's last isa = min(size, 128 KiB)
//                              bytes ("isa-bios"), copied into RAM: the
//                              real-mode BIOS segment F000 (and E000 for a
//                              128 KiB or larger image)
//
// Checks, as QEMU's pc_system_firmware_init: the size is a non-zero
// multiple of 64 KiB and at most 16 MiB (the top of the 32-bit space holds
// the IOAPIC and LAPIC below it).
//
// Differences from QEMU's i440FX, where the low copy is a ROM alias that the
// chipset's PAM registers turn into shadow RAM: pc-lite has no PAM, so the
// low copy is RAM from the start, as if SeaBIOS had already unlocked it
// ("Unable to unlock ram - bridge not found" in its log, which it then
// goes on from). The machine copies it in again on every reset, as QEMU's
// reset brings back the ROM contents.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/mapped_region.h"
#include "common/result.h"

namespace kvmdbg::hw {

class PcFirmware {
public:
    static constexpr std::uint64_t kGranule = 64 * 1024;
    static constexpr std::uint64_t kMaxSize = 16ull << 20;
    static constexpr std::uint64_t kIsaBiosMax = 128 * 1024;
    static constexpr std::uint64_t k4GiB = 1ull << 32;
    static constexpr std::uint64_t k1MiB = 1ull << 20;

    /// Reads the image. Errors name the path: the file's own errors, and
    /// EINVAL for a size that is not a non-zero multiple of 64 KiB up to 16 MiB.
    static Result<PcFirmware> load(const std::string& path);

    /// The whole image, to be mapped read-only at rom_base().
    const MappedRegion& rom() const { return rom_; }
    std::uint64_t rom_base() const { return k4GiB - rom_.size(); }

    /// The low copy: its bytes and where they go.
    std::span<const std::uint8_t> isa_bios() const;
    std::uint64_t isa_bios_base() const { return k1MiB - isa_bios().size(); }

    const std::string& path() const { return path_; }

private:
    PcFirmware(std::string path, MappedRegion rom) : path_(std::move(path)), rom_(std::move(rom)) {}

    std::string path_;
    MappedRegion rom_;
};

}  // namespace kvmdbg::hw
