// SwBreakpointTable: the debugger's software breakpoints of one VM, keyed by
// guest address, with the original bytes they replaced.
//
// A software breakpoint is the architecture's breakpoint instruction written
// over guest code: x86 `int3` (0xCC, 1 byte; Intel SDM Vol. 2A "INT n/INTO/
// INT3/INT1"), arm64 `brk #0` (00 00 20 d4, 4 bytes; ARM ARM C6.2 "BRK").
// KVM learns about it through KVM_GUESTDBG_USE_SW_BP and reports the trap
// as KVM_EXIT_DEBUG (Documentation/virt/kvm/api.rst "KVM_SET_GUEST_DEBUG");
// contains(pc) then tells the exit classifier whether it is ours.
//
//   addr -> Entry { saved[len] : the guest's bytes before the first insert
//                   refs       : inserts minus removes (gdb may insert twice) }
//
//   guest memory while inserted:   ... | opcode[0..len) | ...
//   what the debugger reads:       ... | saved[0..len)  | ...   (shadow_read)
//
// Lookups are O(1) (std::unordered_map with a mixing hash) and stay O(1)
// at 10,000 entries: contains() runs on every debug exit.
//
// Memory errors never leave the table inconsistent: an insert that cannot
// read or write memory is not recorded; a removal whose memory access fails
// is still removed from the table and the error returned.
//
// Threads: not synchronised. The accelerator owns one table per VM and uses
// it with every vCPU stopped (gdb inserts and removes only while stopped),
// or under its own lock.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/result.h"

namespace kvmdbg::accel::kvm {

/// Guest memory as the breakpoint table sees it: a tiny interface so the
/// accelerator can back it with guest RAM (through the page walker for
/// virtual addresses) and tests with a fake. Addresses are the debugger's
/// (gdb's: guest virtual); the table never interprets them.
class MemoryAccess {
public:
    virtual ~MemoryAccess() = default;
    /// Copies out.size() bytes at `addr` into `out`. Errors: EFAULT (or any
    /// errno) naming the address when it is not accessible.
    virtual Status read(std::uint64_t addr, std::span<std::uint8_t> out) = 0;
    /// Copies `in` to `addr`. Errors: as read().
    virtual Status write(std::uint64_t addr, std::span<const std::uint8_t> in) = 0;
};

class SwBreakpointTable {
public:
    /// Longest breakpoint instruction supported.
    static constexpr std::size_t kMaxOpcodeLen = 16;

    /// A table for the breakpoint instruction `opcode` (its length is the
    /// number of bytes saved per breakpoint). Errors: EINVAL for an empty
    /// opcode or one longer than kMaxOpcodeLen.
    static Result<SwBreakpointTable> create(std::span<const std::uint8_t> opcode);

    /// Inserts a breakpoint at `addr`. The first insert saves the bytes at
    /// [addr, addr + len) and writes the opcode; later inserts at the same
    /// address only count a reference.
    /// Errors: EINVAL if the range wraps past 2^64 or overlaps another
    /// breakpoint at a different address (opcodes longer than 1 byte);
    /// the error of mem.read / mem.write (nothing is recorded then, and a
    /// failed write leaves memory as it was as far as `mem` guarantees).
    Status insert(std::uint64_t addr, MemoryAccess& mem);

    /// Drops one reference to the breakpoint at `addr`. When the last one
    /// goes, the saved bytes are written back ONLY if the opcode is still in
    /// memory: a guest that rewrote the bytes (self-modifying code, a module
    /// loaded over freed memory) keeps its write.
    /// Errors: ENOENT if there is no breakpoint at `addr`; the error of the
    /// memory access (the breakpoint is forgotten anyway).
    Status remove(std::uint64_t addr, MemoryAccess& mem);

    /// Removes every breakpoint regardless of its count, restoring memory as
    /// remove() does. Returns the first memory error; the table ends empty.
    Status remove_all(MemoryAccess& mem);

    /// True if a breakpoint is inserted at exactly `addr`. O(1).
    bool contains(std::uint64_t addr) const;

    /// The reference count at `addr` (0 if none).
    unsigned refcount(std::uint64_t addr) const;

    /// The original bytes saved at `addr`, if a breakpoint is there (to step
    /// over it or to emulate the replaced instruction).
    std::optional<std::vector<std::uint8_t>> saved_bytes(std::uint64_t addr) const;

    /// Number of breakpoints (distinct addresses).
    std::size_t size() const { return entries_.size(); }

    /// The breakpoint instruction and its length.
    std::span<const std::uint8_t> opcode() const { return {opcode_.data(), len_}; }

    /// Rewrites `buf`, just read by the debugger from [addr, addr+buf.size()),
    /// so that it shows the saved original bytes wherever a breakpoint
    /// overlaps it, in whole or in part (as gdbserver does): the debugger
    /// must never see its own opcodes.
    void shadow_read(std::uint64_t addr, std::span<std::uint8_t> buf) const;

    /// Call before the debugger writes `buf` to [addr, addr+buf.size()):
    /// where the write overlaps a breakpoint, the written bytes become the
    /// new saved bytes and `buf` is rewritten to carry the opcode there, so
    /// the breakpoint stays armed and a later remove() restores what the
    /// debugger wrote. Then write `buf` to memory.
    void note_debugger_write(std::uint64_t addr, std::span<std::uint8_t> buf);

    /// Diagnostic: how many entries a lookup of `addr` compares against (the
    /// size of its hash bucket). Bounded by a small constant independent of
    /// size() when the hash spreads addresses; the unit test checks that.
    std::size_t lookup_cost(std::uint64_t addr) const;

private:
    struct Entry {
        std::array<std::uint8_t, kMaxOpcodeLen> saved{};
        unsigned refs = 0;
    };
    // splitmix64's finaliser: addresses are often multiples of a page or a
    // cache line, which an identity hash maps onto few buckets.
    struct AddrHash {
        std::size_t operator()(std::uint64_t a) const noexcept {
            a ^= a >> 30;
            a *= 0xbf58476d1ce4e5b9ull;
            a ^= a >> 27;
            a *= 0x94d049bb133111ebull;
            a ^= a >> 31;
            return static_cast<std::size_t>(a);
        }
    };
    using Map = std::unordered_map<std::uint64_t, Entry, AddrHash>;

    SwBreakpointTable(std::span<const std::uint8_t> opcode);

    // Calls fn(entry, offset_in_buf, offset_in_opcode) for every byte of a
    // breakpoint in `map` that falls inside [addr, addr + n). Defined in the .cc.
    template <typename MapT, typename Fn>
    static void for_each_overlap(MapT& map, std::size_t len, std::uint64_t addr, std::size_t n, Fn&& fn);

    // Writes the saved bytes back if the opcode is still there.
    Status restore(std::uint64_t addr, const Entry& e, MemoryAccess& mem) const;

    std::array<std::uint8_t, kMaxOpcodeLen> opcode_{};
    std::size_t len_ = 0;
    Map entries_;
};

}  // namespace kvmdbg::accel::kvm
