#include "hw-models/devices/port92.h"

namespace kvmdbg::hw {

std::uint64_t Port92::read(std::uint64_t, unsigned) { return value_; }

IoOutcome Port92::write(std::uint64_t, std::uint64_t value, unsigned) {
    auto old = value_;
    value_ = static_cast<std::uint8_t>(value);
    if ((value_ & kFastResetBit) == 0 || (old & kFastResetBit) != 0) {
        return IoOutcome::proceed;
    }
    if (on_reset_) {
        on_reset_("fast reset through port 0x92 (bit 0)");
    }
    return IoOutcome::stop_machine;
}

}  // namespace kvmdbg::hw
