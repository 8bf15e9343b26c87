#include "hw-models/devices/i8042_reset.h"

#include <cstdio>

namespace kvmdbg::hw {

namespace {

constexpr std::uint8_t kPulseCommandMask = 0xf0;
constexpr std::uint8_t kPulseResetLineBit = 0x01;  // 0 = pulse output port bit 0

}  // namespace

bool I8042Reset::is_reset_command(std::uint8_t command) {
    return (command & kPulseCommandMask) == kPulseCommandMask && (command & kPulseResetLineBit) == 0;
}

std::uint64_t I8042Reset::read(std::uint64_t, unsigned) { return port_ == Port::command ? kStatus : 0; }

IoOutcome I8042Reset::write(std::uint64_t, std::uint64_t value, unsigned) {
    auto command = static_cast<std::uint8_t>(value);
    if (port_ != Port::command || !is_reset_command(command)) {
        return IoOutcome::proceed;
    }
    if (on_reset_) {
        char reason[64];
        std::snprintf(reason, sizeof reason, "keyboard controller command 0x%02x on port 0x64", command);
        on_reset_(reason);
    }
    return IoOutcome::stop_machine;
}

}  // namespace kvmdbg::hw
