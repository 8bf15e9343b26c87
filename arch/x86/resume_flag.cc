#include "arch/x86/resume_flag.h"

#include <string_view>

namespace kvmdbg::arch::x86 {

bool resume_flag_enabled(bool host_honours_rf, const char* env) {
    const std::string_view v(env == nullptr ? "" : env);
    if (v == "force") {
        return true;
    }
    if (!host_honours_rf) {
        return false;
    }
    return !(v == "0" || v == "off" || v == "no" || v == "false");
}

LeaveBreakpoint leave_breakpoint(bool int3_in_memory, bool single_step, bool rf_enabled) {
    if (int3_in_memory) {
        return LeaveBreakpoint::lift_int3;
    }
    if (single_step || !rf_enabled) {
        return LeaveBreakpoint::step_over_slot;
    }
    return LeaveBreakpoint::resume_flag;
}

bool resume_flag_fits(std::uint64_t rip, std::uint64_t bp_addr, const X86DebugRegs& guest) {
    return rip == bp_addr && !exec_breakpoint_at(guest, bp_addr);
}

bool must_clear_stale_resume_flag(std::uint64_t rflags, std::uint64_t rip, std::uint64_t pending_rip) {
    return (rflags & kRflagsRf) != 0 && rip != pending_rip;
}

}  // namespace kvmdbg::arch::x86
