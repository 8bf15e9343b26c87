// x86 DR7/DR6 encoding, request splitting and slot placement
// (arch/x86/debug_regs.h), byte for byte against Intel SDM Vol. 3B 17.2.
#include <cstring>
#include <string>
#include <vector>

#include "arch/x86/debug_regs.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::arch::x86;

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

bool same_plan(const DebugRegPlan& a, const DebugRegPlan& b) {
    if (std::memcmp(&a.regs, &b.regs, sizeof a.regs) != 0) {
        return false;
    }
    for (unsigned n = 0; n < kNumDebugRegs; ++n) {
        const SlotOwner& x = a.owners[n];
        const SlotOwner& y = b.owners[n];
        if (x.kind != y.kind || x.guest_slot != y.guest_slot || x.request_id != y.request_id ||
            x.request.kind != y.request.kind || x.request.addr != y.request.addr || x.request.len != y.request.len) {
            return false;
        }
    }
    return true;
}

// ---------------------------------------------------------------- DR7 fields

void test_len_field_encodings() {
    // 17.2.4: LEN 00 = 1 byte, 01 = 2, 11 = 4, 10 = 8.
    CU_ASSERT_EQUAL(dr7_len_field(1).value(), 0b00u);
    CU_ASSERT_EQUAL(dr7_len_field(2).value(), 0b01u);
    CU_ASSERT_EQUAL(dr7_len_field(4).value(), 0b11u);
    CU_ASSERT_EQUAL(dr7_len_field(8).value(), 0b10u);
    CU_ASSERT_EQUAL(dr7_len_bytes(0b00), 1u);
    CU_ASSERT_EQUAL(dr7_len_bytes(0b01), 2u);
    CU_ASSERT_EQUAL(dr7_len_bytes(0b11), 4u);
    CU_ASSERT_EQUAL(dr7_len_bytes(0b10), 8u);
    for (std::uint64_t bad : {0ull, 3ull, 5ull, 6ull, 7ull, 9ull, 16ull, 1ull << 40}) {
        auto r = dr7_len_field(bad);
        CU_ASSERT_FATAL(!r.ok());
        CU_ASSERT_EQUAL(r.error().code, EINVAL);
    }
}

void test_set_slot_byte_exact() {
    // Slot 0, execute, local: only L0.
    CU_ASSERT_EQUAL(dr7_set_slot(0, 0, {true, false, Dr7Rw::exec, 1}).value(), 0x1ull);
    // Slot 1, write, 2 bytes, local: L1 (bit 2), R/W1=01 (bits 21:20), LEN1=01 (bits 23:22).
    CU_ASSERT_EQUAL(dr7_set_slot(0, 1, {true, false, Dr7Rw::write, 2}).value(), 0x500004ull);
    // Slot 2, write, 4 bytes, global: G2 (bit 5), R/W2=01 (25:24), LEN2=11 (27:26).
    CU_ASSERT_EQUAL(dr7_set_slot(0, 2, {false, true, Dr7Rw::write, 4}).value(), 0x0d000020ull);
    // Slot 3, access, 8 bytes, global: G3 (bit 7), R/W3=11 (29:28), LEN3=10 (31:30).
    CU_ASSERT_EQUAL(dr7_set_slot(0, 3, {false, true, Dr7Rw::access, 8}).value(), 0xb0000080ull);
    // Slot 0, I/O (only a guest would use it), 1 byte, both enables.
    CU_ASSERT_EQUAL(dr7_set_slot(0, 0, {true, true, Dr7Rw::io, 1}).value(), 0x20003ull);
}

void test_set_slot_keeps_other_bits() {
    std::uint64_t base = dr7::kFixed1 | dr7::kGD | dr7::kGE | 0xb0000080ull;  // slot 3 in use
    std::uint64_t v = dr7_set_slot(base, 1, {false, true, Dr7Rw::write, 2}).value();
    CU_ASSERT_EQUAL(v, base | 0x500008ull);
    // Replacing a slot clears its old fields first.
    std::uint64_t w = dr7_set_slot(v, 3, {true, false, Dr7Rw::exec, 1}).value();
    CU_ASSERT_EQUAL(w, dr7::kFixed1 | dr7::kGD | dr7::kGE | 0x500008ull | 0x40ull);
    CU_ASSERT_EQUAL(dr7_clear_slot(w, 1), dr7::kFixed1 | dr7::kGD | dr7::kGE | 0x40ull);
}

