// arm64 KVM_EXIT_DEBUG decoding and classification (arch/arm64/debug_exit.h).
#include <string>
#include <variant>

#include "arch/arm64/debug_exit.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::arch::arm64;

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

constexpr std::uint32_t hsr(std::uint32_t ec, std::uint32_t iss) { return ec << 26 | 1u << 25 | iss; }

// ---------------------------------------------------------------- decoding

void test_decode_brk_immediate() {
    DecodedDebugExit d = decode_debug_exit(hsr(0x3c, 0xf000), 0, 0);
    CU_ASSERT(d.kind == DebugExceptionKind::brk);
    CU_ASSERT_EQUAL(d.ec, 0x3cu);
    CU_ASSERT_EQUAL(d.brk_imm, 0xf000u);
    CU_ASSERT(contains(d.description, "BRK #0xf000"));
    // Only ISS[15:0] is the immediate.
    d = decode_debug_exit(hsr(0x3c, 0x1ff0001), 0, 0);
    CU_ASSERT_EQUAL(d.brk_imm, 0x0001u);
}

void test_decode_breakpoint_and_step_variants() {
    for (std::uint32_t ec : {0x30u, 0x31u}) {
        DecodedDebugExit d = decode_debug_exit(hsr(ec, 0x22), 0, 0);
        CU_ASSERT(d.kind == DebugExceptionKind::breakpoint);
        CU_ASSERT_EQUAL(d.from_lower_el, ec == 0x30);
    }
    DecodedDebugExit d = decode_debug_exit(hsr(0x32, 0x22), 0, 0);
    CU_ASSERT(d.kind == DebugExceptionKind::software_step);
    CU_ASSERT(d.from_lower_el);
    CU_ASSERT(!d.step_isv);
    CU_ASSERT(!d.step_ex);
    // ISV (bit 24) with EX (bit 6): a load-exclusive was stepped.
    d = decode_debug_exit(hsr(0x33, 1u << 24 | 1u << 6 | 0x22), 0, 0);
    CU_ASSERT(d.kind == DebugExceptionKind::software_step);
    CU_ASSERT(!d.from_lower_el);
    CU_ASSERT(d.step_isv && d.step_ex);
    // EX without ISV is not valid.
    d = decode_debug_exit(hsr(0x32, 1u << 6 | 0x22), 0, 0);
    CU_ASSERT(!d.step_ex);
}

void test_decode_watchpoint_fields() {
    DecodedDebugExit d = decode_debug_exit(hsr(0x34, 1u << 6 | 0x22), 0, 0x40001004);
    CU_ASSERT(d.kind == DebugExceptionKind::watchpoint);
    CU_ASSERT(d.watch_write);
    CU_ASSERT(!d.watch_cm);
    CU_ASSERT_EQUAL(d.far, 0x40001004ull);
    CU_ASSERT(contains(d.description, "watchpoint (write) at 0x40001004"));
    d = decode_debug_exit(hsr(0x35, 0x22), 0, 0x10);
    CU_ASSERT(!d.watch_write);
    CU_ASSERT(contains(d.description, "(read)"));
    d = decode_debug_exit(hsr(0x34, 1u << 8 | 1u << 6 | 0x22), 0x5, 0x10);
    CU_ASSERT(d.watch_cm);
    CU_ASSERT_EQUAL(d.iss2, 0x5u);
}

void test_decode_unknown_classes() {
    DecodedDebugExit d = decode_debug_exit(hsr(0x38, 1), 0, 0);
    CU_ASSERT(d.kind == DebugExceptionKind::unknown);
    CU_ASSERT(contains(d.description, "exception class 0x38 (AArch32 BKPT)"));
    CU_ASSERT(contains(d.description, "hsr 0xe2000001"));
    d = decode_debug_exit(0, 0, 0);
    CU_ASSERT(d.kind == DebugExceptionKind::unknown);
    d = decode_debug_exit(hsr(0x3f, 0), 0xffffffff, 0);
    CU_ASSERT(d.kind == DebugExceptionKind::unknown);
    CU_ASSERT_EQUAL(d.iss2, 0xffffffu);
}

