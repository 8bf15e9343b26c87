// Decoding and classification of an arm64 KVM_EXIT_DEBUG.
//
// KVM fills kvm_run->debug.arch (merged uapi, arch/arm64/include/uapi/
// asm/kvm.h):
//
//   struct kvm_debug_exit_arch { __u32 hsr; __u32 hsr_high; __u64 far; };
//
// hsr is ESR_EL2 bits 31:0 of the exception KVM intercepted, hsr_high its
// bits 61:32 (ISS2 is 55:32), valid only when kvm_run->flags has
// KVM_DEBUG_ARCH_HSR_HIGH_VALID (pass 0 otherwise); far is FAR_EL2
// (meaningful for watchpoints only).
// The PC is not in the exit: the caller reads it (KVM_GET_ONE_REG) and
// passes it in. ESR layout (ARM ARM DDI 0487, ESR_ELx):
//
//   63     56 55      32 31   26 25 24                              0
//  +---------+----------+-------+--+--------------------------------+
//  |  RES0   |   ISS2   |  EC   |IL|              ISS               |
//  +---------+----------+-------+--+--------------------------------+
//
//   EC    meaning here                           ISS
//   0x3c  BRK instruction (A64)                  [15:0] the BRK #imm16
//   0x30  Breakpoint, from a lower EL            [5:0] IFSC = 0b100010
//   0x31  Breakpoint, from the current EL
//   0x32  Software step, from a lower EL         [24] ISV, [6] EX (valid if
//   0x33  Software step, from the current EL     ISV: a load-exclusive was
//                                                stepped), [5:0] IFSC
//   0x34  Watchpoint, from a lower EL            [8] CM (cache maintenance),
//   0x35  Watchpoint, from the current EL        [6] WnR (1 = write),
//                                                [5:0] DFSC = 0b100010
//
// KVM sees every guest debug exception as taken from a lower EL (the guest
// runs at EL1/EL0 under EL2), so hsr carries the even ECs; reflect.h
// converts them for the guest.
//
// Timing (ARM ARM D2.9-D2.12): a BRK, a breakpoint and a WATCHPOINT are all
// taken BEFORE the instruction completes: the PC is the BRK / the
// breakpointed instruction / the accessing instruction, and a watched store
// has not written memory yet. gdb's aarch64 target knows this
// (gdbarch_have_nonsteppable_watchpoint): it removes the watchpoint, steps,
// and re-inserts it before it reports the hit. A software-step exception
// is taken once one instruction completed: PC is the next instruction.
//
// While the debugger uses the hardware registers (KVM_GUESTDBG_USE_HW),
// KVM loads ITS registers, not the guest's (Linux arch/arm64/kvm/debug.c),
// so a breakpoint or watchpoint exit is always against the plan we
// loaded; the matching below is still strict, and anything unmatched is
// reported as the guest's.
//
// Threads: pure, any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "arch/arm64/debug_regs.h"