void test_set_slot_invalid() {
    auto exec_len2 = dr7_set_slot(0, 0, {true, false, Dr7Rw::exec, 2});
    CU_ASSERT_FATAL(!exec_len2.ok());
    CU_ASSERT_EQUAL(exec_len2.error().code, EINVAL);
    auto len3 = dr7_set_slot(0, 0, {true, false, Dr7Rw::write, 3});
    CU_ASSERT_FATAL(!len3.ok());
    CU_ASSERT_EQUAL(len3.error().code, EINVAL);
    auto slot4 = dr7_set_slot(0, 4, {true, false, Dr7Rw::write, 1});
    CU_ASSERT_FATAL(!slot4.ok());
    CU_ASSERT_EQUAL(slot4.error().code, EINVAL);
}

void test_get_slot_round_trip_every_combination() {
    const Dr7Rw rws[] = {Dr7Rw::exec, Dr7Rw::write, Dr7Rw::io, Dr7Rw::access};
    for (unsigned n = 0; n < kNumDebugRegs; ++n) {
        for (Dr7Rw rw : rws) {
            for (unsigned len : {1u, 2u, 4u, 8u}) {
                if (rw == Dr7Rw::exec && len != 1) {
                    continue;
                }
                for (int en = 1; en < 4; ++en) {
                    Dr7Slot in{(en & 1) != 0, (en & 2) != 0, rw, len};
                    std::uint64_t v = dr7_set_slot(dr7::kInit, n, in).value();
                    Dr7Slot out = dr7_get_slot(v, n);
                    CU_ASSERT_EQUAL(out.local, in.local);
                    CU_ASSERT_EQUAL(out.global, in.global);
                    CU_ASSERT(out.rw == rw);
                    CU_ASSERT_EQUAL(out.len, len);
                    CU_ASSERT(dr7_slot_enabled(v, n));
                    CU_ASSERT_EQUAL(dr7_enabled_mask(v), 1u << n);
                    // No other slot is touched.
                    CU_ASSERT_EQUAL(dr7_clear_slot(v, n), dr7::kInit);
                }
            }
        }
    }
}

// ------------------------------------------------------------------ splitting

std::vector<DebugRange> split(DebugAccess kind, std::uint64_t addr, std::uint64_t len) {
    auto r = split_debug_request({kind, addr, len});
    CU_ASSERT_FATAL(r.ok());
    return r.value();
}

void test_split_aligned_lengths_are_one_piece() {
    for (std::uint64_t len : {1ull, 2ull, 4ull, 8ull}) {
        for (DebugAccess k : {DebugAccess::write, DebugAccess::access}) {
            auto p = split(k, 0x10000, len);
            CU_ASSERT_EQUAL_FATAL(p.size(), 1u);
            CU_ASSERT(p[0] == (DebugRange{0x10000, len}));
            auto q = split(k, 0x10000 + 8 * len, len);
            CU_ASSERT_EQUAL_FATAL(q.size(), 1u);
            CU_ASSERT(q[0] == (DebugRange{0x10000 + 8 * len, len}));
        }
    }
}

void test_split_examples() {
    CU_ASSERT(split(DebugAccess::write, 0x1003, 6) == (std::vector<DebugRange>{{0x1003, 1}, {0x1004, 4}, {0x1008, 1}}));
    CU_ASSERT(split(DebugAccess::write, 0x1001, 2) == (std::vector<DebugRange>{{0x1001, 1}, {0x1002, 1}}));
    CU_ASSERT(split(DebugAccess::access, 0x1002, 4) == (std::vector<DebugRange>{{0x1002, 2}, {0x1004, 2}}));
    CU_ASSERT(split(DebugAccess::write, 0x1004, 8) == (std::vector<DebugRange>{{0x1004, 4}, {0x1008, 4}}));
    CU_ASSERT(split(DebugAccess::write, 0x1000, 3) == (std::vector<DebugRange>{{0x1000, 2}, {0x1002, 1}}));
    CU_ASSERT(split(DebugAccess::write, 0x1000, 16) == (std::vector<DebugRange>{{0x1000, 8}, {0x1008, 8}}));
    CU_ASSERT(split(DebugAccess::write, 0x1000, 32) ==
              (std::vector<DebugRange>{{0x1000, 8}, {0x1008, 8}, {0x1010, 8}, {0x1018, 8}}));
    CU_ASSERT(split(DebugAccess::write, 0x1001, 15) ==
              (std::vector<DebugRange>{{0x1001, 1}, {0x1002, 2}, {0x1004, 4}, {0x1008, 8}}));
    // Ends exactly at 2^64: no wrap.
    CU_ASSERT(split(DebugAccess::write, 0xfffffffffffffff8ull, 8) ==
              (std::vector<DebugRange>{{0xfffffffffffffff8ull, 8}}));
    // Execute breakpoints: one byte at any address.
    CU_ASSERT(split(DebugAccess::exec, 0x401003, 1) == (std::vector<DebugRange>{{0x401003, 1}}));
}

