#include "hw-models/devices/test_exit.h"

#include "hw-models/devices/isa_debug_exit.h"

namespace kvmdbg::hw {

std::uint64_t TestExit::read(std::uint64_t, unsigned) { return 0; }

IoOutcome TestExit::write(std::uint64_t offset, std::uint64_t value, unsigned size) {
    if (offset != kStatusOffset) {
        return IoOutcome::proceed;
    }
    // Same status as isa-debug-exit; a 64-bit store keeps its low 32 bits.
    int status = IsaDebugExit::exit_status(value, size);
    if (on_exit_) {
        on_exit_(status);
    }
    return IoOutcome::stop_machine;
}

}  // namespace kvmdbg::hw