void test_decode_values_measured_on_real_kvm() {
    // docs/hosts.md: the hsr values a real arm64 KVM (nested, VHE) reported.
    DecodedDebugExit d = decode_debug_exit(0xf2000000, 0, 0);  // BRK #0
    CU_ASSERT(d.kind == DebugExceptionKind::brk);
    CU_ASSERT_EQUAL(d.brk_imm, 0u);
    d = decode_debug_exit(0xcb000022, 0, 0);  // software step
    CU_ASSERT(d.kind == DebugExceptionKind::software_step);
    CU_ASSERT(d.from_lower_el);
    CU_ASSERT(d.step_isv);
    CU_ASSERT(!d.step_ex);
    d = decode_debug_exit(0xc2000022, 0, 0);  // hardware breakpoint
    CU_ASSERT(d.kind == DebugExceptionKind::breakpoint);
    CU_ASSERT(d.from_lower_el);
    d = decode_debug_exit(0xd2000062, 0, 0x412000);  // write watchpoint
    CU_ASSERT(d.kind == DebugExceptionKind::watchpoint);
    CU_ASSERT(d.watch_write);
    CU_ASSERT(!d.watch_cm);
    CU_ASSERT_EQUAL(d.far, 0x412000ull);
}

// ---------------------------------------------------------------- classification

DebugRegPlan plan_with(std::initializer_list<std::pair<std::uint32_t, DebugRequest>> reqs) {
    DebugRegPlan plan = make_debug_reg_plan({6, 4});
    for (const auto& [id, r] : reqs) {
        CU_ASSERT_FATAL(place_debug_request(plan, id, r).ok());
    }
    return plan;
}

void test_classify_brk() {
    DebugRegPlan plan = plan_with({});
    DebugExitInfo e{hsr(0x3c, 0), 0, 0, 0x40000100, false, true};
    auto ev = classify_debug_exit(e, plan);
    CU_ASSERT_FATAL(std::holds_alternative<SoftwareBreakpoint>(ev));
    CU_ASSERT_EQUAL(std::get<SoftwareBreakpoint>(ev).addr, 0x40000100ull);
    e.sw_breakpoint_at_pc = false;  // the guest's own BRK
    ev = classify_debug_exit(e, plan);
    CU_ASSERT_FATAL(std::holds_alternative<NotOurs>(ev));
    CU_ASSERT(std::get<NotOurs>(ev).exception.kind == DebugExceptionKind::brk);
}

void test_classify_step() {
    DebugRegPlan plan = plan_with({});
    DebugExitInfo e{hsr(0x32, 0x22), 0, 0, 0x40000104, true, false};
    auto ev = classify_debug_exit(e, plan);
    CU_ASSERT_FATAL(std::holds_alternative<StepDone>(ev));
    CU_ASSERT_EQUAL(std::get<StepDone>(ev).pc, 0x40000104ull);
    e.debugger_stepping = false;
    CU_ASSERT(std::holds_alternative<NotOurs>(classify_debug_exit(e, plan)));
}

void test_classify_hw_breakpoint_by_pc() {
    DebugRegPlan plan = plan_with({{4, {DebugAccess::exec, 0x40000200, 4}}, {5, {DebugAccess::exec, 0x40000300, 4}}});
    DebugExitInfo e{hsr(0x30, 0x22), 0, 0, 0x40000300, false, false};
    auto ev = classify_debug_exit(e, plan);
    CU_ASSERT_FATAL(std::holds_alternative<HardwareBreakpoint>(ev));
    CU_ASSERT_EQUAL(std::get<HardwareBreakpoint>(ev).slot, 1u);
    CU_ASSERT_EQUAL(std::get<HardwareBreakpoint>(ev).request_id, 5u);
    e.pc = 0x40000304;  // no debugger breakpoint here
    CU_ASSERT(std::holds_alternative<NotOurs>(classify_debug_exit(e, plan)));
}

void test_classify_watch_split_range_every_byte() {
    // 0x1003 len 14 lives in three slots; every byte reports request 7
    // with hit_addr = FAR.
    DebugRegPlan plan = plan_with({{7, {DebugAccess::write, 0x1003, 14}}});
    for (std::uint64_t far = 0x1003; far < 0x1003 + 14; ++far) {
        DebugExitInfo e{hsr(0x34, 1u << 6 | 0x22), 0, far, 0x40000000, false, false};
        auto ev = classify_debug_exit(e, plan);
        CU_ASSERT_FATAL(std::holds_alternative<Watchpoint>(ev));
        const Watchpoint& w = std::get<Watchpoint>(ev);
        CU_ASSERT_EQUAL(w.request_id, 7u);
        CU_ASSERT_EQUAL(w.addr, 0x1003ull);
        CU_ASSERT_EQUAL(w.len, 14ull);
        CU_ASSERT_EQUAL(w.hit_addr, far);
        CU_ASSERT(w.kind == WatchKind::write);
        unsigned want_slot = far < 0x1008 ? 0 : far < 0x1010 ? 1 : 2;
        CU_ASSERT_EQUAL(w.slot, want_slot);
    }
}