namespace kvmdbg::arch::arm64 {

/// Exception classes (ESR_ELx.EC) that KVM reports with KVM_EXIT_DEBUG.
namespace ec {
inline constexpr std::uint32_t kBreakpointLower = 0x30;
inline constexpr std::uint32_t kBreakpointCurrent = 0x31;
inline constexpr std::uint32_t kStepLower = 0x32;
inline constexpr std::uint32_t kStepCurrent = 0x33;
inline constexpr std::uint32_t kWatchpointLower = 0x34;
inline constexpr std::uint32_t kWatchpointCurrent = 0x35;
inline constexpr std::uint32_t kBkpt32 = 0x38;  ///< AArch32 BKPT (not handled)
inline constexpr std::uint32_t kVectorCatch = 0x3a;
inline constexpr std::uint32_t kBrk64 = 0x3c;
}  // namespace ec

/// ESR field helpers.
inline constexpr std::uint32_t esr_ec(std::uint64_t esr) { return static_cast<std::uint32_t>(esr >> 26) & 0x3f; }
inline constexpr std::uint32_t esr_iss(std::uint64_t esr) { return static_cast<std::uint32_t>(esr) & 0x1ffffff; }
inline constexpr std::uint64_t kEsrIl = 1ull << 25;

/// What kind of debug exception an exit carries.
enum class DebugExceptionKind : std::uint8_t { brk, breakpoint, software_step, watchpoint, unknown };

/// hsr/hsr_high/far decoded, without any knowledge of who set what.
struct DecodedDebugExit {
    DebugExceptionKind kind = DebugExceptionKind::unknown;
    std::uint32_t ec = 0;
    bool from_lower_el = false;  ///< EC is the "lower EL" variant (always, under KVM)
    std::uint32_t iss = 0;       ///< hsr bits 24:0
    std::uint32_t iss2 = 0;      ///< ISS2 = hsr_high bits 23:0 (ESR bits 55:32)
    std::uint16_t brk_imm = 0;   ///< brk: the #imm16
    bool step_isv = false;       ///< software_step: ISS.ISV
    bool step_ex = false;        ///< software_step: ISS.EX (valid if step_isv)
    bool watch_write = false;    ///< watchpoint: ISS.WnR
    bool watch_cm = false;       ///< watchpoint: ISS.CM
    std::uint64_t far = 0;       ///< the exit's far (watchpoint: accessed address)
    /// Human description, e.g. "BRK #0xf000", "watchpoint (write) at
    /// 0x1000", "exception class 0x38 (AArch32 BKPT) is not a debug event
    /// kvmdbg handles (hsr 0xe0000001)".
    std::string description;
};

/// Decodes the three values of kvm_debug_exit_arch. Never fails: an EC
/// other than those above is `unknown` with a description naming it.
DecodedDebugExit decode_debug_exit(std::uint32_t hsr, std::uint32_t hsr_high, std::uint64_t far);

/// What the accelerator knows about one KVM_EXIT_DEBUG.
struct DebugExitInfo {
    std::uint32_t hsr = 0;
    std::uint32_t hsr_high = 0;
    std::uint64_t far = 0;
    std::uint64_t pc = 0;              ///< the vCPU's PC after the exit (KVM_GET_ONE_REG)
    bool debugger_stepping = false;    ///< KVM_GUESTDBG_SINGLESTEP was set for this run
    bool sw_breakpoint_at_pc = false;  ///< the debugger has a software breakpoint at pc
};

/// The debugger's single step finished; pc is the next instruction.
struct StepDone {
    std::uint64_t pc = 0;
};

/// The BRK at `addr` is one of the debugger's software breakpoints.
struct SoftwareBreakpoint {
    std::uint64_t addr = 0;
    std::uint16_t imm = 0;  ///< the #imm16 the BRK carried
};

/// A debugger hardware breakpoint: the instruction at `addr` has not executed.
struct HardwareBreakpoint {
    unsigned slot = 0;
    std::uint32_t request_id = 0;
    std::uint64_t addr = 0;
};

/// What a watchpoint reports to gdb: watch, rwatch or awatch.
enum class WatchKind : std::uint8_t { write, read, access };

/// A debugger watchpoint triggered (before the access completed).
/// A range split over several slots, or a MASK range, is reported once as
/// the request the debugger made.
struct Watchpoint {
    std::uint32_t request_id = 0;
    unsigned slot = 0;                  ///< the slot whose watched bytes matched (or were nearest)
    WatchKind kind = WatchKind::write;  ///< the requested kind
    std::uint64_t addr = 0;             ///< the requested range
    std::uint64_t len = 0;
    /// The address reported to gdb ("watch:<addr>"): FAR when it lies in the
    /// requested range, else the nearest byte of that range. (ARM ARM D2.10:
    /// FAR may be any address the instruction accessed, e.g. the start of an
    /// STP or DC ZVA block below the watched bytes; gdb attributes a hit only
    /// to a watchpoint whose range contains the reported address.)
    std::uint64_t hit_addr = 0;
    std::uint64_t far = 0;  ///< the raw FAR
    bool write = false;     ///< ISS.WnR: the access was a store
};

/// The event is the guest's own (a guest BRK, the guest's own step,
/// breakpoint or watchpoint): reflect it with plan_reflection (reflect.h).
struct NotOurs {
    DecodedDebugExit exception;
};

/// An exception class kvmdbg does not handle (AArch32 BKPT, vector catch,
/// anything KVM adds later). The caller stops and reports `description`;
/// it must not resume the vCPU unchanged (it would exit again).
struct UnknownDebugExit {
    DecodedDebugExit exception;
};

using DebugEvent =
    std::variant<StepDone, SoftwareBreakpoint, HardwareBreakpoint, Watchpoint, NotOurs, UnknownDebugExit>;

/// Classifies `exit` against the plan that was loaded when the vCPU ran.
///  * BRK: SoftwareBreakpoint{pc} if exit.sw_breakpoint_at_pc, else NotOurs.
///  * software step: StepDone if the debugger was stepping, else NotOurs.
///  * breakpoint: the debugger slot whose DBGBVR == pc -> HardwareBreakpoint,
///    else NotOurs.
///  * watchpoint: the debugger request whose WHOLE range (all its pieces)
///    contains FAR; if none does, the request with the nearest range whose
///    LSC matches the access (WnR); none used -> NotOurs.
///  * other EC: UnknownDebugExit.
DebugEvent classify_debug_exit(const DebugExitInfo& exit, const DebugRegPlan& plan);

}  // namespace kvmdbg::arch::arm64
