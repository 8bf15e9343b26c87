// arm64 DBGBCR/DBGWCR encoding, watch-range splitting and slot placement
// (arch/arm64/debug_regs.h), byte for byte against the ARM ARM layouts.
#include <string>
#include <vector>

#include "arch/arm64/debug_regs.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::arch::arm64;

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

// ---------------------------------------------------------------- encodings

void test_breakpoint_bcr_value() {
    // E (bit 0) | PMC=0b11 (bits 2:1) | BAS=0xF (bits 8:5) = 0x1e7.
    CU_ASSERT_EQUAL(dbgbcr::kDebuggerBreakpoint, 0x1e7ull);
}

void test_breakpoint_bvr_alignment() {
    CU_ASSERT_EQUAL(breakpoint_bvr(0x40001000).value(), 0x40001000ull);
    CU_ASSERT_EQUAL(breakpoint_bvr(0xffff800010000004ull).value(), 0xffff800010000004ull);
    for (std::uint64_t bad : {0x40001001ull, 0x40001002ull, 0x40001003ull}) {
        auto r = breakpoint_bvr(bad);
        CU_ASSERT_FATAL(!r.ok());
        CU_ASSERT_EQUAL(r.error().code, EINVAL);
        CU_ASSERT(contains(r.error().message, "not 4-byte aligned"));
    }
}

void test_watchpoint_wcr_fields() {
    // E | PAC=0b11 | LSC store (0b10 << 3) | BAS 0x0f << 5 = 0x1 | 0x6 | 0x10 | 0x1e0.
    CU_ASSERT_EQUAL(watchpoint_wcr(WatchLsc::store, 0x0f, 0), 0x1f7ull);
    // load: LSC 0b01 -> 0x8; BAS 0xff -> 0x1fe0.
    CU_ASSERT_EQUAL(watchpoint_wcr(WatchLsc::load, 0xff, 0), 0x1fefull);
    // both, MASK 12 (4 KiB) -> 12 << 24.
    CU_ASSERT_EQUAL(watchpoint_wcr(WatchLsc::both, 0xff, 12), 0x0c001fffull);
    // MASK 31 (2 GiB).
    CU_ASSERT_EQUAL(watchpoint_wcr(WatchLsc::both, 0xff, 31), 0x1f001fffull);
}

void test_decode_watchpoint_bas_not_at_byte_0() {
    // BAS 0b00111100: bytes 2..5 of the doubleword. QEMU's clo32(bas << 24)
    // would count leading ones of 0x3c000000 = 0 and report length 0.
    WatchedRange r = decode_watchpoint(watchpoint_wcr(WatchLsc::store, 0x3c, 0), 0x1000);
    CU_ASSERT_EQUAL(r.addr, 0x1002ull);
    CU_ASSERT_EQUAL(r.len, 4ull);
    // Last byte only.
    r = decode_watchpoint(watchpoint_wcr(WatchLsc::store, 0x80, 0), 0x2008);
    CU_ASSERT_EQUAL(r.addr, 0x200full);
    CU_ASSERT_EQUAL(r.len, 1ull);
    // Whole doubleword.
    r = decode_watchpoint(watchpoint_wcr(WatchLsc::both, 0xff, 0), 0x3000);
    CU_ASSERT_EQUAL(r.addr, 0x3000ull);
    CU_ASSERT_EQUAL(r.len, 8ull);
}

void test_decode_watchpoint_mask_and_invalid() {
    WatchedRange r = decode_watchpoint(watchpoint_wcr(WatchLsc::both, 0xff, 16), 0x40010000);
    CU_ASSERT_EQUAL(r.addr, 0x40010000ull);
    CU_ASSERT_EQUAL(r.len, 0x10000ull);
    // Disabled, BAS 0, reserved MASK 1/2, MASK with BAS != 0xff: nothing.
    CU_ASSERT_EQUAL(decode_watchpoint(watchpoint_wcr(WatchLsc::both, 0xff, 0) & ~1ull, 0x1000).len, 0ull);
    CU_ASSERT_EQUAL(decode_watchpoint(watchpoint_wcr(WatchLsc::both, 0, 0), 0x1000).len, 0ull);
    CU_ASSERT_EQUAL(decode_watchpoint(watchpoint_wcr(WatchLsc::both, 0xff, 1), 0x1000).len, 0ull);
    CU_ASSERT_EQUAL(decode_watchpoint(watchpoint_wcr(WatchLsc::both, 0xff, 2), 0x1000).len, 0ull);
    CU_ASSERT_EQUAL(decode_watchpoint(watchpoint_wcr(WatchLsc::both, 0x0f, 12), 0x1000).len, 0ull);
    // DBGWVR bit 2 set: only BAS[3:0] counts, relative to the word.
    r = decode_watchpoint(watchpoint_wcr(WatchLsc::both, 0xf6, 0), 0x1004);
    CU_ASSERT_EQUAL(r.addr, 0x1005ull);
    CU_ASSERT_EQUAL(r.len, 2ull);
}

