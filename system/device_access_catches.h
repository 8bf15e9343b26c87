// DeviceAccessCatches: the debugger's stops on device accesses (`monitor
// catch io|mmio`), served by the device path rather than by debug
// registers: kvmdbg sees every guest access to a port or an emulated MMIO
// region anyway (each one exits to it), so these always fire, on every host
// and ISA, for any size and any number of ranges.
//
// A catch is an inclusive range of ports or guest-physical addresses and
// the directions it stops on. An access of `size` bytes at `addr` hits it
// when [addr, addr + size) overlaps the range in a direction it watches.
// The vCPU that made the access stops once the accessing instruction has
// completed (a read's value is in the guest's register; the PC is past the
// instruction), and gdb is told what happened as console text ahead of a
// SIGTRAP stop (describe()).
//
// gdb's watchpoints on emulated device memory ride on the same table
// (add_watch, system/device_watchpoints.h): a catch that carries the
// virtual address gdb watches, kept out of list() and remove(), whose hit
// becomes a watchpoint stop.
//
// Cost: with no catch, active() is one relaxed atomic load per access; with
// catches, a lookup under a mutex, only for the accesses made while any is
// set.
//
// Threads: add/remove/clear/list on the main thread (monitor commands);
// active/match/record on vCPU threads; take_hit on the main thread or any.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hw-models/io_bus.h"
#include "system/catch_condition.h"

namespace kvmdbg::system {

/// Which directions a catch stops on.
enum class AccessDirection : unsigned { read = 1, write = 2, both = 3 };

struct DeviceCatch {
    unsigned id;
    hw::AddressSpace space;
    std::uint64_t first;  ///< inclusive
    std::uint64_t last;   ///< inclusive
    AccessDirection direction;
    std::optional<CatchCondition> condition;  ///< `if value ...`: stops only when it holds
    /// A gdb watchpoint's part: the virtual address gdb gave for `first`.
    std::optional<std::uint64_t> watch_va{};
};

/// One guest access as the device path saw it.
struct DeviceAccess {
    hw::AddressSpace space;
    std::uint64_t addr;
    unsigned size;
    bool is_write;
    std::uint64_t value;  ///< written, or read (after the device answered)
    std::string device;   ///< the mapping's name, "" if unassigned
};

/// Whether an access of `size` bytes at `addr` touches the inclusive range
/// [first, last] (a size of 0 counts as 1; the access's end is kept at the
/// top of the address space rather than wrapping).
bool access_overlaps(std::uint64_t addr, unsigned size, std::uint64_t first, std::uint64_t last);

/// A catch that fired: which one, on which vCPU, for what access.
struct DeviceCatchHit {
    unsigned catch_id;
    std::uint32_t cpu;
    DeviceAccess access;
    /// For a gdb watchpoint's catch (filled by record()): the data address
    /// to report, in gdb's (virtual) addresses, and what the watchpoint
    /// stops on (write: `watch`, read: `rwatch`, both: `awatch`).
    std::optional<std::uint64_t> watch_addr{};
    AccessDirection watch_direction = AccessDirection::both;
};

class DeviceAccessCatches {
public:
    explicit DeviceAccessCatches(std::uint32_t cpus) : hits_(cpus) {}

    /// Adds a catch and returns its number (1, 2, ... never reused).
    unsigned add(hw::AddressSpace space, std::uint64_t first, std::uint64_t last, AccessDirection direction,
                 std::optional<CatchCondition> condition = std::nullopt);
    /// Removes catch `id`; false if there is none (or it is a watchpoint's).
    bool remove(unsigned id);
    /// Adds the MMIO part [first, last] of a gdb watchpoint whose virtual
    /// address for `first` is `watch_va`; its number is for remove_watch().
    unsigned add_watch(std::uint64_t first, std::uint64_t last, AccessDirection direction, std::uint64_t watch_va);
    bool remove_watch(unsigned id);
    /// Removes every catch and forgets pending hits (the debugger left).
    void clear();
    /// The debugger's catches (not the watchpoints' parts).
    std::vector<DeviceCatch> list() const;

    /// Whether any catch is set. vCPU threads, lock-free.
    bool active() const { return count_.load(std::memory_order_relaxed) != 0; }
    /// The number of the first catch the access hits: its range and
    /// direction, and its condition on `value` (written, or read) if any.
    std::optional<unsigned> match(hw::AddressSpace space, std::uint64_t addr, unsigned size, bool is_write,
                                  std::uint64_t value = 0) const;
    /// Keeps `hit` for take_hit(hit.cpu) (one per vCPU: a vCPU stops at
    /// its first hit), with the watchpoint fields filled from its catch.
    void record(const DeviceCatchHit& hit);
    /// The hit kept for `cpu`, forgotten here.
    std::optional<DeviceCatchHit> take_hit(std::uint32_t cpu);

    /// "Catch 1: CPU#0 wrote 0x80000000 to port 0xcf8 (4 bytes, pci-conf1)\n".
    static std::string describe(const DeviceCatchHit& hit);
    /// "1  port  0xcf8-0xcff  w" per catch (and "  if value == 0x1"), with
    /// a header; "No catches.\n".
    static std::string format_list(const std::vector<DeviceCatch>& catches);

private:
    bool erase(unsigned id, bool watch);

    mutable std::mutex mu_;
    std::vector<DeviceCatch> catches_;
    std::vector<std::optional<DeviceCatchHit>> hits_;  // per vCPU
    unsigned next_id_ = 1;
    // Watchpoint parts are numbered apart from the debugger's catches.
    static constexpr unsigned kFirstWatchId = 0x80000000u;
    unsigned next_watch_id_ = kFirstWatchId;
    std::atomic<std::size_t> count_{0};
};

}  // namespace kvmdbg::system
