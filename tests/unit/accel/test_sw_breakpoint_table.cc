// The software breakpoint table (accel/kvm/sw_breakpoint_table.h) over a
// fake guest memory: refcounts, restore rules, shadowed reads, debugger
// writes over breakpoints, memory errors, and 10,000 entries.
#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "accel/kvm/sw_breakpoint_table.h"
#include "tests/support/cunit_main.h"

namespace {

using kvmdbg::Status;
using kvmdbg::accel::kvm::MemoryAccess;
using kvmdbg::accel::kvm::SwBreakpointTable;

constexpr std::uint8_t kInt3[] = {0xcc};
constexpr std::uint8_t kBrk[] = {0x00, 0x00, 0x20, 0xd4};  // arm64 brk #0
constexpr std::uint64_t kFaultBase = 0xdead0000;           // [kFaultBase, +4 KiB) faults

// Sparse fake memory: every address holds pattern(addr) until written.
class FakeMemory : public MemoryAccess {
public:
    static std::uint8_t pattern(std::uint64_t a) { return static_cast<std::uint8_t>(a * 131 + (a >> 8) + 7); }

    Status read(std::uint64_t addr, std::span<std::uint8_t> out) override {
        ++reads;
        for (std::size_t i = 0; i < out.size(); ++i) {
            if (faults(addr + i) || fail_reads) {
                return kvmdbg::make_error(EFAULT, "bad address");
            }
            out[i] = at(addr + i);
        }
        return kvmdbg::ok_status();
    }
    Status write(std::uint64_t addr, std::span<const std::uint8_t> in) override {
        ++writes;
        for (std::size_t i = 0; i < in.size(); ++i) {
            if (faults(addr + i) || fail_writes) {
                return kvmdbg::make_error(EFAULT, "bad address");
            }
        }
        for (std::size_t i = 0; i < in.size(); ++i) {
            bytes[addr + i] = in[i];
        }
        return kvmdbg::ok_status();
    }

    std::uint8_t at(std::uint64_t a) const {
        auto it = bytes.find(a);
        return it == bytes.end() ? pattern(a) : it->second;
    }
    std::vector<std::uint8_t> get(std::uint64_t a, std::size_t n) {
        std::vector<std::uint8_t> v(n);
        CU_ASSERT_FATAL(read(a, v).ok());
        return v;
    }
    // True if every byte ever written holds its original pattern again.
    bool pristine() const {
        return std::all_of(bytes.begin(), bytes.end(), [](const auto& kv) { return kv.second == pattern(kv.first); });
    }

    static bool faults(std::uint64_t a) { return a >= kFaultBase && a < kFaultBase + 0x1000; }