// ---------------------------------------------------------------- splitting

void test_split_single_bas_piece() {
    auto r = split_watch_request({DebugAccess::write, 0x1002, 4});
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL_FATAL(r->size(), 1u);
    const WatchPiece& p = (*r)[0];
    CU_ASSERT_EQUAL(p.addr, 0x1002ull);
    CU_ASSERT_EQUAL(p.len, 4ull);
    CU_ASSERT_EQUAL(p.wvr, 0x1000ull);
    CU_ASSERT_EQUAL(p.wcr, watchpoint_wcr(WatchLsc::store, 0x3c, 0));
    CU_ASSERT_EQUAL(p.wcr, 0x797ull);
}

void test_split_kinds_set_lsc() {
    CU_ASSERT_EQUAL(split_watch_request({DebugAccess::read, 0x1000, 1}).value()[0].wcr,
                    watchpoint_wcr(WatchLsc::load, 1, 0));
    CU_ASSERT_EQUAL(split_watch_request({DebugAccess::access, 0x1000, 1}).value()[0].wcr,
                    watchpoint_wcr(WatchLsc::both, 1, 0));
    CU_ASSERT_EQUAL(split_watch_request({DebugAccess::write, 0x1000, 1}).value()[0].wcr,
                    watchpoint_wcr(WatchLsc::store, 1, 0));
}

void test_split_mask_ranges() {
    // Exactly 8 aligned: BAS 0xff, MASK 0.
    auto r = split_watch_request({DebugAccess::write, 0x1008, 8});
    CU_ASSERT_FATAL(r.ok() && r->size() == 1);
    CU_ASSERT_EQUAL((*r)[0].wcr, watchpoint_wcr(WatchLsc::store, 0xff, 0));
    // 4 KiB aligned: MASK 12.
    r = split_watch_request({DebugAccess::access, 0x40001000, 0x1000});
    CU_ASSERT_FATAL(r.ok() && r->size() == 1);
    CU_ASSERT_EQUAL((*r)[0].wvr, 0x40001000ull);
    CU_ASSERT_EQUAL((*r)[0].wcr, watchpoint_wcr(WatchLsc::both, 0xff, 12));
    // 2 GiB aligned at 0x80000000: MASK 31.
    r = split_watch_request({DebugAccess::write, 0x80000000, 0x80000000});
    CU_ASSERT_FATAL(r.ok() && r->size() == 1);
    CU_ASSERT_EQUAL((*r)[0].wcr, watchpoint_wcr(WatchLsc::store, 0xff, 31));
    // 4 GiB aligned needs two 2 GiB pieces (MASK tops out at 31).
    r = split_watch_request({DebugAccess::write, 0x100000000ull, 0x100000000ull});
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL_FATAL(r->size(), 2u);
    CU_ASSERT_EQUAL((*r)[1].addr, 0x180000000ull);
    CU_ASSERT_EQUAL((*r)[1].len, 0x80000000ull);
}

void test_split_unaligned_range_into_pieces() {
    // 0x1003 len 14: bytes 3-7 of 0x1000 (BAS 0xf8), 0x1008 (8), 0x1010 (1).
    auto r = split_watch_request({DebugAccess::write, 0x1003, 14});
    CU_ASSERT_FATAL(r.ok());
    std::vector<WatchPiece> want = {
        {0x1003, 5, 0x1000, watchpoint_wcr(WatchLsc::store, 0xf8, 0)},
        {0x1008, 8, 0x1008, watchpoint_wcr(WatchLsc::store, 0xff, 0)},
        {0x1010, 1, 0x1010, watchpoint_wcr(WatchLsc::store, 0x01, 0)},
    };
    CU_ASSERT(*r == want);
    // 0x1008 len 24: 8 at 0x1008, then 16 at 0x1010 (MASK 4).
    r = split_watch_request({DebugAccess::access, 0x1008, 24});
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL_FATAL(r->size(), 2u);
    CU_ASSERT_EQUAL((*r)[1].wcr, watchpoint_wcr(WatchLsc::both, 0xff, 4));
    // Pieces cover the range exactly, without gaps or overlap.
    r = split_watch_request({DebugAccess::write, 0x12345, 0x777});
    CU_ASSERT_FATAL(r.ok());
    std::uint64_t next = 0x12345;
    for (const WatchPiece& p : *r) {
        CU_ASSERT_EQUAL(p.addr, next);
        WatchedRange d = decode_watchpoint(p.wcr, p.wvr);
        CU_ASSERT_EQUAL(d.addr, p.addr);
        CU_ASSERT_EQUAL(d.len, p.len);
        next += p.len;
    }
    CU_ASSERT_EQUAL(next, 0x12345ull + 0x777);
}

