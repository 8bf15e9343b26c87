// Classification of x86 KVM_EXIT_DEBUG (arch/x86/debug_exit.h): debugger
// events versus the guest's own, which must be reflected.
#include <vector>

#include "arch/x86/debug_exit.h"
#include "arch/x86/debug_reg_merge.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::arch::x86;

constexpr std::uint64_t kPc = 0x401234;

DebugExitInfo db(std::uint64_t conditions, bool stepping = false) {
    return DebugExitInfo{kVectorDB, dr6::kInit | conditions, kPc, stepping, false};
}

// Debugger only: exec bp id 10 at 0x401000 (DR0), write watch id 11 on
// 0x1003 len 6 split over DR1 (0x1003/1), DR2 (0x1004/4), DR3 (0x1008/1).
DebugRegPlan debugger_plan() {
    DebugRegPlan plan;
    CU_ASSERT_FATAL(place_debug_request(plan, 10, {DebugAccess::exec, 0x401000, 1}).ok());
    CU_ASSERT_FATAL(place_debug_request(plan, 11, {DebugAccess::write, 0x1003, 6}).ok());
    return plan;
}

// Guest owns DR0 (exec, L0); debugger exec bp id 20 in DR1, access watch id
// 21 in DR2.
DebugRegPlan merged_plan() {
    X86DebugRegs g;
    g.dr[0] = 0x500000;
    g.dr7 = dr7::kFixed1 | dr7::local_enable(0);
    const std::vector<DebuggerRequestEntry> reqs = {
        {20, {DebugAccess::exec, 0x401000, 1}},
        {21, {DebugAccess::access, 0x7000, 8}},
    };
    auto plan = merge_debug_regs(g, reqs);
    CU_ASSERT_FATAL(plan.ok());
    return plan.value();
}

// Returns a copy: the event is usually a temporary.
template <typename T>
T expect(const DebugEvent& ev) {
    const T* p = std::get_if<T>(&ev);
    CU_ASSERT_FATAL(p != nullptr);
    return *p;
}

// --------------------------------------------------------------------- #BP

void test_bp_debugger_software_breakpoint() {
    DebugExitInfo e{kVectorBP, 0, kPc, false, true};
    CU_ASSERT_EQUAL(expect<SoftwareBreakpoint>(classify_debug_exit(e, debugger_plan())).addr, kPc);
}

void test_bp_guest_int3_is_not_ours() {
    DebugExitInfo e{kVectorBP, 0, kPc, false, false};
    const NotOurs n = expect<NotOurs>(classify_debug_exit(e, debugger_plan()));
    CU_ASSERT_EQUAL(n.vector, 3u);
    CU_ASSERT_EQUAL(n.dr6, 0u);
    // Even while the debugger steps: an int3 that is not ours goes to the guest.
    e.debugger_stepping = true;
    CU_ASSERT_EQUAL(expect<NotOurs>(classify_debug_exit(e, debugger_plan())).vector, 3u);
}

void test_other_vector_is_not_ours() {
    DebugExitInfo e{6, dr6::kInit | dr6::kBS, kPc, true, true};
    const NotOurs n = expect<NotOurs>(classify_debug_exit(e, debugger_plan()));
    CU_ASSERT_EQUAL(n.vector, 6u);
    CU_ASSERT_EQUAL(n.dr6, 0u);
}

// -------------------------------------------------------------------- step

void test_step_done() {
    const StepDone s = expect<StepDone>(classify_debug_exit(db(dr6::kBS, true), debugger_plan()));
    CU_ASSERT(!s.also_breakpoint && !s.also_watchpoint && !s.guest_dr6);
}

void test_step_done_with_breakpoint_and_watchpoint() {
    const DebugRegPlan plan = debugger_plan();
    const StepDone s = expect<StepDone>(classify_debug_exit(db(dr6::kBS | dr6::hit(0), true), plan));
    CU_ASSERT_FATAL(s.also_breakpoint.has_value());
    CU_ASSERT_EQUAL(s.also_breakpoint->slot, 0u);
    CU_ASSERT_EQUAL(s.also_breakpoint->request_id, 10u);
    CU_ASSERT_EQUAL(s.also_breakpoint->addr, 0x401000u);
    CU_ASSERT(!s.also_watchpoint);

    const StepDone w = expect<StepDone>(classify_debug_exit(db(dr6::kBS | dr6::hit(2) | dr6::hit(0), true), plan));
    CU_ASSERT_FATAL(w.also_watchpoint.has_value());
    CU_ASSERT_EQUAL(w.also_watchpoint->request_id, 11u);
    CU_ASSERT_EQUAL(w.also_watchpoint->hit_addr, 0x1003u);
    CU_ASSERT_FATAL(w.also_breakpoint.has_value());
    CU_ASSERT_EQUAL(w.also_breakpoint->request_id, 10u);
}

