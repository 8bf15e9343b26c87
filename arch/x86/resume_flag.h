// How a resume leaves the debugger's execute breakpoint a vCPU stopped at,
// and when RFLAGS.RF may do it instead of a single-step over it. Pure
// policy, used by accel/kvm/x86_debug_hooks.cc on the vCPU thread.
//
// RFLAGS (Intel SDM Vol. 1 3.4.3, Figure 3-8), the bit that matters here:
//
//    63      22 21 20 19 18 17 16 15 14 13 12 11 10  9  8  7  6  5  4  3  2  1  0
//   +---------+--+--+--+--+--+--+--+--+-----+--+--+--+--+--+--+--+--+--+--+--+--+
//   |    0    |ID|VP|VF|AC|VM|RF| 0|NT|IOPL |OF|DF|IF|TF|SF|ZF| 0|AF| 0|PF| 1|CF|
//   +---------+--+--+--+--+--+--+--+--+-----+--+--+--+--+--+--+--+--+--+--+--+--+
//                            ^ RF, bit 16: resume flag
//
// Intel SDM Vol. 3B 17.3.1.1 "Instruction-Breakpoint Exception Condition":
// with RF = 1 the processor ignores instruction breakpoints (DR0-3 with
// R/W = 00) for the next instruction; it clears RF once an instruction
// completes (except IRET and the like, which load it). VM entry loads RFLAGS
// with RF (Vol. 3C 27.3.2.3 / AMD APM Vol. 2 15.5). An instruction
// breakpoint is a fault: resumed with RF = 0, the vCPU re-hits it at once.
//
// Choices (leave_breakpoint):
//
//   breakpoint the vCPU sits on   resume   RF enabled   result
//   ----------------------------  -------  -----------  ------------------------------
//   int3 in guest memory          any      any          lift_int3: original byte back
//                                                        for one step, int3 re-armed
//   hardware execute slot         step     any          step_over_slot: slot left out
//   (also gdb's Z0 on hosts that                         of one step, re-armed after
//   cannot intercept int3)        continue no           step_over_slot
//                                 continue yes          resume_flag, if resume_flag_fits
//                                                        on the vCPU thread, else
//                                                        step_over_slot
//
// A step keeps the step-over: it must report after exactly one instruction,
// and a step from a breakpoint must not re-hit it (both hold either way; the
// step-over is the path proven on every host).
//
// Threads: pure, any thread.
#pragma once

#include <cstdint>

#include "arch/x86/debug_regs.h"

namespace kvmdbg::arch::x86 {

/// RFLAGS.RF.
inline constexpr std::uint64_t kRflagsRf = 1ull << 16;

/// Whether continues may use RF at all: the host honours it (start-up
/// probe) and `env` (the value of KVMDBG_X86_RF_RESUME, or null) is not
/// "0", "off", "no" or "false" (tests force the step-over with it).
/// "force" uses RF even where the probe said the host ignores it: for
/// tests only (a continue then re-hits its breakpoint on such a host).
bool resume_flag_enabled(bool host_honours_rf, const char* env);

/// How a resume leaves the debugger breakpoint the vCPU stopped at.
enum class LeaveBreakpoint : std::uint8_t {
    lift_int3,       ///< int3 in memory: original byte back for one step
    step_over_slot,  ///< hardware slot left out of the vCPU's plan for one step
    resume_flag,     ///< continue with RF = 1 (if resume_flag_fits)
};

/// The table above.
LeaveBreakpoint leave_breakpoint(bool int3_in_memory, bool single_step, bool rf_enabled);

/// On the vCPU thread, with its registers: RF lands on the breakpoint's
/// instruction and hides nothing else. `rip` must equal the linear
/// breakpoint address (64-bit mode, or CS base 0; otherwise the debugger
/// moved RIP or CS has a base), and the guest must have no enabled execute
/// breakpoint of its own at that address (`guest`: its DR0-3/DR7 from
/// KVM_GET_DEBUGREGS): RF would hide it, a step-over lets it fire.
bool resume_flag_fits(std::uint64_t rip, std::uint64_t bp_addr, const X86DebugRegs& guest);

/// A vCPU was continued with RF at `pending_rip` and then stopped without
/// a debug exit (paused before it entered the guest). True when RF must be
/// cleared before it runs again: RF is still set and the debugger moved RIP
/// elsewhere (at `pending_rip` the continue was only deferred: RF stays).
bool must_clear_stale_resume_flag(std::uint64_t rflags, std::uint64_t rip, std::uint64_t pending_rip);

}  // namespace kvmdbg::arch::x86
