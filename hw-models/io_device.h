// IoDevice: a device model reached through port I/O or MMIO.
//
// The bus (hw-models/io_bus.h) calls read()/write() with the offset from the
// start of the range the device was mapped at, holding the bus lock: a device
// never sees two concurrent accesses. `size` is 1, 2, 4 or 8 bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace kvmdbg::hw {

/// What an access asks of the vCPU that made it.
enum class IoOutcome {
    proceed,       ///< keep running the guest
    stop_machine,  ///< the machine is ending (debug-exit, power-off): park this vCPU
};

class IoDevice {
public:
    virtual ~IoDevice() = default;
    /// Fills `value` (little-endian, `size` bytes significant) for a guest read.
    virtual std::uint64_t read(std::uint64_t offset, unsigned size) = 0;
    virtual IoOutcome write(std::uint64_t offset, std::uint64_t value, unsigned size) = 0;
    /// The device's registers for `monitor info device NAME`, one
    /// "NAME = VALUE" line each, read without side effects (no FIFO pops, no
    /// clear-on-read); "" for a device with nothing to show. Bus lock held.
    virtual std::string state_text() const { return {}; }
    /// What a guest read of `size` bytes at `offset` would return, for a
    /// debugger, without the read's side effects (no FIFO pop, no
    /// clear-on-read); std::nullopt for a device that cannot tell (the
    /// debugger's read then fails). Bus lock held.
    virtual std::optional<std::uint64_t> peek(std::uint64_t offset, unsigned size) {
        (void)offset;
        (void)size;
        return std::nullopt;
    }
};

}  // namespace kvmdbg::hw