void test_classify_watch_bas_not_at_byte_0() {
    // Bytes 2..5 of a doubleword (BAS 0x3c): FAR on byte 5 matches.
    DebugRegPlan plan = plan_with({{3, {DebugAccess::access, 0x2002, 4}}});
    DebugExitInfo e{hsr(0x34, 0x22), 0, 0x2005, 0, false, false};
    auto ev = classify_debug_exit(e, plan);
    CU_ASSERT_FATAL(std::holds_alternative<Watchpoint>(ev));
    CU_ASSERT_EQUAL(std::get<Watchpoint>(ev).hit_addr, 0x2005ull);
    CU_ASSERT(std::get<Watchpoint>(ev).kind == WatchKind::access);
}

void test_classify_watch_mask_range_and_nearest() {
    DebugRegPlan plan = plan_with({{1, {DebugAccess::write, 0x10000, 0x1000}}, {2, {DebugAccess::write, 0x30000, 8}}});
    DebugExitInfo e{hsr(0x34, 1u << 6 | 0x22), 0, 0x10ffc, 0, false, false};
    auto ev = classify_debug_exit(e, plan);
    CU_ASSERT_FATAL(std::holds_alternative<Watchpoint>(ev));
    CU_ASSERT_EQUAL(std::get<Watchpoint>(ev).request_id, 1u);
    CU_ASSERT_EQUAL(std::get<Watchpoint>(ev).hit_addr, 0x10ffcull);
    // An STP starting 8 bytes below the second range: FAR outside every
    // range -> the nearest request, hit_addr clamped into it.
    e.far = 0x2fff8;
    ev = classify_debug_exit(e, plan);
    CU_ASSERT_FATAL(std::holds_alternative<Watchpoint>(ev));
    CU_ASSERT_EQUAL(std::get<Watchpoint>(ev).request_id, 2u);
    CU_ASSERT_EQUAL(std::get<Watchpoint>(ev).hit_addr, 0x30000ull);
    CU_ASSERT_EQUAL(std::get<Watchpoint>(ev).far, 0x2fff8ull);
}

void test_classify_watch_lsc_filters() {
    // A read watchpoint does not claim a store; a write one does not claim a load.
    DebugRegPlan plan = plan_with({{1, {DebugAccess::read, 0x1000, 4}}, {2, {DebugAccess::write, 0x1000, 4}}});
    DebugExitInfo load{hsr(0x34, 0x22), 0, 0x1000, 0, false, false};
    DebugExitInfo store{hsr(0x34, 1u << 6 | 0x22), 0, 0x1000, 0, false, false};
    CU_ASSERT_EQUAL(std::get<Watchpoint>(classify_debug_exit(load, plan)).request_id, 1u);
    CU_ASSERT(std::get<Watchpoint>(classify_debug_exit(load, plan)).kind == WatchKind::read);
    CU_ASSERT_EQUAL(std::get<Watchpoint>(classify_debug_exit(store, plan)).request_id, 2u);
    DebugRegPlan empty = plan_with({});
    CU_ASSERT(std::holds_alternative<NotOurs>(classify_debug_exit(load, empty)));
}

void test_classify_unknown() {
    DebugRegPlan plan = plan_with({});
    DebugExitInfo e{hsr(0x3a, 0), 0, 0, 0, true, true};
    auto ev = classify_debug_exit(e, plan);
    CU_ASSERT_FATAL(std::holds_alternative<UnknownDebugExit>(ev));
    CU_ASSERT(contains(std::get<UnknownDebugExit>(ev).exception.description, "0x3a"));
}

const kvmdbg::test::TestCase kDecode[] = {
    {"BRK immediate", test_decode_brk_immediate},
    {"breakpoint and step variants", test_decode_breakpoint_and_step_variants},
    {"watchpoint fields", test_decode_watchpoint_fields},
    {"unknown classes", test_decode_unknown_classes},
    {"hsr values measured on real KVM", test_decode_values_measured_on_real_kvm},
};
const kvmdbg::test::TestCase kClassify[] = {
    {"BRK ours / guest's", test_classify_brk},
    {"step ours / guest's", test_classify_step},
    {"hw breakpoint by pc", test_classify_hw_breakpoint_by_pc},
    {"watch split range, every byte", test_classify_watch_split_range_every_byte},
    {"watch BAS not at byte 0", test_classify_watch_bas_not_at_byte_0},
    {"watch MASK range and nearest", test_classify_watch_mask_range_and_nearest},
    {"watch LSC filters", test_classify_watch_lsc_filters},
    {"unknown EC", test_classify_unknown},
};
const kvmdbg::test::TestSuite kSuites[] = {
    {"arm64 exit decoding", kDecode},
    {"arm64 exit classification", kClassify},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
