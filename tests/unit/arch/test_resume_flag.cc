// The RFLAGS.RF continue policy (arch/x86/resume_flag.h) and the guest
// execute-breakpoint lookup it relies on (debug_regs.h exec_breakpoint_at):
// every row of the policy table, every DR7 slot and R/W kind, the
// environment override and the stale-RF rule.
#include <cstdint>

#include "arch/x86/debug_regs.h"
#include "arch/x86/resume_flag.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::arch::x86;

constexpr std::uint64_t kAddr = 0xffffffff81000010ull;

X86DebugRegs guest_slot(unsigned n, std::uint64_t addr, Dr7Rw rw, bool local, bool global) {
    X86DebugRegs regs;
    regs.dr[n] = addr;
    Dr7Slot slot;
    slot.local = local;
    slot.global = global;
    slot.rw = rw;
    slot.len = rw == Dr7Rw::exec ? 1 : 4;
    auto dr7 = dr7_set_slot(dr7::kInit, n, slot);
    CU_ASSERT_FATAL(dr7.ok());
    regs.dr7 = dr7.value();
    return regs;
}

void test_rf_bit() {
    // SDM Vol. 1 Figure 3-8: RF is bit 16, TF bit 8 and IF bit 9 are not it.
    CU_ASSERT_EQUAL(kRflagsRf, 0x10000u);
    CU_ASSERT_EQUAL(kRflagsRf & 0x300u, 0u);
}

void test_enabled_needs_host_and_env() {
    CU_ASSERT_FALSE(resume_flag_enabled(false, nullptr));
    CU_ASSERT_FALSE(resume_flag_enabled(false, "1"));
    // Tests only: "force" overrides the probe's "no".
    CU_ASSERT_TRUE(resume_flag_enabled(false, "force"));
    CU_ASSERT_TRUE(resume_flag_enabled(true, "force"));
    CU_ASSERT_TRUE(resume_flag_enabled(true, nullptr));
    for (const char* off : {"0", "off", "no", "false"}) {
        CU_ASSERT_FALSE(resume_flag_enabled(true, off));
    }
    for (const char* on : {"1", "on", "yes", "", "2"}) {
        CU_ASSERT_TRUE(resume_flag_enabled(true, on));
    }
}

void test_policy_table() {
    // int3 in memory: always lifted for one step, whatever the rest.
    for (bool step : {false, true}) {
        for (bool rf : {false, true}) {
            CU_ASSERT(leave_breakpoint(true, step, rf) == LeaveBreakpoint::lift_int3);
        }
    }
    // A hardware slot: a step keeps the step-over; a continue uses RF only where enabled.
    CU_ASSERT(leave_breakpoint(false, true, false) == LeaveBreakpoint::step_over_slot);
    CU_ASSERT(leave_breakpoint(false, true, true) == LeaveBreakpoint::step_over_slot);
    CU_ASSERT(leave_breakpoint(false, false, false) == LeaveBreakpoint::step_over_slot);
    CU_ASSERT(leave_breakpoint(false, false, true) == LeaveBreakpoint::resume_flag);
}

void test_exec_breakpoint_at_every_slot() {
    for (unsigned n = 0; n < kNumDebugRegs; ++n) {
        CU_ASSERT_TRUE(exec_breakpoint_at(guest_slot(n, kAddr, Dr7Rw::exec, true, false), kAddr));
        CU_ASSERT_TRUE(exec_breakpoint_at(guest_slot(n, kAddr, Dr7Rw::exec, false, true), kAddr));
        // Disabled, another address, or a data slot: no instruction breakpoint there.
        CU_ASSERT_FALSE(exec_breakpoint_at(guest_slot(n, kAddr, Dr7Rw::exec, false, false), kAddr));
        CU_ASSERT_FALSE(exec_breakpoint_at(guest_slot(n, kAddr, Dr7Rw::exec, true, true), kAddr + 1));
        CU_ASSERT_FALSE(exec_breakpoint_at(guest_slot(n, kAddr, Dr7Rw::write, true, false), kAddr));
        CU_ASSERT_FALSE(exec_breakpoint_at(guest_slot(n, kAddr, Dr7Rw::access, true, false), kAddr));
    }
    X86DebugRegs none;
    none.dr7 = dr7::kInit;
    CU_ASSERT_FALSE(exec_breakpoint_at(none, 0));
    // Address 0 in a disabled slot (the reset state) is not a breakpoint at 0.
    CU_ASSERT_FALSE(exec_breakpoint_at(X86DebugRegs{}, 0));
}

void test_fits() {
    X86DebugRegs none;
    none.dr7 = dr7::kInit;
    CU_ASSERT_TRUE(resume_flag_fits(kAddr, kAddr, none));
    // RIP moved by the debugger (or a CS base): step-over instead.
    CU_ASSERT_FALSE(resume_flag_fits(kAddr + 5, kAddr, none));
    // The guest's own execute breakpoint at the same address must still fire.
    CU_ASSERT_FALSE(resume_flag_fits(kAddr, kAddr, guest_slot(2, kAddr, Dr7Rw::exec, true, false)));
    // Its breakpoint elsewhere, or a watchpoint on the same address, is not hidden by RF.
    CU_ASSERT_TRUE(resume_flag_fits(kAddr, kAddr, guest_slot(2, kAddr + 16, Dr7Rw::exec, true, false)));
    CU_ASSERT_TRUE(resume_flag_fits(kAddr, kAddr, guest_slot(1, kAddr, Dr7Rw::write, true, false)));
}

void test_stale_rule() {
    const std::uint64_t flags = 0x202;
    // RF consumed (clear): nothing to do, wherever RIP is.
    CU_ASSERT_FALSE(must_clear_stale_resume_flag(flags, kAddr, kAddr));
    CU_ASSERT_FALSE(must_clear_stale_resume_flag(flags, kAddr + 3, kAddr));
    // Still set at the breakpoint: the continue was deferred, RF stays.
    CU_ASSERT_FALSE(must_clear_stale_resume_flag(flags | kRflagsRf, kAddr, kAddr));
    // Still set after the debugger moved RIP: clear it.
    CU_ASSERT_TRUE(must_clear_stale_resume_flag(flags | kRflagsRf, kAddr + 3, kAddr));
}

const kvmdbg::test::TestCase kCases[] = {
    {"RF is RFLAGS bit 16", test_rf_bit},
    {"enabled needs the host and no KVMDBG_X86_RF_RESUME=0 (force: tests)", test_enabled_needs_host_and_env},
    {"policy table: int3 lifted, steps step over, continues use RF", test_policy_table},
    {"exec_breakpoint_at: every slot, L/G, disabled, data, other address", test_exec_breakpoint_at_every_slot},
    {"RF fits only at the breakpoint with no guest bp there", test_fits},
    {"stale RF cleared only when RIP moved", test_stale_rule},
};

const kvmdbg::test::TestSuite kSuites[] = {{"resume_flag", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
