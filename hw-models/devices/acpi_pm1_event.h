// AcpiPm1Event: the ACPI PM1 event block (ACPI 6.5, 4.8.3.1), the status and
// enable registers of the fixed-feature events.
//
//   PM1a_EVT_BLK (4 bytes)
//   offset 0  PM1_STS (16 bits)  write 1 to clear; reads the latched events
//   offset 2  PM1_EN  (16 bits)  read/write
//
//   PM1_STS / PM1_EN bits: 0 TMR (PM timer carry), 5 GBL, 8 PWRBTN,
//   9 SLPBTN, 10 RTC, 15 WAK (status only)
//
// Semantics: no fixed-feature event is ever raised on pc-lite (no SCI),
// so PM1_STS stays 0 and writes to it clear nothing that was set; PM1_EN
// keeps what the guest writes (ACPICA writes it at init and before S5, and
// reads it back), with the reserved bits read as 0. Byte and word accesses
// at any offset inside the block work on the bytes they cover; machine
// reset clears PM1_EN, as QEMU's acpi_pm1_evt_reset().
//
// Threads: read()/write() run on vCPU threads under the bus lock; reset()
// on the main thread under the bus lock.
#pragma once

#include <cstdint>

#include "hw-models/io_device.h"

namespace kvmdbg::hw {

class AcpiPm1Event final : public IoDevice {
public:
    /// PM1_EN bits that exist (TMR, GBL, PWRBTN, SLPBTN, RTC).
    static constexpr std::uint16_t kEnableMask = 0x0721;

    std::uint64_t read(std::uint64_t offset, unsigned size) override;
    IoOutcome write(std::uint64_t offset, std::uint64_t value, unsigned size) override;
    std::string state_text() const override;
    void reset() { enable_ = 0; }

    std::uint16_t enable() const { return enable_; }

private:
    std::uint16_t enable_ = 0;
};

}  // namespace kvmdbg::hw
