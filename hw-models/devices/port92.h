// Port92: PS/2 system control port A (I/O port 0x92), the "fast A20 and
// reset" port of PS/2 and every later PC chipset.
//
//   port 0x92 (read/write):
//     7..6   5..4   3         2      1            0
//   +------+------+---------+------+------------+-------------+
//   | LED  | rsvd | lock    | rsvd | A20 enable | fast reset  |
//   +------+------+---------+------+------------+-------------+
//
// Semantics, as QEMU's hw/i386/port92.c:
// - a read returns the last value written; the initial value is 0x02, what
//   SeaBIOS leaves (A20 enabled, reset bit clear);
// - a write stores the value; if it sets bit 0 while bit 0 was clear (the
//   rising edge pulses the reset line) it calls the reset callback and
//   returns IoOutcome::stop_machine; otherwise IoOutcome::proceed. The A20
//   bit is only stored: KVM guests always see A20 enabled, as with QEMU.
// Only the low byte of an access counts.
//
// Threads: read()/write() and the callback run on vCPU threads under the bus
// lock; the callback must not re-enter the bus.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "hw-models/io_device.h"

namespace kvmdbg::hw {

class Port92 final : public IoDevice {
public:
    /// Receives a short description of how the guest asked for the reset.
    using ResetCallback = std::function<void(const std::string& reason)>;

    static constexpr std::uint16_t kPort = 0x92;
    static constexpr std::uint64_t kPortSize = 1;
    static constexpr std::uint8_t kInitialValue = 0x02;
    static constexpr std::uint8_t kFastResetBit = 0x01;
    static constexpr std::uint8_t kA20Bit = 0x02;

    explicit Port92(ResetCallback on_reset) : on_reset_(std::move(on_reset)) {}

    /// The stored value.
    std::uint64_t read(std::uint64_t offset, unsigned size) override;
    /// Machine reset, as QEMU's port92_reset: the fast-reset bit clears, the
    /// A20 bit stays.
    void reset() { value_ = static_cast<std::uint8_t>(value_ & ~kFastResetBit); }

    /// Stores the value; resets on a rising edge of bit 0 (see above).
    IoOutcome write(std::uint64_t offset, std::uint64_t value, unsigned size) override;

private:
    std::uint8_t value_ = kInitialValue;
    ResetCallback on_reset_;
};

}  // namespace kvmdbg::hw
