#include "accel/kvm/sw_breakpoint_table.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "common/hex_string.h"

namespace kvmdbg::accel::kvm {

namespace {

Error with_context(const Error& e, const std::string& what) { return make_error(e.code, what + ": " + e.message); }

}  // namespace

SwBreakpointTable::SwBreakpointTable(std::span<const std::uint8_t> opcode) : len_(opcode.size()) {
    std::copy(opcode.begin(), opcode.end(), opcode_.begin());
}

Result<SwBreakpointTable> SwBreakpointTable::create(std::span<const std::uint8_t> opcode) {
    if (opcode.empty() || opcode.size() > kMaxOpcodeLen) {
        return make_error(EINVAL, "software breakpoint opcode of " + std::to_string(opcode.size()) + " bytes (1 to " +
                                      std::to_string(kMaxOpcodeLen) + ")");
    }
    return SwBreakpointTable(opcode);
}

template <typename MapT, typename Fn>
void SwBreakpointTable::for_each_overlap(MapT& map, std::size_t len, std::uint64_t addr, std::size_t n, Fn&& fn) {
    if (n == 0 || map.empty()) {
        return;
    }
    // Offsets are computed modulo 2^64, so a buffer or breakpoint that ends
    // at the top of the address space needs no special case.
    auto visit = [&](std::uint64_t bp, auto& entry) {
        for (std::size_t k = 0; k < len; ++k) {
            std::uint64_t off = bp + k - addr;
            if (off < n) {
                fn(entry, static_cast<std::size_t>(off), k);
            }
        }
    };
    const std::size_t candidates = n + len - 1;
    if (candidates >= n && candidates <= map.size()) {
        // Few candidate start addresses: probe each, O(n + len).
        const std::uint64_t first = addr - (len - 1);
        for (std::size_t j = 0; j < candidates; ++j) {
            auto it = map.find(first + j);
            if (it != map.end()) {
                visit(it->first, it->second);
            }
        }
    } else {
        // Fewer breakpoints than candidate addresses: O(size()).
        for (auto& [bp, entry] : map) {
            visit(bp, entry);
        }
    }
}

Status SwBreakpointTable::insert(std::uint64_t addr, MemoryAccess& mem) {
    if (auto it = entries_.find(addr); it != entries_.end()) {
        ++it->second.refs;
        return ok_status();
    }
    if (addr + (len_ - 1) < addr) {
        return make_error(EINVAL, "software breakpoint at " + hex_string(addr) +
                                      " would wrap past the end of the address space");
    }
    for (std::size_t j = 1; j < len_; ++j) {
        for (std::uint64_t other : {addr - j, addr + j}) {
            if (entries_.count(other) != 0) {
                return make_error(EINVAL, "software breakpoint at " + hex_string(addr) + " overlaps the one at " +
                                              hex_string(other));
            }
        }
    }
    Entry e;
    e.refs = 1;
    if (Status s = mem.read(addr, std::span(e.saved.data(), len_)); !s) {
        return with_context(s.error(), "inserting software breakpoint at " + hex_string(addr));
    }
    if (Status s = mem.write(addr, opcode()); !s) {
        return with_context(s.error(), "inserting software breakpoint at " + hex_string(addr));
    }
    entries_.emplace(addr, e);
    return ok_status();
}

Status SwBreakpointTable::restore(std::uint64_t addr, const Entry& e, MemoryAccess& mem) const {
    std::array<std::uint8_t, kMaxOpcodeLen> now{};
    if (Status s = mem.read(addr, std::span(now.data(), len_)); !s) {
        return with_context(s.error(), "removing software breakpoint at " + hex_string(addr));
    }
    if (std::memcmp(now.data(), opcode_.data(), len_) != 0) {
        return ok_status();  // the guest rewrote it: its bytes win
    }
    if (Status s = mem.write(addr, std::span<const std::uint8_t>(e.saved.data(), len_)); !s) {
        return with_context(s.error(), "removing software breakpoint at " + hex_string(addr));
    }
    return ok_status();
}

Status SwBreakpointTable::remove(std::uint64_t addr, MemoryAccess& mem) {
    auto it = entries_.find(addr);
    if (it == entries_.end()) {
        return make_error(ENOENT, "no software breakpoint at " + hex_string(addr));
    }
    if (--it->second.refs > 0) {
        return ok_status();
    }
    const Entry e = it->second;
    entries_.erase(it);
    return restore(addr, e, mem);
}

Status SwBreakpointTable::remove_all(MemoryAccess& mem) {
    Status first;
    for (const auto& [addr, e] : entries_) {
        Status s = restore(addr, e, mem);
        if (!s && first) {
            first = s;
        }
    }
    entries_.clear();
    return first;
}

bool SwBreakpointTable::contains(std::uint64_t addr) const { return entries_.count(addr) != 0; }

unsigned SwBreakpointTable::refcount(std::uint64_t addr) const {
    auto it = entries_.find(addr);
    return it == entries_.end() ? 0 : it->second.refs;
}

std::optional<std::vector<std::uint8_t>> SwBreakpointTable::saved_bytes(std::uint64_t addr) const {
    auto it = entries_.find(addr);
    if (it == entries_.end()) {
        return std::nullopt;
    }
    return std::vector<std::uint8_t>(it->second.saved.begin(), it->second.saved.begin() + len_);
}

void SwBreakpointTable::shadow_read(std::uint64_t addr, std::span<std::uint8_t> buf) const {
    for_each_overlap(entries_, len_, addr, buf.size(),
                     [&](const Entry& e, std::size_t off, std::size_t k) { buf[off] = e.saved[k]; });
}

void SwBreakpointTable::note_debugger_write(std::uint64_t addr, std::span<std::uint8_t> buf) {
    for_each_overlap(entries_, len_, addr, buf.size(), [&](Entry& e, std::size_t off, std::size_t k) {
        e.saved[k] = buf[off];
        buf[off] = opcode_[k];
    });
}

std::size_t SwBreakpointTable::lookup_cost(std::uint64_t addr) const {
    if (entries_.bucket_count() == 0) {
        return 0;
    }
    return entries_.bucket_size(entries_.bucket(addr));
}

}  // namespace kvmdbg::accel::kvm