// Minimal number of aligned 1/2/4/8 blocks covering [a, a+len), by DP.
unsigned min_pieces(std::uint64_t a, std::uint64_t len) {
    std::vector<unsigned> best(len + 1, ~0u);
    best[0] = 0;
    for (std::uint64_t i = 0; i < len; ++i) {
        if (best[i] == ~0u) {
            continue;
        }
        for (std::uint64_t s : {1ull, 2ull, 4ull, 8ull}) {
            if ((a + i) % s == 0 && i + s <= len && best[i] + 1 < best[i + s]) {
                best[i + s] = best[i] + 1;
            }
        }
    }
    return best[len];
}

void test_split_is_minimal_exact_and_aligned() {
    for (std::uint64_t a = 0x2000; a < 0x2000 + 32; ++a) {
        for (std::uint64_t len = 1; len <= 40; ++len) {
            auto r = split_debug_request({DebugAccess::write, a, len});
            unsigned want = min_pieces(a, len);
            if (want > kNumDebugRegs) {
                CU_ASSERT_FATAL(!r.ok());
                CU_ASSERT_EQUAL(r.error().code, ENOSPC);
                continue;
            }
            CU_ASSERT_FATAL(r.ok());
            CU_ASSERT_EQUAL(r->size(), want);
            std::uint64_t next = a;
            for (const DebugRange& p : r.value()) {
                CU_ASSERT(p.len == 1 || p.len == 2 || p.len == 4 || p.len == 8);
                CU_ASSERT_EQUAL(p.addr % p.len, 0u);
                CU_ASSERT_EQUAL(p.addr, next);
                next = p.addr + p.len;
            }
            CU_ASSERT_EQUAL(next, a + len);
        }
    }
}

void test_split_invalid() {
    auto read = split_debug_request({DebugAccess::read, 0x1000, 4});
    CU_ASSERT_FATAL(!read.ok());
    CU_ASSERT_EQUAL(read.error().code, ENOTSUP);
    CU_ASSERT(contains(read.error().message, "x86 has no read-only watchpoints"));

    for (DebugAccess k : {DebugAccess::exec, DebugAccess::write, DebugAccess::access}) {
        auto zero = split_debug_request({k, 0x1000, 0});
        CU_ASSERT_FATAL(!zero.ok());
        CU_ASSERT_EQUAL(zero.error().code, EINVAL);
    }
    for (std::uint64_t len : {2ull, 3ull, 4ull, 8ull}) {
        auto exec = split_debug_request({DebugAccess::exec, 0x1000, len});
        CU_ASSERT_FATAL(!exec.ok());
        CU_ASSERT_EQUAL(exec.error().code, EINVAL);
    }
    auto wrap = split_debug_request({DebugAccess::write, 0xffffffffffffffffull, 2});
    CU_ASSERT_FATAL(!wrap.ok());
    CU_ASSERT_EQUAL(wrap.error().code, EINVAL);

    auto too_long = split_debug_request({DebugAccess::write, 0x1000, 33});
    CU_ASSERT_FATAL(!too_long.ok());
    CU_ASSERT_EQUAL(too_long.error().code, ENOSPC);
    auto five = split_debug_request({DebugAccess::access, 0x1001, 16});  // 1+2+4+8+1
    CU_ASSERT_FATAL(!five.ok());
    CU_ASSERT_EQUAL(five.error().code, ENOSPC);
    auto huge = split_debug_request({DebugAccess::write, 0, 1ull << 62});
    CU_ASSERT_FATAL(!huge.ok());
    CU_ASSERT_EQUAL(huge.error().code, ENOSPC);
}

// ------------------------------------------------------------------ placement

void test_place_single_watch_byte_exact() {
    DebugRegPlan plan;
    auto used = place_debug_request(plan, 7, {DebugAccess::write, 0x1000, 4});
    CU_ASSERT_FATAL(used.ok());
    CU_ASSERT_EQUAL(used.value(), 0b0001u);
    CU_ASSERT_EQUAL(plan.regs.dr[0], 0x1000u);
    CU_ASSERT_EQUAL(plan.regs.dr[1], 0u);
    // bit 10, GE, G0, R/W0=01, LEN0=11.
    CU_ASSERT_EQUAL(plan.regs.dr7, 0xd0602ull);
    CU_ASSERT(plan.owners[0].kind == SlotOwner::Kind::debugger);
    CU_ASSERT_EQUAL(plan.owners[0].request_id, 7u);
    CU_ASSERT_EQUAL(free_slot_count(plan), 3u);
}

