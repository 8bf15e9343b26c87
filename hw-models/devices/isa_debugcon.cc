#include "hw-models/devices/isa_debugcon.h"

namespace kvmdbg::hw {

std::uint64_t IsaDebugcon::read(std::uint64_t, unsigned) { return kReadback; }

IoOutcome IsaDebugcon::write(std::uint64_t, std::uint64_t value, unsigned) {
    const std::uint8_t byte = static_cast<std::uint8_t>(value);
    backend_->write(std::span<const std::uint8_t>(&byte, 1));
    return IoOutcome::proceed;
}

}  // namespace kvmdbg::hw