void test_guest_tf_is_not_ours() {
    // BS while the debugger did not step: the guest's own RFLAGS.TF.
    const NotOurs n = expect<NotOurs>(classify_debug_exit(db(dr6::kBS, false), debugger_plan()));
    CU_ASSERT_EQUAL(n.vector, 1u);
    CU_ASSERT_EQUAL(n.dr6, dr6::kInit | dr6::kBS);
}

// -------------------------------------------------------- hardware events

void test_hardware_breakpoint() {
    const HardwareBreakpoint b = expect<HardwareBreakpoint>(classify_debug_exit(db(dr6::hit(0)), debugger_plan()));
    CU_ASSERT_EQUAL(b.slot, 0u);
    CU_ASSERT_EQUAL(b.request_id, 10u);
    CU_ASSERT_EQUAL(b.addr, 0x401000u);
    CU_ASSERT(!b.guest_dr6);
}

void test_split_watchpoint_maps_to_one_request() {
    const DebugRegPlan plan = debugger_plan();
    for (unsigned slot : {1u, 2u, 3u}) {
        const Watchpoint w = expect<Watchpoint>(classify_debug_exit(db(dr6::hit(slot)), plan));
        CU_ASSERT_EQUAL(w.request_id, 11u);
        CU_ASSERT_EQUAL(w.slot, slot);
        CU_ASSERT(w.kind == WatchKind::write);
        CU_ASSERT_EQUAL(w.addr, 0x1003u);
        CU_ASSERT_EQUAL(w.len, 6u);
        CU_ASSERT_EQUAL(w.hit_addr, 0x1003u);
    }
    // An access that straddles two pieces sets two bits: still one watchpoint.
    const Watchpoint w = expect<Watchpoint>(classify_debug_exit(db(dr6::hit(2) | dr6::hit(3)), plan));
    CU_ASSERT_EQUAL(w.request_id, 11u);
    CU_ASSERT_EQUAL(w.slot, 2u);
}

void test_watchpoint_preferred_over_exec() {
    // Trap of the completed access first; the exec breakpoint refaults.
    const Watchpoint w = expect<Watchpoint>(classify_debug_exit(db(dr6::hit(0) | dr6::hit(3)), debugger_plan()));
    CU_ASSERT_EQUAL(w.request_id, 11u);
    CU_ASSERT_EQUAL(w.slot, 3u);
}

void test_access_watch_kind() {
    const Watchpoint w = expect<Watchpoint>(classify_debug_exit(db(dr6::hit(2)), merged_plan()));
    CU_ASSERT(w.kind == WatchKind::access);
    CU_ASSERT_EQUAL(w.request_id, 21u);
    CU_ASSERT_EQUAL(w.addr, 0x7000u);
    CU_ASSERT_EQUAL(w.len, 8u);
}

void test_disabled_slot_bits_ignored() {
    // Only DR0 in use; B1-B3 of unused slots (matching by accident) are noise.
    DebugRegPlan plan;
    CU_ASSERT_FATAL(place_debug_request(plan, 1, {DebugAccess::exec, 0x401000, 1}).ok());
    const NotOurs n = expect<NotOurs>(classify_debug_exit(db(0b1110), plan));
    CU_ASSERT_EQUAL(n.dr6, dr6::kInit);
    const HardwareBreakpoint b = expect<HardwareBreakpoint>(classify_debug_exit(db(0b1111), plan));
    CU_ASSERT_EQUAL(b.slot, 0u);
}

// ------------------------------------------------- guest + debugger slots

void test_guest_dr0_hit_while_debugger_uses_dr1() {
    const DebugRegPlan plan = merged_plan();
    const NotOurs n = expect<NotOurs>(classify_debug_exit(db(dr6::hit(0)), plan));
    CU_ASSERT_EQUAL(n.vector, 1u);
    CU_ASSERT_EQUAL(n.dr6, dr6::kInit | dr6::hit(0));

    const HardwareBreakpoint b = expect<HardwareBreakpoint>(classify_debug_exit(db(dr6::hit(1)), plan));
    CU_ASSERT_EQUAL(b.request_id, 20u);
    CU_ASSERT(!b.guest_dr6);

    // Both at once: the debugger's event, with the guest's part kept.
    const HardwareBreakpoint both = expect<HardwareBreakpoint>(
        classify_debug_exit(db(dr6::hit(0) | dr6::hit(1)), plan));
    CU_ASSERT_EQUAL(both.slot, 1u);
    CU_ASSERT_FATAL(both.guest_dr6.has_value());
    CU_ASSERT_EQUAL(*both.guest_dr6, dr6::kInit | dr6::hit(0));
}

