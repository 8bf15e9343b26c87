#include "gdbstub-glue/breakpoint_table.h"

namespace kvmdbg::gdb {

bool BreakpointTable::contains(const Breakpoint& bp) const { return entries_.count(key(bp)) != 0; }

void BreakpointTable::set(const Breakpoint& bp, Conditions conditions) {
    entries_[key(bp)] = std::move(conditions);
}

bool BreakpointTable::erase(const Breakpoint& bp) { return entries_.erase(key(bp)) != 0; }

std::vector<const BreakpointTable::Conditions*> BreakpointTable::at(BreakpointType type, std::uint64_t addr) const {
    std::vector<const Conditions*> out;
    auto t = static_cast<std::uint8_t>(type);
    for (auto it = entries_.lower_bound(Key{t, addr, 0}); it != entries_.end(); ++it) {
        if (std::get<0>(it->first) != t || std::get<1>(it->first) != addr) {
            break;
        }
        out.push_back(&it->second);
    }
    return out;
}

bool BreakpointTable::has_type(BreakpointType type) const {
    auto t = static_cast<std::uint8_t>(type);
    auto it = entries_.lower_bound(Key{t, 0, 0});
    return it != entries_.end() && std::get<0>(it->first) == t;
}

}  // namespace kvmdbg::gdb
