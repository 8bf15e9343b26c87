// The session's record of what gdb inserted: one entry per distinct
// (type, addr, kind), with the target-side condition list gdb sent last.
//
// gdb semantics (gdb manual, "Packets", Z0 implementation notes): Z and z
// are idempotent; a Z for an existing breakpoint replaces its condition list
// (gdb resends Z0 when a condition changes) and must not insert it twice.
// Not thread-safe; owned by the GdbSession.
#pragma once

#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

#include "gdbstub-glue/debug_target.h"

namespace kvmdbg::gdb {

class BreakpointTable {
public:
    using Conditions = std::vector<std::vector<std::uint8_t>>;

    bool contains(const Breakpoint& bp) const;
    /// Adds `bp` or replaces its conditions (empty: unconditional).
    void set(const Breakpoint& bp, Conditions conditions);
    /// Returns whether it was there.
    bool erase(const Breakpoint& bp);
    void clear() {
        entries_.clear();
        conditional_ = 0;
    }
    std::size_t size() const { return entries_.size(); }

    /// The condition lists of every breakpoint of `type` at `addr` (any
    /// kind). Empty result: no such breakpoint. An empty list among them:
    /// an unconditional breakpoint.
    std::vector<const Conditions*> at(BreakpointType type, std::uint64_t addr) const;

    /// Whether any watchpoint of `type` is inserted.
    bool has_type(BreakpointType type) const;
    /// Whether any breakpoint has a target-side condition. O(1).
    bool has_conditions() const { return conditional_ != 0; }
    /// The breakpoints that decide a conditional stop: every entry at a
    /// (type, address) where at least one entry has conditions (its
    /// unconditional siblings of another kind included, since they make
    /// the stop unconditional). What DebugTarget::set_stop_conditions gets.
    BreakpointTable conditional_part() const;

private:
    using Key = std::tuple<std::uint8_t, std::uint64_t, std::uint64_t>;
    static Key key(const Breakpoint& bp) { return {static_cast<std::uint8_t>(bp.type), bp.addr, bp.kind}; }

    std::map<Key, Conditions> entries_;
    std::size_t conditional_ = 0;  // entries with a non-empty condition list
};

}  // namespace kvmdbg::gdb