void test_place_split_request_byte_exact() {
    DebugRegPlan plan;
    CU_ASSERT_FATAL(place_debug_request(plan, 7, {DebugAccess::write, 0x1000, 4}).ok());
    auto used = place_debug_request(plan, 8, {DebugAccess::write, 0x1003, 6});
    CU_ASSERT_FATAL(used.ok());
    CU_ASSERT_EQUAL(used.value(), 0b1110u);
    CU_ASSERT_EQUAL(plan.regs.dr[0], 0x1000u);
    CU_ASSERT_EQUAL(plan.regs.dr[1], 0x1003u);
    CU_ASSERT_EQUAL(plan.regs.dr[2], 0x1004u);
    CU_ASSERT_EQUAL(plan.regs.dr[3], 0x1008u);
    // slot1 write len1, slot2 write len4, slot3 write len1, all global.
    CU_ASSERT_EQUAL(plan.regs.dr7, 0x1d1d06aaull);
    for (unsigned n = 1; n < 4; ++n) {
        CU_ASSERT(plan.owners[n].kind == SlotOwner::Kind::debugger);
        CU_ASSERT_EQUAL(plan.owners[n].request_id, 8u);
        CU_ASSERT_EQUAL(plan.owners[n].request.addr, 0x1003u);
        CU_ASSERT_EQUAL(plan.owners[n].request.len, 6u);
    }
    CU_ASSERT_EQUAL(free_slot_count(plan), 0u);
}

void test_place_exhaustion_is_enospc_and_all_or_nothing() {
    DebugRegPlan plan;
    CU_ASSERT_FATAL(place_debug_request(plan, 1, {DebugAccess::exec, 0x401000, 1}).ok());
    CU_ASSERT_FATAL(place_debug_request(plan, 2, {DebugAccess::exec, 0x402000, 1}).ok());
    const DebugRegPlan before = plan;
    // Needs 3 (0x1003/1, 0x1004/4, 0x1008/1), only 2 free.
    auto r = place_debug_request(plan, 3, {DebugAccess::write, 0x1003, 6});
    CU_ASSERT_FATAL(!r.ok());
    CU_ASSERT_EQUAL(r.error().code, ENOSPC);
    CU_ASSERT(contains(r.error().message, "no free debug register"));
    CU_ASSERT(contains(r.error().message, "needs 3"));
    CU_ASSERT(contains(r.error().message, "2 of 4 free"));
    CU_ASSERT(same_plan(plan, before));

    CU_ASSERT_FATAL(place_debug_request(plan, 4, {DebugAccess::access, 0x3000, 8}).ok());
    CU_ASSERT_FATAL(place_debug_request(plan, 5, {DebugAccess::write, 0x4000, 1}).ok());
    auto full = place_debug_request(plan, 6, {DebugAccess::exec, 0x403000, 1});
    CU_ASSERT_FATAL(!full.ok());
    CU_ASSERT_EQUAL(full.error().code, ENOSPC);
    CU_ASSERT(contains(full.error().message, "0 of 4 free"));
    // Unsupported stays ENOTSUP even with no free slot: a distinct answer.
    auto read = place_debug_request(plan, 6, {DebugAccess::read, 0x3000, 4});
    CU_ASSERT_FATAL(!read.ok());
    CU_ASSERT_EQUAL(read.error().code, ENOTSUP);
}

void test_place_duplicate_id_and_remove() {
    DebugRegPlan plan;
    CU_ASSERT_FATAL(place_debug_request(plan, 1, {DebugAccess::exec, 0x401000, 1}).ok());
    CU_ASSERT_FATAL(place_debug_request(plan, 2, {DebugAccess::write, 0x1003, 6}).ok());
    auto dup = place_debug_request(plan, 1, {DebugAccess::exec, 0x405000, 1});
    CU_ASSERT_FATAL(!dup.ok());
    CU_ASSERT_EQUAL(dup.error().code, EEXIST);

    CU_ASSERT_EQUAL(remove_debug_request(plan, 2), 3u);
    CU_ASSERT_EQUAL(remove_debug_request(plan, 2), 0u);
    CU_ASSERT_EQUAL(remove_debug_request(plan, 99), 0u);
    CU_ASSERT_EQUAL(free_slot_count(plan), 3u);
    for (unsigned n = 1; n < 4; ++n) {
        CU_ASSERT_EQUAL(plan.regs.dr[n], 0u);
        CU_ASSERT(!dr7_slot_enabled(plan.regs.dr7, n));
    }
    // Only slot 0 (exec, G0) remains: bit 10, GE, G0.
    CU_ASSERT_EQUAL(plan.regs.dr7, 0x602ull);
    // A freed slot is reused lowest first.
    auto again = place_debug_request(plan, 3, {DebugAccess::access, 0x5000, 2});
    CU_ASSERT_FATAL(again.ok());
    CU_ASSERT_EQUAL(again.value(), 0b0010u);
}

