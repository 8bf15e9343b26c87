#include "gdbstub-glue/breakpoint_table.h"

namespace kvmdbg::gdb {

bool BreakpointTable::contains(const Breakpoint& bp) const { return entries_.count(key(bp)) != 0; }

void BreakpointTable::set(const Breakpoint& bp, Conditions conditions) {
    Conditions& entry = entries_[key(bp)];
    conditional_ -= entry.empty() ? 0 : 1;
    conditional_ += conditions.empty() ? 0 : 1;
    entry = std::move(conditions);
}

bool BreakpointTable::erase(const Breakpoint& bp) {
    auto it = entries_.find(key(bp));
    if (it == entries_.end()) {
        return false;
    }
    conditional_ -= it->second.empty() ? 0 : 1;
    entries_.erase(it);
    return true;
}

BreakpointTable BreakpointTable::conditional_part() const {
    BreakpointTable out;
    for (const auto& [k, conditions] : entries_) {
        if (conditions.empty()) {
            continue;
        }
        auto type = static_cast<BreakpointType>(std::get<0>(k));
        std::uint64_t addr = std::get<1>(k);
        if (out.contains(Breakpoint{type, addr, std::get<2>(k)})) {
            continue;  // its (type, address) group is copied already
        }
        for (auto it = entries_.lower_bound(Key{std::get<0>(k), addr, 0});
             it != entries_.end() && std::get<0>(it->first) == std::get<0>(k) && std::get<1>(it->first) == addr; ++it) {
            out.set(Breakpoint{type, addr, std::get<2>(it->first)}, it->second);
        }
    }
    return out;
}

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
