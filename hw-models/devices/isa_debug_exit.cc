#include "hw-models/devices/isa_debug_exit.h"

#include <algorithm>

#include "common/byte_order.h"
#include "hw-models/devices/register_text.h"

namespace kvmdbg::hw {

int IsaDebugExit::exit_status(std::uint64_t value, unsigned size) {
    // QEMU's region allows accesses of at most 4 bytes, so val fits 32 bits.
    unsigned bytes = size == 0 ? 1 : (size > 4 ? 4 : size);
    std::uint64_t mask = bytes == 4 ? 0xffffffffull : (1ull << (8 * bytes)) - 1;
    std::uint64_t status = ((value & mask) << 1) | 1;
    // exit() takes an int: keep the low 32 bits, as the conversion does on
    // every ABI QEMU runs on (well defined since C++20).
    return static_cast<int>(static_cast<std::uint32_t>(status));
}

std::uint64_t IsaDebugExit::read(std::uint64_t, unsigned) { return 0; }

IoOutcome IsaDebugExit::write(std::uint64_t, std::uint64_t value, unsigned size) {
    const unsigned bytes = std::clamp(size, 1u, 4u);  // as exit_status() takes it
    last_write_ = std::make_pair(value & low_bytes_mask(bytes), bytes);
    if (on_exit_) {
        on_exit_(exit_status(value, size));
    }
    return IoOutcome::stop_machine;
}

std::string IsaDebugExit::state_text() const {
    if (!last_write_) {
        return "written    = none\n";
    }
    auto [value, size] = *last_write_;
    return register_line("written", value, size) + "exit status = " + std::to_string(exit_status(value, size)) + "\n";
}

}  // namespace kvmdbg::hw