void test_split_rejects_bad_requests() {
    auto r = split_watch_request({DebugAccess::write, 0x1000, 0});
    CU_ASSERT(!r.ok() && r.error().code == EINVAL && contains(r.error().message, "length 0"));
    r = split_watch_request({DebugAccess::write, 0xfffffffffffffff8ull, 16});
    CU_ASSERT(!r.ok() && r.error().code == EINVAL && contains(r.error().message, "wraps"));
    r = split_watch_request({DebugAccess::exec, 0x1000, 4});
    CU_ASSERT(!r.ok() && r.error().code == EINVAL);
    // The last byte of the address space is fine.
    r = split_watch_request({DebugAccess::write, 0xffffffffffffffffull, 1});
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL((*r)[0].wcr, watchpoint_wcr(WatchLsc::store, 0x80, 0));
}

// ---------------------------------------------------------------- placement

void test_slot_counts_clamped() {
    SlotCounts c = slot_counts_from_caps(6, 4);
    CU_ASSERT_EQUAL(c.breakpoints, 6u);
    CU_ASSERT_EQUAL(c.watchpoints, 4u);
    c = slot_counts_from_caps(-1, 40);
    CU_ASSERT_EQUAL(c.breakpoints, 0u);
    CU_ASSERT_EQUAL(c.watchpoints, 16u);
}

void test_place_breakpoints_until_full() {
    DebugRegPlan plan = make_debug_reg_plan({2, 4});
    CU_ASSERT(!plan_uses_hw(plan));
    CU_ASSERT_EQUAL(place_debug_request(plan, 1, {DebugAccess::exec, 0x40000000, 4}).value(), 0x1u);
    CU_ASSERT_EQUAL(place_debug_request(plan, 2, {DebugAccess::exec, 0x40000010, 4}).value(), 0x2u);
    CU_ASSERT_EQUAL(plan.regs.bcr[0], 0x1e7ull);
    CU_ASSERT_EQUAL(plan.regs.bvr[1], 0x40000010ull);
    CU_ASSERT(plan_uses_hw(plan));
    auto r = place_debug_request(plan, 3, {DebugAccess::exec, 0x40000020, 4});
    CU_ASSERT_FATAL(!r.ok());
    CU_ASSERT_EQUAL(r.error().code, ENOSPC);
    CU_ASSERT(contains(r.error().message, "all 2 hardware breakpoint registers are in use"));
    // Slot 2 (beyond the host's count) stays untouched.
    CU_ASSERT_EQUAL(plan.regs.bcr[2], 0ull);
    CU_ASSERT_EQUAL(remove_debug_request(plan, 1), 1u);
    CU_ASSERT_EQUAL(plan.regs.bcr[0], 0ull);
    CU_ASSERT_EQUAL(plan.regs.bvr[0], 0ull);
    CU_ASSERT_EQUAL(place_debug_request(plan, 3, {DebugAccess::exec, 0x40000020, 4}).value(), 0x1u);
    CU_ASSERT_EQUAL(remove_debug_request(plan, 99), 0u);
}

void test_place_duplicate_id_and_misaligned() {
    DebugRegPlan plan = make_debug_reg_plan({6, 4});
    CU_ASSERT(place_debug_request(plan, 1, {DebugAccess::write, 0x1000, 4}).ok());
    auto r = place_debug_request(plan, 1, {DebugAccess::exec, 0x2000, 4});
    CU_ASSERT(!r.ok() && r.error().code == EEXIST);
    r = place_debug_request(plan, 2, {DebugAccess::exec, 0x2002, 4});
    CU_ASSERT(!r.ok() && r.error().code == EINVAL);
    CU_ASSERT_EQUAL(used_breakpoint_slots(plan), 0u);
}

