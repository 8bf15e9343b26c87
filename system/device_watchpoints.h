// DeviceWatchpoints: gdb's `watch`, `rwatch` and `awatch` on emulated
// device memory, served by the device path instead of debug registers.
//
// Every guest access to an emulated MMIO region exits to kvmdbg, so a
// watchpoint there needs no hardware slot: it always fires, on every host
// and ISA, for any length and any number of watchpoints. A Z2/Z3/Z4 request
// is planned here (plan()): its virtual range is split at page boundaries,
// translated through a vCPU's paging, and cut into runs that mapped devices
// back (device extents) and runs they do not (memory extents: RAM, ROM,
// unassigned or unmapped). The device extents become catches of
// DeviceAccessCatches that carry gdb's virtual address; the memory
// extents stay the accelerator's, as debug-register watchpoints of their
// own. A range that straddles RAM and device memory is thus split: each
// part is served by what can watch it, and the whole insert fails (and is
// undone) if the accelerator refuses a memory part.
//
// A hit stops the vCPU once the accessing instruction has completed and is
// reported to gdb as a watchpoint stop (`watch:`, `rwatch:`, `awatch:`
// with the data address in gdb's terms), not as a catch.
//
// gdb reads the watched value (for `watch`, it stops only when the value
// changed, and prints old and new values). A device register has no
// content that can be read without effect, so read() answers with the
// device's side-effect-free view (IoDevice::peek: what a guest read would
// return, without popping a FIFO or clearing a status), and, while a vCPU
// is stopped at a device-watchpoint hit, with the value that access
// transferred for the bytes it covered: gdb sees the value written (or
// read) by the instruction it stopped after, also for a register that
// reads back something else (a UART's data register).
//
// Threads: main thread (the gdb session's), except note_stop (any thread:
// the stop is noted as the vCPU parks) and what the device path does
// through DeviceAccessCatches on vCPU threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <tuple>
#include <utility>
#include <vector>

#include "hw-models/io_bus.h"
#include "system/device_access_catches.h"

namespace kvmdbg::system {

/// One run of a watched virtual range.
struct WatchExtent {
    std::uint64_t va;
    std::optional<std::uint64_t> gpa;  ///< nullopt where the paging maps nothing
    std::uint64_t len;
    bool device;  ///< backed by a mapped device (else memory or nothing)

    bool operator==(const WatchExtent&) const = default;
};

class DeviceWatchpoints {
public:
    /// Virtual to guest-physical through a vCPU's paging (nullopt: unmapped).
    using Translate = std::function<std::optional<std::uint64_t>(std::uint64_t va)>;
    /// The inclusive parts of a guest-physical range that devices back.
    using DeviceParts =
        std::function<std::vector<std::pair<std::uint64_t, std::uint64_t>>(std::uint64_t first, std::uint64_t last)>;

    DeviceWatchpoints(hw::IoBus& bus, DeviceAccessCatches& catches, std::uint32_t cpus);

    /// Splits the `len` bytes at virtual `va` (len 0 counts as 1) into
    /// extents, in address order, adjacent runs of the same kind merged
    /// where their physical addresses are contiguous too.
    static std::vector<WatchExtent> plan(std::uint64_t va, std::uint64_t len, const Translate& translate,
                                         const DeviceParts& device_parts);
    /// plan() against this machine's MMIO map.
    std::vector<WatchExtent> plan(std::uint64_t va, std::uint64_t len, const Translate& translate) const;

    /// Sets the device extents of `extents` as the watchpoint (type, va,
    /// len) gdb asked for, stopping on `direction`. Inserting the same
    /// watchpoint again counts a reference.
    void add(int type, std::uint64_t va, std::uint64_t len, AccessDirection direction,
             const std::vector<WatchExtent>& extents);
    /// Removes one reference of that watchpoint: the extents it was set
    /// with (the caller removes the memory ones from the accelerator), or
    /// nullopt if it was not set here.
    std::optional<std::vector<WatchExtent>> remove(int type, std::uint64_t va, std::uint64_t len);
    /// Forgets every watchpoint (the accelerator drops its own parts).
    void clear();

    /// The debugger's read of `out.size()` bytes of device memory at
    /// guest-physical `gpa` for vCPU `cpu` (see the file comment). Returns
    /// how many bytes from the start could be read (0: none).
    std::size_t read(std::uint32_t cpu, std::uint64_t gpa, std::span<std::uint8_t> out);
    /// vCPU `cpu` stopped at a device-watchpoint hit of `access` / resumed.
    void note_stop(std::uint32_t cpu, const DeviceAccess& access);
    void note_resume(std::uint32_t cpu);
    /// Whether `cpu` sits at a device-watchpoint hit that no resume has
    /// followed yet; true once per hit. For gdbs that step over an access
    /// after a watchpoint stop (IsaDescriptor::
    /// gdb_watchpoint_stops_before_access): that step is already done.
    bool take_step_over(std::uint32_t cpu);

private:
    struct Set {
        std::vector<WatchExtent> extents;
        std::vector<unsigned> catch_ids;
        unsigned refs = 1;
    };

    hw::IoBus& bus_;
    DeviceAccessCatches& catches_;
    std::map<std::tuple<int, std::uint64_t, std::uint64_t>, Set> set_;
    std::mutex stopped_mu_;
    std::vector<std::optional<DeviceAccess>> stopped_at_;  // per vCPU, guarded by stopped_mu_
    std::vector<bool> step_over_pending_;                  // per vCPU, guarded by stopped_mu_
};

}  // namespace kvmdbg::system
