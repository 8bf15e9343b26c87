// Classification of an x86 KVM_EXIT_DEBUG: does the event belong to the
// debugger (step done, software or hardware breakpoint, watchpoint, a guest
// MOV DR trapped by our GD) or to the guest (its own int3, TF trap or debug
// register hit), which must then be reflected into it?
//
// Inputs are plain values copied from kvm_run->debug.arch (exception, dr6,
// pc) plus what only the accelerator knows: whether it asked KVM to
// single-step, whether its software-breakpoint table has an entry at pc,
// and the DebugRegPlan it loaded (its own DR7 copy and slot owners).
// kvm_run->debug.arch.dr7 is deliberately NOT an input: it was measured as
// garbage on the PVM hosts (docs/hosts.md).
//
// Exception semantics (Intel SDM Vol. 3B 17.3.1, Table 17-2):
//   #BP (vector 3)  int3; KVM reports pc = the int3's own address
//   #DB (vector 1)  Bn execute breakpoint: fault, pc = the instruction (not
//                   yet executed; resuming re-triggers unless stepped over)
//                   Bn data breakpoint: trap, after the accessing instruction
//                   BS single step: trap, after one instruction
//                   BD general detect: fault, pc = the MOV DR
//                   BT task switch: trap
//
// Threads: pure, any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>

#include "arch/x86/debug_regs.h"

namespace kvmdbg::arch::x86 {

inline constexpr std::uint32_t kVectorDB = 1;  ///< #DB, debug exception
inline constexpr std::uint32_t kVectorBP = 3;  ///< #BP, breakpoint (int3)

/// What the accelerator knows about one KVM_EXIT_DEBUG.
struct DebugExitInfo {
    std::uint32_t vector = 0;          ///< kvm_run->debug.arch.exception (1 #DB, 3 #BP)
    std::uint64_t dr6 = 0;             ///< kvm_run->debug.arch.dr6 (architectural form)
    std::uint64_t pc = 0;              ///< kvm_run->debug.arch.pc: linear RIP
    bool debugger_stepping = false;    ///< KVM_GUESTDBG_SINGLESTEP was set for this run
    bool sw_breakpoint_at_pc = false;  ///< the debugger has a software breakpoint at pc
};

/// A debugger hardware (execute) breakpoint hit: the instruction at `addr`
/// has not executed yet.
struct HardwareBreakpoint {
    unsigned slot = 0;             ///< physical DRn that matched
    std::uint32_t request_id = 0;  ///< the debugger request's id
    std::uint64_t addr = 0;        ///< the breakpoint address (DRn)
    /// When the same #DB also carries guest conditions: the DR6 to reflect
    /// to the guest (guest numbering, see guest_view_dr6) after the debugger
    /// resumes. Empty otherwise.
    std::optional<std::uint64_t> guest_dr6;
};

/// What a watchpoint reports to gdb: watch, rwatch or awatch.
enum class WatchKind : std::uint8_t { write, read, access };

/// A debugger watchpoint triggered (trap: the accessing instruction has
/// completed). A range split over several slots is reported once, as the
/// request the debugger made.
struct Watchpoint {
    std::uint32_t request_id = 0;       ///< the debugger request's id
    unsigned slot = 0;                  ///< lowest physical DRn of that request that matched
    WatchKind kind = WatchKind::write;  ///< the requested kind (x86 has no read-only)
    std::uint64_t addr = 0;             ///< the requested range's start
    std::uint64_t len = 0;              ///< the requested range's length
    /// The address gdb reports ("watch:<addr>"): the start of the range the
    /// debugger asked for, even if a later piece of a split range matched.
    std::uint64_t hit_addr = 0;
    std::optional<std::uint64_t> guest_dr6;  ///< as HardwareBreakpoint::guest_dr6
};

/// The debugger's single step finished (DR6.BS while it stepped). A
/// breakpoint or watchpoint the same #DB reports is attached, not lost.
struct StepDone {
    std::optional<HardwareBreakpoint> also_breakpoint;  ///< Bn of a debugger exec slot
    std::optional<Watchpoint> also_watchpoint;          ///< Bn of a debugger watch slot
    std::optional<std::uint64_t> guest_dr6;             ///< as HardwareBreakpoint::guest_dr6
};

/// The int3 at `addr` is one of the debugger's software breakpoints.
struct SoftwareBreakpoint {
    std::uint64_t addr = 0;
};

/// DR6.BD with GD set by the plan (not by the guest): the guest executed
/// a MOV to/from DRn at `pc`. Emulate it with emulate_mov_dr
/// (debug_reg_merge.h) and advance RIP; nothing is reported to gdb, except
/// that a debugger single step is complete once the MOV is emulated (the
/// MOV was the stepped instruction; GD faults before BS could be set).
struct GuestDebugRegAccess {
    std::uint64_t pc = 0;
};

/// The event is the guest's own: reflect exception `vector` into the guest.
/// For #DB, `dr6` is the DR6 the guest must see (guest slot numbering,
/// debugger bits removed, always-one bits set); for #BP it is 0.
struct NotOurs {
    std::uint32_t vector = 0;
    std::uint64_t dr6 = 0;
};

/// The classification of one KVM_EXIT_DEBUG.
using DebugEvent =
    std::variant<StepDone, SoftwareBreakpoint, HardwareBreakpoint, Watchpoint, GuestDebugRegAccess, NotOurs>;

/// Classifies `exit` against the plan that was loaded when the vCPU ran.
///
/// #BP: SoftwareBreakpoint{pc} if exit.sw_breakpoint_at_pc, else
/// NotOurs{3, 0} (a guest int3).
///
/// #DB: DR6 is decoded against plan.regs.dr7 (Bn of disabled slots ignored).
///  1. BS while debugger_stepping -> StepDone, with also_watchpoint /
///     also_breakpoint from debugger-owned Bn bits.
///  2. a debugger-owned Bn -> Watchpoint if any watch slot matched (a data
///     trap means the previous instruction completed: report it first; an
///     exec breakpoint refaults on resume and is not lost), else
///     HardwareBreakpoint. With several requests matched, the lowest slot's.
///  3. BD with plan.regs.dr7.GD -> GuestDebugRegAccess{pc}.
///  4. anything else -> NotOurs{1, guest DR6}: a guest TF trap (BS while the
///     debugger did not step), a guest-owned slot's hit, BT, a guest GD.
/// In 1-3 any guest-owned Bn bit, BT, or BS when the debugger was not
/// stepping is returned as guest_dr6 for later reflection.
/// A guest that set TF itself while the debugger stepped is indistinguishable
/// here (one BS bit): the caller, which knows the guest's RFLAGS.TF, decides.
/// Other vectors -> NotOurs{vector, 0}.
DebugEvent classify_debug_exit(const DebugExitInfo& exit, const DebugRegPlan& plan);

}  // namespace kvmdbg::arch::x86