    std::unordered_map<std::uint64_t, std::uint8_t> bytes;
    int reads = 0;
    int writes = 0;
    bool fail_reads = false;
    bool fail_writes = false;
};

SwBreakpointTable make(std::span<const std::uint8_t> opcode) {
    auto t = SwBreakpointTable::create(opcode);
    CU_ASSERT_FATAL(t.ok());
    return std::move(t).value();
}

// -------------------------------------------------------------- basics

void test_create_rejects_bad_opcodes() {
    auto empty = SwBreakpointTable::create({});
    CU_ASSERT_FATAL(!empty.ok());
    CU_ASSERT_EQUAL(empty.error().code, EINVAL);
    std::vector<std::uint8_t> long_op(SwBreakpointTable::kMaxOpcodeLen + 1, 0xcc);
    auto too_long = SwBreakpointTable::create(long_op);
    CU_ASSERT_FATAL(!too_long.ok());
    CU_ASSERT_EQUAL(too_long.error().code, EINVAL);
    std::vector<std::uint8_t> max_op(SwBreakpointTable::kMaxOpcodeLen, 0xcc);
    CU_ASSERT(SwBreakpointTable::create(max_op).ok());
}

void test_insert_writes_opcode_and_remove_restores() {
    FakeMemory mem;
    SwBreakpointTable t = make(kInt3);
    const std::uint8_t orig = FakeMemory::pattern(0x401000);
    CU_ASSERT_FATAL(t.insert(0x401000, mem).ok());
    CU_ASSERT_EQUAL(mem.at(0x401000), 0xcc);
    CU_ASSERT_EQUAL(mem.at(0x401001), FakeMemory::pattern(0x401001));
    CU_ASSERT(t.contains(0x401000));
    CU_ASSERT(!t.contains(0x401001));
    CU_ASSERT(!t.contains(0x400fff));
    CU_ASSERT_EQUAL(t.size(), 1u);
    CU_ASSERT((t.saved_bytes(0x401000) == std::vector<std::uint8_t>{orig}));
    CU_ASSERT(!t.saved_bytes(0x401001).has_value());
    CU_ASSERT_FATAL(t.remove(0x401000, mem).ok());
    CU_ASSERT_EQUAL(mem.at(0x401000), orig);
    CU_ASSERT(!t.contains(0x401000));
    CU_ASSERT(mem.pristine());
    auto again = t.remove(0x401000, mem);
    CU_ASSERT_FATAL(!again.ok());
    CU_ASSERT_EQUAL(again.error().code, ENOENT);
}

void test_refcount() {
    FakeMemory mem;
    SwBreakpointTable t = make(kInt3);
    CU_ASSERT_FATAL(t.insert(0x1000, mem).ok());
    const int writes = mem.writes;
    CU_ASSERT_FATAL(t.insert(0x1000, mem).ok());
    CU_ASSERT_EQUAL(mem.writes, writes);  // no second write, nothing re-saved
    CU_ASSERT_EQUAL(t.refcount(0x1000), 2u);
    CU_ASSERT((t.saved_bytes(0x1000) == std::vector<std::uint8_t>{FakeMemory::pattern(0x1000)}));
    CU_ASSERT_FATAL(t.remove(0x1000, mem).ok());
    CU_ASSERT(t.contains(0x1000));
    CU_ASSERT_EQUAL(t.refcount(0x1000), 1u);
    CU_ASSERT_EQUAL(mem.at(0x1000), 0xcc);
    CU_ASSERT_FATAL(t.remove(0x1000, mem).ok());
    CU_ASSERT_EQUAL(t.refcount(0x1000), 0u);
    CU_ASSERT(mem.pristine());
}

void test_guest_overwrite_is_kept() {
    FakeMemory mem;
    SwBreakpointTable t = make(kInt3);
    CU_ASSERT_FATAL(t.insert(0x2000, mem).ok());
    mem.bytes[0x2000] = 0x90;  // the guest rewrote its code
    CU_ASSERT_FATAL(t.remove(0x2000, mem).ok());
    CU_ASSERT_EQUAL(mem.at(0x2000), 0x90);

    // Multi-byte opcode: one changed byte is enough to leave memory alone.
    SwBreakpointTable a = make(kBrk);
    CU_ASSERT_FATAL(a.insert(0x3000, mem).ok());
    mem.bytes[0x3002] = 0x11;
    CU_ASSERT_FATAL(a.remove(0x3000, mem).ok());
    CU_ASSERT_EQUAL(mem.at(0x3000), 0x00);
    CU_ASSERT_EQUAL(mem.at(0x3001), 0x00);
    CU_ASSERT_EQUAL(mem.at(0x3002), 0x11);
    CU_ASSERT_EQUAL(mem.at(0x3003), 0xd4);
}

void test_remove_all() {
    FakeMemory mem;
    SwBreakpointTable t = make(kInt3);
    for (std::uint64_t a = 0x5000; a < 0x5010; a += 3) {
        CU_ASSERT_FATAL(t.insert(a, mem).ok());
        CU_ASSERT_FATAL(t.insert(a, mem).ok());  // refcount 2: remove_all ignores it
    }
    mem.bytes[0x5003] = 0x42;  // guest rewrite survives
    CU_ASSERT_FATAL(t.remove_all(mem).ok());
    CU_ASSERT_EQUAL(t.size(), 0u);
    CU_ASSERT_EQUAL(mem.at(0x5003), 0x42);
    mem.bytes.erase(0x5003);
    CU_ASSERT(mem.pristine());
}

// -------------------------------------------------------- shadowed reads

void test_shadow_read_x86() {
    FakeMemory mem;
    SwBreakpointTable t = make(kInt3);
    for (std::uint64_t a : {0x1000u, 0x1002u, 0x1005u}) {
        CU_ASSERT_FATAL(t.insert(a, mem).ok());
    }
    std::vector<std::uint8_t> buf = mem.get(0x1001, 5);  // 0x1001..0x1005
    CU_ASSERT_EQUAL(buf[1], 0xcc);
    CU_ASSERT_EQUAL(buf[4], 0xcc);
    t.shadow_read(0x1001, buf);
    for (std::size_t i = 0; i < buf.size(); ++i) {
        CU_ASSERT_EQUAL(buf[i], FakeMemory::pattern(0x1001 + i));
    }
    // A buffer that touches no breakpoint is untouched.
    std::vector<std::uint8_t> other(4, 0x77);
    t.shadow_read(0x1006, other);
    CU_ASSERT((other == std::vector<std::uint8_t>(4, 0x77)));
    t.shadow_read(0x1000, std::span<std::uint8_t>());  // empty: nothing to do
}

void test_shadow_read_partial_overlaps_multibyte() {
    FakeMemory mem;
    SwBreakpointTable t = make(kBrk);
    CU_ASSERT_FATAL(t.insert(0x2000, mem).ok());
    CU_ASSERT_FATAL(t.insert(0x2008, mem).ok());
    // Tail of the first (2 bytes), 4 plain bytes, head of the second (2 bytes).
    std::vector<std::uint8_t> buf = mem.get(0x2002, 8);
    CU_ASSERT_EQUAL(buf[0], 0x20);
    CU_ASSERT_EQUAL(buf[7], 0x00);
    t.shadow_read(0x2002, buf);
    for (std::size_t i = 0; i < buf.size(); ++i) {
        CU_ASSERT_EQUAL(buf[i], FakeMemory::pattern(0x2002 + i));
    }
    // Strictly inside one breakpoint.
    std::vector<std::uint8_t> in = mem.get(0x2009, 2);
    t.shadow_read(0x2009, in);
    CU_ASSERT_EQUAL(in[0], FakeMemory::pattern(0x2009));
    CU_ASSERT_EQUAL(in[1], FakeMemory::pattern(0x200a));
    // The top of the address space: no wrap trouble.
    SwBreakpointTable x = make(kInt3);
    CU_ASSERT_FATAL(x.insert(0xffffffffffffffffull, mem).ok());
    std::vector<std::uint8_t> top = {0x11, 0xcc};
    x.shadow_read(0xfffffffffffffffeull, top);
    CU_ASSERT_EQUAL(top[0], 0x11);
    CU_ASSERT_EQUAL(top[1], FakeMemory::pattern(0xffffffffffffffffull));
}

void test_shadow_read_random_matches_original() {
    // Both lookup strategies (probe candidates / scan entries) must agree
    // with memory as it was before any insert.
    for (auto opcode : {std::span<const std::uint8_t>(kInt3), std::span<const std::uint8_t>(kBrk)}) {
        FakeMemory mem;
        SwBreakpointTable t = make(opcode);
        std::mt19937_64 rng(42);
        for (int i = 0; i < 300; ++i) {
            std::uint64_t a = 0x10000 + (rng() % 0x2000);
            (void)t.insert(a, mem);  // overlapping multi-byte inserts are refused; fine
        }
        CU_ASSERT(t.size() > 100);
        for (int i = 0; i < 2000; ++i) {
            std::uint64_t a = 0x10000 - 8 + (rng() % 0x2010);
            std::size_t n = 1 + rng() % (i % 2 == 0 ? 16 : 1024);
            std::vector<std::uint8_t> buf = mem.get(a, n);
            t.shadow_read(a, buf);
            bool same = true;
            for (std::size_t k = 0; k < n; ++k) {
                same = same && buf[k] == FakeMemory::pattern(a + k);
            }
            CU_ASSERT(same);
        }
    }
}

// ------------------------------------------------------ debugger writes

void test_debugger_write_over_breakpoint() {
    FakeMemory mem;
    SwBreakpointTable t = make(kInt3);
    CU_ASSERT_FATAL(t.insert(0x1000, mem).ok());
    std::vector<std::uint8_t> buf = {0x01, 0x02, 0x03};  // to 0xfff..0x1001
    t.note_debugger_write(0xfff, buf);
    CU_ASSERT((buf == std::vector<std::uint8_t>{0x01, 0xcc, 0x03}));
    CU_ASSERT((t.saved_bytes(0x1000) == std::vector<std::uint8_t>{0x02}));
    CU_ASSERT_FATAL(mem.write(0xfff, buf).ok());
    CU_ASSERT_EQUAL(mem.at(0x1000), 0xcc);  // still armed
    std::vector<std::uint8_t> seen = mem.get(0xfff, 3);
    t.shadow_read(0xfff, seen);
    CU_ASSERT((seen == std::vector<std::uint8_t>{0x01, 0x02, 0x03}));
    CU_ASSERT_FATAL(t.remove(0x1000, mem).ok());
    CU_ASSERT_EQUAL(mem.at(0x1000), 0x02);  // the debugger's byte, not the old one
}

void test_debugger_write_partial_multibyte() {
    FakeMemory mem;
    SwBreakpointTable t = make(kBrk);
    CU_ASSERT_FATAL(t.insert(0x4000, mem).ok());
    const std::uint8_t o0 = FakeMemory::pattern(0x4000), o1 = FakeMemory::pattern(0x4001);
    std::vector<std::uint8_t> buf = {0xaa, 0xbb, 0xcc, 0xdd};  // 0x4002..0x4005
    t.note_debugger_write(0x4002, buf);
    CU_ASSERT((buf == std::vector<std::uint8_t>{0x20, 0xd4, 0xcc, 0xdd}));
    CU_ASSERT((t.saved_bytes(0x4000) == std::vector<std::uint8_t>{o0, o1, 0xaa, 0xbb}));
    CU_ASSERT_FATAL(mem.write(0x4002, buf).ok());
    CU_ASSERT_FATAL(t.remove(0x4000, mem).ok());
    CU_ASSERT((mem.get(0x4000, 6) == std::vector<std::uint8_t>{o0, o1, 0xaa, 0xbb, 0xcc, 0xdd}));
}

// ------------------------------------------------------------ errors

void test_memory_errors() {
    FakeMemory mem;
    SwBreakpointTable t = make(kInt3);
    auto bad = t.insert(kFaultBase + 4, mem);
    CU_ASSERT_FATAL(!bad.ok());
    CU_ASSERT_EQUAL(bad.error().code, EFAULT);
    CU_ASSERT(bad.error().message.find("0xdead0004") != std::string::npos);
    CU_ASSERT(!t.contains(kFaultBase + 4));

    mem.fail_writes = true;
    auto wfail = t.insert(0x1000, mem);
    CU_ASSERT_FATAL(!wfail.ok());
    CU_ASSERT(!t.contains(0x1000));
    mem.fail_writes = false;

    CU_ASSERT_FATAL(t.insert(0x1000, mem).ok());
    mem.fail_reads = true;
    auto rfail = t.remove(0x1000, mem);
    CU_ASSERT_FATAL(!rfail.ok());
    CU_ASSERT_EQUAL(rfail.error().code, EFAULT);
    CU_ASSERT(!t.contains(0x1000));  // forgotten anyway, as documented
    mem.fail_reads = false;
}

void test_multibyte_overlap_and_wrap_rejected() {
    FakeMemory mem;
    SwBreakpointTable t = make(kBrk);
    CU_ASSERT_FATAL(t.insert(0x2000, mem).ok());
    for (std::uint64_t a : {0x1ffdu, 0x1ffeu, 0x1fffu, 0x2001u, 0x2002u, 0x2003u}) {
        auto r = t.insert(a, mem);
        CU_ASSERT_FATAL(!r.ok());
        CU_ASSERT_EQUAL(r.error().code, EINVAL);
    }
    CU_ASSERT(t.insert(0x1ffc, mem).ok());
    CU_ASSERT(t.insert(0x2004, mem).ok());
    auto wrap = t.insert(0xfffffffffffffffeull, mem);
    CU_ASSERT_FATAL(!wrap.ok());
    CU_ASSERT_EQUAL(wrap.error().code, EINVAL);
    CU_ASSERT_EQUAL(t.size(), 3u);
}

// ------------------------------------------------------------ scale

std::size_t max_lookup_cost(const SwBreakpointTable& t, const std::vector<std::uint64_t>& keys) {
    std::size_t worst = 0;
    for (std::uint64_t k : keys) {
        worst = std::max({worst, t.lookup_cost(k), t.lookup_cost(k + 1)});
    }
    return worst;
}

void test_ten_thousand_entries_restored_byte_for_byte() {
    // Strides a debugger really produces: every few bytes, cache lines, pages.
    for (std::uint64_t stride : {3ull, 64ull, 4096ull}) {
        FakeMemory mem;
        SwBreakpointTable t = make(kInt3);
        std::vector<std::uint64_t> keys;
        for (std::uint64_t i = 0; i < 10000; ++i) {
            keys.push_back(0x100000 + i * stride);
        }
        for (std::uint64_t k : keys) {
            CU_ASSERT_FATAL(t.insert(k, mem).ok());
        }
        CU_ASSERT_EQUAL(t.size(), 10000u);
        bool all = true;
        for (std::uint64_t k : keys) {
            all = all && t.contains(k) && mem.at(k) == 0xcc && !t.contains(k + 1);
        }
        CU_ASSERT(all);
        // O(1) lookups: a lookup compares against a bucket whose size is
        // bounded by a constant, at 10 entries and at 10,000 alike.
        CU_ASSERT(max_lookup_cost(t, keys) <= 8);

        std::vector<std::uint64_t> order = keys;
        std::shuffle(order.begin(), order.end(), std::mt19937_64(stride));
        for (std::uint64_t k : order) {
            CU_ASSERT_FATAL(t.remove(k, mem).ok());
        }
        CU_ASSERT_EQUAL(t.size(), 0u);
        CU_ASSERT(mem.pristine());
        CU_ASSERT_EQUAL(mem.bytes.size(), 10000u);  // every byte written back, none missed
    }
}

void test_lookup_cost_does_not_grow_with_count() {
    FakeMemory mem;
    SwBreakpointTable t = make(kInt3);
    std::vector<std::uint64_t> keys;
    std::size_t at_10 = 0;
    for (std::uint64_t i = 0; i < 10000; ++i) {
        keys.push_back(0xffffffff80000000ull + i * 0x1000);  // kernel text, page aligned
        CU_ASSERT_FATAL(t.insert(keys.back(), mem).ok());
        if (i + 1 == 10) {
            at_10 = max_lookup_cost(t, keys);
        }
    }
    std::size_t at_10000 = max_lookup_cost(t, keys);
    CU_ASSERT(at_10 <= 8);
    CU_ASSERT(at_10000 <= 8);
    // Misses are as cheap as hits.
    std::size_t worst_miss = 0;
    for (std::uint64_t k : keys) {
        worst_miss = std::max(worst_miss, t.lookup_cost(k + 0x800));
    }
    CU_ASSERT(worst_miss <= 8);
    CU_ASSERT_FATAL(t.remove_all(mem).ok());
    CU_ASSERT(mem.pristine());
}

const kvmdbg::test::TestCase kBasicCases[] = {
    {"create rejects bad opcodes", test_create_rejects_bad_opcodes},
    {"insert writes opcode, remove restores", test_insert_writes_opcode_and_remove_restores},
    {"refcount", test_refcount},
    {"guest overwrite is kept", test_guest_overwrite_is_kept},
    {"remove_all", test_remove_all},
};

const kvmdbg::test::TestCase kShadowCases[] = {
    {"x86 shadow read", test_shadow_read_x86},
    {"partial overlaps, multi-byte opcode", test_shadow_read_partial_overlaps_multibyte},
    {"random reads match the original", test_shadow_read_random_matches_original},
    {"debugger write over a breakpoint", test_debugger_write_over_breakpoint},
    {"debugger write over part of a multi-byte breakpoint", test_debugger_write_partial_multibyte},
};

const kvmdbg::test::TestCase kErrorCases[] = {
    {"memory errors", test_memory_errors},
    {"multi-byte overlap and wrap rejected", test_multibyte_overlap_and_wrap_rejected},
};

const kvmdbg::test::TestCase kScaleCases[] = {
    {"10,000 entries restored byte for byte", test_ten_thousand_entries_restored_byte_for_byte},
    {"lookup cost independent of count", test_lookup_cost_does_not_grow_with_count},
};

const kvmdbg::test::TestSuite kSuites[] = {
    {"basic", kBasicCases},
    {"shadow", kShadowCases},
    {"errors", kErrorCases},
    {"scale", kScaleCases},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
