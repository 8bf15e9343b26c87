// DeviceAccessTrace: a bounded record of guest device accesses, for `-d io`
// and `monitor trace io on|off` / `monitor info io [N] [FILTER]`: each port
// or MMIO access that reached kvmdbg, with the time, the vCPU, its PC, the
// port or address, the size, the direction, the value and the device.
//
// The ring keeps the last kCapacity accesses; older ones are dropped (the
// count of all recorded is kept). `-d io` also writes every access to the
// log as it happens (stderr, or the -D file).
//
// The PC is read from the vCPU as the access exits to kvmdbg, so it is
// the PC KVM has at that point: the accessing instruction's, or the next
// instruction's where KVM finished the instruction before it exited (x86
// KVM does so for MMIO writes, and for some port writes). Reading it costs
// a register fetch per access, paid only while tracing is on; with tracing
// off the device path pays one relaxed atomic load.
//
// Threads: record() on vCPU threads; the rest on any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "system/device_access_catches.h"

namespace kvmdbg::system {

struct TracedAccess {
    std::uint64_t ns;  ///< since the trace's start
    std::uint32_t cpu;
    std::optional<std::uint64_t> pc;
    DeviceAccess access;
};

/// Which accesses `info io` shows: a port or address range, or a device.
struct TraceFilter {
    std::optional<hw::AddressSpace> space;
    std::uint64_t first = 0, last = ~std::uint64_t{0};  ///< inclusive, with `space`
    std::string device;                                 ///< exact name; "" = any

    bool matches(const DeviceAccess& a) const;
    /// "io FIRST[-LAST]", "mmio FIRST[-LAST]" or a device name; no words:
    /// everything. Errors: EINVAL naming the bad word.
    static Result<TraceFilter> parse(const std::vector<std::string>& words);
};

class DeviceAccessTrace {
public:
    static constexpr std::size_t kCapacity = 4096;

    DeviceAccessTrace();

    void set_enabled(bool on) { enabled_.store(on, std::memory_order_relaxed); }
    bool enabled() const { return enabled_.load(std::memory_order_relaxed); }

    /// Nanoseconds since the trace was created (the `ns` of a new entry).
    std::uint64_t now_ns() const;
    void record(const TracedAccess& entry);
    /// The last `n` entries that match `filter`, oldest first.
    std::vector<TracedAccess> last(std::size_t n, const TraceFilter& filter) const;
    /// How many accesses were recorded in all (also those dropped).
    std::uint64_t total() const;

    /// "   12.345678 CPU#0 pc=0xeb9e1 write port 0xcf8 4 0x80000000 pci-conf1"
    static std::string format(const TracedAccess& entry);

private:
    std::atomic<bool> enabled_{false};
    std::uint64_t start_ns_;
    mutable std::mutex mu_;
    std::deque<TracedAccess> ring_;
    std::uint64_t total_ = 0;
};

}  // namespace kvmdbg::system
