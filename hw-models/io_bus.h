// IoBus: routes guest port I/O and MMIO accesses to device models.
//
// Devices are mapped at set-up (main thread, before vCPUs start); dispatch()
// is then called from vCPU threads and serialises every device access under
// one bus lock, so device models need no locking of their own for guest
// accesses. Code outside vCPU threads that touches a device (serial input
// from the main loop) takes the same lock through with_lock().
//
// Unclaimed accesses behave like an empty ISA bus / unassigned MMIO: reads
// return all ones, writes are dropped, and both are logged under
// `-d guest_errors`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "hw-models/io_device.h"

namespace kvmdbg::hw {

enum class AddressSpace { pio, mmio };

/// "port" or "mmio", as logs and monitor output name the spaces.
inline const char* address_space_name(AddressSpace space) { return space == AddressSpace::pio ? "port" : "mmio"; }

class IoBus {
public:
    explicit IoBus(Log& log) : log_(log) {}

    /// Maps `device` at [base, base+size) in `space`; `name` is for logs.
    /// Errors: EBUSY when the range overlaps an existing mapping.
    Status map(AddressSpace space, std::uint64_t base, std::uint64_t size, std::string name,
               std::shared_ptr<IoDevice> device);

    /// One guest access. For reads `data` is filled; returns the device's outcome.
    IoOutcome dispatch(AddressSpace space, std::uint64_t addr, std::uint8_t* data, unsigned size, bool is_write);

    /// Runs `fn` holding the bus lock.
    void with_lock(const std::function<void()>& fn);

    /// One mapped range, for address maps (`monitor info mtree`).
    struct Range {
        AddressSpace space;
        std::uint64_t base;
        std::uint64_t size;
        std::string name;
    };
    /// Every mapping, in the order mapped. Any thread once set up.
    std::vector<Range> ranges() const;
    /// The name of the device mapped at `addr`, or "" for none. Any thread
    /// once set up.
    std::string name_at(AddressSpace space, std::uint64_t addr) const;
    /// The register text (IoDevice::state_text) of the first device mapped
    /// under `name`, read under the bus lock; std::nullopt if none is.
    std::optional<std::string> device_state(const std::string& name);
    /// A debugger's read of `size` (1..8) bytes at `addr`, within one
    /// mapping, through IoDevice::peek under the bus lock: no side effects.
    /// std::nullopt where nothing is mapped or the device cannot tell.
    std::optional<std::uint64_t> peek(AddressSpace space, std::uint64_t addr, unsigned size);
    /// The parts of the inclusive range [first, last] of `space` that
    /// mapped devices cover, as inclusive [first, last] pairs in address
    /// order. Any thread once set up.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> mapped_parts(AddressSpace space, std::uint64_t first,
                                                                      std::uint64_t last) const;

private:
    struct Mapping {
        AddressSpace space;
        std::uint64_t base;
        std::uint64_t size;
        std::string name;
        std::shared_ptr<IoDevice> device;
    };

    const Mapping* find(AddressSpace space, std::uint64_t addr) const;

    Log& log_;
    std::vector<Mapping> mappings_;
    std::mutex mu_;
};

}  // namespace kvmdbg::hw
