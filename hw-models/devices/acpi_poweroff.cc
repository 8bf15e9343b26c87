#include "hw-models/devices/acpi_poweroff.h"

namespace kvmdbg::hw {

std::uint64_t AcpiPowerOff::read(std::uint64_t, unsigned) { return 0; }

IoOutcome AcpiPowerOff::write(std::uint64_t offset, std::uint64_t value, unsigned size) {
    std::uint64_t reg = 0;  // the value the write puts into PM1a_CNT bits 15:0
    if (offset == 0 && size == 2) {
        reg = value & 0xffff;
    } else if (offset == 1 && size == 1) {
        reg = (value & 0xff) << 8;
    }
    if ((reg & kSlpEn) == 0) {
        return IoOutcome::proceed;
    }
    // QEMU: SLP_TYP 0 shuts down, 1 suspends (not modelled here), and only
    // the configured S4 value otherwise (none in kvmdbg's DSDT).
    if (((reg & kSlpTypMask) >> kSlpTypShift) != kSlpTypSoftOff) {
        return IoOutcome::proceed;
    }
    if (on_poweroff_) {
        on_poweroff_();
    }
    return IoOutcome::stop_machine;
}

}  // namespace kvmdbg::hw
