// AcpiPmTimer: the ACPI power-management timer (ACPI 6.5, 4.8.3.3), a free
// running 24-bit counter at 3.579545 MHz that kernels read as a clock
// (Linux: the acpi_pm clocksource and the reference it calibrates the TSC
// against when the PIT calibration fails).
//
//   PM_TMR_BLK (4 bytes, read-only)
//     31..24   23..0
//   +--------+-----------------+
//   | 0      | TMR_VAL         |
//   +--------+-----------------+
//
// Semantics, as QEMU's hw/acpi/core.c acpi_pm_tmr_read(): TMR_VAL is the
// time since the device was made, in ticks of 1/3579545 s, modulo 2^24
// (the FADT says 24 bits: TMR_VAL_EXT clear). A read of any size at any
// offset returns the bytes of that 32-bit value from the offset on; writes
// are ignored. No TMR_STS / SCI on carry: nothing enables it without an SCI
// handler, and pc-lite raises no SCI.
//
// Threads: read() runs on vCPU threads under the bus lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "hw-models/io_device.h"

namespace kvmdbg::hw {

class AcpiPmTimer final : public IoDevice {
public:
    using Clock = std::function<std::chrono::nanoseconds()>;

    static constexpr std::uint64_t kFrequencyHz = 3579545;
    static constexpr std::uint32_t kMask = 0xffffff;

    /// `now` is the time source (default: CLOCK_MONOTONIC); the counter
    /// starts at 0 at construction.
    explicit AcpiPmTimer(Clock now = {});

    /// The counter's bytes from `offset` on (see above).
    std::uint64_t read(std::uint64_t offset, unsigned size) override;
    /// Ignored: the register is read-only.
    IoOutcome write(std::uint64_t offset, std::uint64_t value, unsigned size) override;

    /// TMR_VAL now.
    std::uint32_t counter() const;

private:
    Clock now_;
    std::chrono::nanoseconds start_;
};

}  // namespace kvmdbg::hw