// ---------------------------------------------------------------------- DR6

void test_decode_dr6_bits() {
    const std::uint64_t all4 =
        dr7_set_slot(dr7_set_slot(dr7_set_slot(dr7_set_slot(dr7::kInit, 0, {false, true, Dr7Rw::exec, 1}).value(), 1,
                                               {false, true, Dr7Rw::write, 4})
                                      .value(),
                                  2, {true, false, Dr7Rw::access, 8})
                         .value(),
                     3, {true, true, Dr7Rw::write, 1})
            .value();

    Dr6Status s = decode_dr6(dr6::kInit, all4);
    CU_ASSERT_EQUAL(s.hits, 0u);
    CU_ASSERT(!s.bd && !s.bs && !s.bt && !s.in_rtm && !s.bus_lock);

    s = decode_dr6(dr6::kInit | dr6::hit(0) | dr6::hit(1) | dr6::hit(3) | dr6::kBS, all4);
    CU_ASSERT_EQUAL(s.hits, 0b1011u);
    CU_ASSERT_EQUAL(s.raw_hits, 0b1011u);
    CU_ASSERT(s.bs && !s.bd && !s.bt);

    s = decode_dr6(dr6::kInit | dr6::kBD, all4);
    CU_ASSERT(s.bd && !s.bs && !s.bt);
    s = decode_dr6(dr6::kInit | dr6::kBT | dr6::hit(2), all4);
    CU_ASSERT(s.bt && !s.bs && !s.bd);
    CU_ASSERT_EQUAL(s.hits, 0b0100u);

    // RTM (bit 16) and BLD (bit 11) are active low.
    s = decode_dr6(dr6::kFixed1 | dr6::kBLD | dr6::kBS, all4);
    CU_ASSERT(s.in_rtm);
    CU_ASSERT(!s.bus_lock);
    s = decode_dr6(dr6::kFixed1 | dr6::kRTM, all4);
    CU_ASSERT(!s.in_rtm);
    CU_ASSERT(s.bus_lock);
}

void test_decode_dr6_ignores_disabled_slots() {
    // 17.2.3: Bn may be set for a slot whose condition matched although
    // DR7 does not enable it. Only the project's own DR7 decides.
    std::uint64_t only_slot1 = dr7_set_slot(dr7::kInit, 1, {false, true, Dr7Rw::exec, 1}).value();
    Dr6Status s = decode_dr6(dr6::kInit | 0xf, only_slot1);
    CU_ASSERT_EQUAL(s.raw_hits, 0xfu);
    CU_ASSERT_EQUAL(s.hits, 0b0010u);
}

const kvmdbg::test::TestCase kDr7Cases[] = {
    {"LEN field encodings", test_len_field_encodings},
    {"set slot byte exact", test_set_slot_byte_exact},
    {"set slot keeps other bits", test_set_slot_keeps_other_bits},
    {"set slot invalid", test_set_slot_invalid},
    {"every slot/type/length round trips", test_get_slot_round_trip_every_combination},
};

const kvmdbg::test::TestCase kSplitCases[] = {
    {"aligned 1/2/4/8 are one piece", test_split_aligned_lengths_are_one_piece},
    {"examples", test_split_examples},
    {"minimal, exact, aligned (exhaustive)", test_split_is_minimal_exact_and_aligned},
    {"invalid requests", test_split_invalid},
};

const kvmdbg::test::TestCase kPlaceCases[] = {
    {"single watch byte exact", test_place_single_watch_byte_exact},
    {"split request byte exact", test_place_split_request_byte_exact},
    {"exhaustion ENOSPC, all or nothing", test_place_exhaustion_is_enospc_and_all_or_nothing},
    {"duplicate id, remove, reuse", test_place_duplicate_id_and_remove},
};

const kvmdbg::test::TestCase kDr6Cases[] = {
    {"DR6 bits incl. multiple hits and active-low", test_decode_dr6_bits},
    {"DR6 ignores disabled slots", test_decode_dr6_ignores_disabled_slots},
};

const kvmdbg::test::TestSuite kSuites[] = {
    {"dr7", kDr7Cases},
    {"split", kSplitCases},
    {"place", kPlaceCases},
    {"dr6", kDr6Cases},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