void test_step_with_guest_hit_keeps_guest_part() {
    const StepDone s = expect<StepDone>(
        classify_debug_exit(db(dr6::kBS | dr6::hit(0) | dr6::hit(2), true), merged_plan()));
    CU_ASSERT_FATAL(s.also_watchpoint.has_value());
    CU_ASSERT_EQUAL(s.also_watchpoint->request_id, 21u);
    CU_ASSERT_FATAL(s.guest_dr6.has_value());
    CU_ASSERT_EQUAL(*s.guest_dr6, dr6::kInit | dr6::hit(0));  // BS consumed by the debugger
}

void test_guest_tf_with_debugger_breakpoint() {
    const HardwareBreakpoint b = expect<HardwareBreakpoint>(
        classify_debug_exit(db(dr6::kBS | dr6::hit(1)), merged_plan()));
    CU_ASSERT_FATAL(b.guest_dr6.has_value());
    CU_ASSERT_EQUAL(*b.guest_dr6, dr6::kInit | dr6::kBS);
}

void test_relocated_guest_slot_renumbered() {
    DebugRegPlan plan;
    CU_ASSERT_FATAL(place_debug_request(plan, 1, {DebugAccess::exec, 0x401000, 1}).ok());
    plan.owners[1] = SlotOwner{SlotOwner::Kind::guest, 3, 0, {}};
    plan.regs.dr7 |= dr7::local_enable(1);
    const NotOurs n = expect<NotOurs>(classify_debug_exit(db(dr6::hit(1)), plan));
    CU_ASSERT_EQUAL(n.dr6, dr6::kInit | dr6::hit(3));
}

void test_bd_with_our_gd_is_guest_dr_access() {
    const GuestDebugRegAccess a = expect<GuestDebugRegAccess>(classify_debug_exit(db(dr6::kBD), merged_plan()));
    CU_ASSERT_EQUAL(a.pc, kPc);
    // A debugger-only plan without GD: BD cannot be ours.
    const NotOurs n = expect<NotOurs>(classify_debug_exit(db(dr6::kBD), debugger_plan()));
    CU_ASSERT_EQUAL(n.dr6, dr6::kInit | dr6::kBD);
}

void test_bt_is_not_ours() {
    const NotOurs n = expect<NotOurs>(classify_debug_exit(db(dr6::kBT), debugger_plan()));
    CU_ASSERT_EQUAL(n.dr6, dr6::kInit | dr6::kBT);
}

void test_kernel_dr7_is_not_an_input() {
    // The same DR6 means different things under different plans: the
    // classifier decodes against the plan's DR7 only.
    DebugRegPlan a;
    CU_ASSERT_FATAL(place_debug_request(a, 1, {DebugAccess::exec, 0x401000, 1}).ok());
    DebugRegPlan b;
    CU_ASSERT_FATAL(place_debug_request(b, 2, {DebugAccess::write, 0x2000, 4}).ok());
    CU_ASSERT(std::holds_alternative<HardwareBreakpoint>(classify_debug_exit(db(dr6::hit(0)), a)));
    CU_ASSERT(std::holds_alternative<Watchpoint>(classify_debug_exit(db(dr6::hit(0)), b)));
}

const kvmdbg::test::TestCase kBpCases[] = {
    {"debugger software breakpoint", test_bp_debugger_software_breakpoint},
    {"guest int3 is not ours", test_bp_guest_int3_is_not_ours},
    {"other vector is not ours", test_other_vector_is_not_ours},
};

const kvmdbg::test::TestCase kStepCases[] = {
    {"step done", test_step_done},
    {"step done + breakpoint + watchpoint", test_step_done_with_breakpoint_and_watchpoint},
    {"guest TF is not ours", test_guest_tf_is_not_ours},
};

const kvmdbg::test::TestCase kHwCases[] = {
    {"hardware breakpoint", test_hardware_breakpoint},
    {"split watchpoint is one request", test_split_watchpoint_maps_to_one_request},
    {"watchpoint preferred over exec", test_watchpoint_preferred_over_exec},
    {"access watch kind", test_access_watch_kind},
    {"disabled slot bits ignored", test_disabled_slot_bits_ignored},
    {"plan's DR7, not the kernel's", test_kernel_dr7_is_not_an_input},
};

const kvmdbg::test::TestCase kMixedCases[] = {
    {"guest DR0 hit while debugger uses DR1", test_guest_dr0_hit_while_debugger_uses_dr1},
    {"step + guest hit keeps guest part", test_step_with_guest_hit_keeps_guest_part},
    {"guest TF + debugger breakpoint", test_guest_tf_with_debugger_breakpoint},
    {"relocated guest slot renumbered", test_relocated_guest_slot_renumbered},
    {"BD with our GD", test_bd_with_our_gd_is_guest_dr_access},
    {"BT is not ours", test_bt_is_not_ours},
};

const kvmdbg::test::TestSuite kSuites[] = {
    {"bp", kBpCases},
    {"step", kStepCases},
    {"hw", kHwCases},
    {"guest_and_debugger", kMixedCases},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
