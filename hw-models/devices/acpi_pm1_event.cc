#include "hw-models/devices/acpi_pm1_event.h"

#include "hw-models/devices/register_text.h"

namespace kvmdbg::hw {

namespace {

constexpr std::uint64_t kBlockSize = 4;
constexpr std::uint64_t kEnableOffset = 2;

}  // namespace

std::uint64_t AcpiPm1Event::read(std::uint64_t offset, unsigned size) {
    std::uint64_t value = 0;
    for (unsigned i = 0; i < size && offset + i < kBlockSize; ++i) {
        std::uint64_t at = offset + i;
        std::uint64_t byte = at >= kEnableOffset ? (enable_ >> (8 * (at - kEnableOffset))) & 0xff : 0;
        value |= byte << (8 * i);
    }
    return value;
}

IoOutcome AcpiPm1Event::write(std::uint64_t offset, std::uint64_t value, unsigned size) {
    for (unsigned i = 0; i < size && offset + i < kBlockSize; ++i) {
        std::uint64_t at = offset + i;
        if (at < kEnableOffset) {
            continue;  // PM1_STS: write-1-to-clear, and nothing is ever set
        }
        unsigned shift = 8 * static_cast<unsigned>(at - kEnableOffset);
        std::uint16_t byte_mask = static_cast<std::uint16_t>(0xffu << shift);
        std::uint16_t byte = static_cast<std::uint16_t>(((value >> (8 * i)) & 0xff) << shift);
        enable_ = static_cast<std::uint16_t>(((enable_ & ~byte_mask) | byte) & kEnableMask);
    }
    return IoOutcome::proceed;
}

std::string AcpiPm1Event::state_text() const {
    return register_line("PM1_STS", 0, 2) + register_line("PM1_EN", enable_, 2);
}

}  // namespace kvmdbg::hw