void test_place_split_watch_all_or_nothing() {
    DebugRegPlan plan = make_debug_reg_plan({6, 4});
    // 3 pieces fit in 4 slots.
    CU_ASSERT_EQUAL(place_debug_request(plan, 7, {DebugAccess::write, 0x1003, 14}).value(), 0x7u);
    CU_ASSERT_EQUAL(plan.regs.wvr[0], 0x1000ull);
    CU_ASSERT_EQUAL(plan.regs.wcr[0], watchpoint_wcr(WatchLsc::store, 0xf8, 0));
    CU_ASSERT_EQUAL(plan.watchpoints[2].piece_addr, 0x1010ull);
    CU_ASSERT_EQUAL(plan.watchpoints[2].request_id, 7u);
    // Another 3-piece range does not fit in the one slot left: nothing changes.
    DebugRegPlan before = plan;
    auto r = place_debug_request(plan, 8, {DebugAccess::write, 0x2003, 14});
    CU_ASSERT_FATAL(!r.ok());
    CU_ASSERT_EQUAL(r.error().code, ENOSPC);
    CU_ASSERT(contains(r.error().message, "0x2003..0x2010"));
    CU_ASSERT(contains(r.error().message, "needs 3 watchpoint registers, 1 of the host's 4 are free"));
    CU_ASSERT_EQUAL(plan.regs.wcr[3], before.regs.wcr[3]);
    CU_ASSERT_EQUAL(used_watchpoint_slots(plan), 3u);
    // More pieces than the host has at all.
    DebugRegPlan small = make_debug_reg_plan({6, 2});
    r = place_debug_request(small, 9, {DebugAccess::write, 0x1003, 14});
    CU_ASSERT(!r.ok() && r.error().code == ENOSPC && contains(r.error().message, "more than the 2 this host has"));
    CU_ASSERT_EQUAL(remove_debug_request(plan, 7), 3u);
    CU_ASSERT_EQUAL(used_watchpoint_slots(plan), 0u);
    CU_ASSERT_EQUAL(plan.regs.wcr[1], 0ull);
}

void test_place_without_host_registers() {
    DebugRegPlan plan = make_debug_reg_plan({0, 0});
    auto r = place_debug_request(plan, 1, {DebugAccess::exec, 0x1000, 4});
    CU_ASSERT(!r.ok() && r.error().code == ENOTSUP && contains(r.error().message, "KVM_CAP_GUEST_DEBUG_HW_BPS = 0"));
    r = place_debug_request(plan, 2, {DebugAccess::read, 0x1000, 4});
    CU_ASSERT(!r.ok() && r.error().code == ENOTSUP && contains(r.error().message, "KVM_CAP_GUEST_DEBUG_HW_WPS = 0"));
}

const kvmdbg::test::TestCase kEncoding[] = {
    {"breakpoint bcr 0x1e7", test_breakpoint_bcr_value},
    {"breakpoint bvr alignment", test_breakpoint_bvr_alignment},
    {"watchpoint wcr fields", test_watchpoint_wcr_fields},
    {"decode BAS not at byte 0 (no clo32 bug)", test_decode_watchpoint_bas_not_at_byte_0},
    {"decode MASK and invalid", test_decode_watchpoint_mask_and_invalid},
};
const kvmdbg::test::TestCase kSplit[] = {
    {"single BAS piece", test_split_single_bas_piece},
    {"kinds set LSC", test_split_kinds_set_lsc},
    {"MASK ranges", test_split_mask_ranges},
    {"unaligned range pieces", test_split_unaligned_range_into_pieces},
    {"bad requests", test_split_rejects_bad_requests},
};
const kvmdbg::test::TestCase kPlace[] = {
    {"slot counts clamped", test_slot_counts_clamped},
    {"breakpoints until full", test_place_breakpoints_until_full},
    {"duplicate id, misaligned", test_place_duplicate_id_and_misaligned},
    {"split watch all or nothing", test_place_split_watch_all_or_nothing},
    {"host without registers", test_place_without_host_registers},
};
const kvmdbg::test::TestSuite kSuites[] = {
    {"arm64 debug register encoding", kEncoding},
    {"arm64 watch range split", kSplit},
    {"arm64 slot placement", kPlace},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
