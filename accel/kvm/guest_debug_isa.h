// GuestDebugIsa: the few things the guest-debug core (guest_debug_core.h)
// asks of the host's ISA, in the shape of QEMU's kvm-all.c / kvm_arch_*
// split: the core owns the bookkeeping (breakpoint reference counts, the
// software-breakpoint table, step and step-over state, the rebuild-and-push
// of struct kvm_guest_debug), each ISA supplies only its own logic:
//
//   hook                         x86 (x86_debug_hooks.h)        arm64 (arm64_debug_hooks.h)
//   ---------------------------  -----------------------------  ------------------------------
//   breakpoint instruction       int3 (cc), 1 byte              BRK #0 (00 00 20 d4), 4-aligned
//   guest_memory                 the vCPU's paging mode         the vCPU's EL1 translation regime
//   plan_insert / plan_remove    per-vCPU merge with the        one global DBGBCR/DBGWCR plan
//                                guest's own DR0-3/DR7
//   plan_step_over / _finish     re-plan one vCPU without the   (the suppressed request is left
//                                lifted request, then re-arm    out at fill time)
//   fill                         USE_HW_BP, debugreg[]          USE_HW, dbg_bcr/bvr/wcr/wvr[]
//   step_control                 BLOCKIRQ                       (none: DAIF in before_run)
//   classify                     DR6/vector -> outcome,         ESR/FAR -> outcome, reflection
//                                MOV DR emulation, #DB/#BP      by emulated exception entry
//                                reflection (KVM_SET_VCPU_EVENTS) to EL1 (KVM_SET_ONE_REG)
//   resume_with_flag             RFLAGS.RF continue (probe)     never
//   before_run / undo_step_setup drop a stale RF                mask / restore PSTATE.DAIF
//   sw_breakpoint_control        USE_SW_BP                      USE_SW_BP
//   plants_uncaught_breakpoint / int3 in 64-bit kernel code on     (default: never)
//   uncaught_breakpoint_pc       hosts where it stops as an
//                                emulation failure (probe)
//   set_guest_debug_request      KVM_SET_GUEST_DEBUG            KVM_SET_GUEST_DEBUG
//
// The interface names no ISA type; ppc, s390x and riscv64 plug in the same
// way, each through the pure backend in arch/<isa>/ and its *_kvm.cc
// adaptor (their ArchBackends do not exist yet):
//
//   hook               ppc BookE (ppc_booke_debug_     s390x (s390x_debug_       riscv64 (riscv64_debug_
//                      hooks.h)                        hooks.h)                  hooks.h)
//   -----------------  ------------------------------  ------------------------  ------------------------
//   breakpoint insn    KVM_REG_PPC_DEBUG_INST word,    0x0000 (USER_INSTR0) or   ebreak, 4 bytes (the
//                      big-endian, 4-aligned           DIAG 0x501, 2-aligned     table holds one insn)
//   guest_memory       KVM_TRANSLATE (guest TLB)       prefixing, DAT off only   satp Bare only
//   plan_*             one global bp[] plan            hw_bp[] per vCPU with     refused: ENOTSUP
//                      (2 IAC + 2 DAC)                 its translation
//   fill               USE_HW_BP, bp[] (to_kvm)        USE_HW_BP, hw_bp pointer  nothing (empty arch)
//                                                      into per-vCPU arrays
//   sw_breakpoint_     USE_SW_BP                       0 (ENABLE suffices)       0 (ENABLE suffices)
//   control
//   set_guest_debug_   KVM_SET_GUEST_DEBUG             KVM_SET_GUEST_DEBUG       the C-sized number
//   request                                                                      (kSetGuestDebugIoctl)
//   classify           status/address; program         DEBUG and SIEIC exits;    pc in the table, else
//                      interrupt (KVM_SET_REGS/SREGS)  PGM_OPERATION (KVM_S390_  the guest's breakpoint
//                                                      IRQ)                      trap (KVM_SET_ONE_REG)
//   before_run         refuses a step without          nothing                   refuses every step
//                      KVM_CAP_PPC_GUEST_DEBUG_SSTEP                             (KVM cannot step)
//
// Threads and locking: the core calls set_vcpu_count, plan_clear, fill,
// step_control, classify, plan_finish_step_over and the describe_* hooks
// with its own lock held (so they never wait for another vCPU's thread),
// the pure queries with or without it, and every other hook without it. A
// hook never calls back into the core, except through
// RunSetup::show_original (which takes the core's lock: before_run runs
// without it). An implementation guards its own state with its own mutex,
// taken after the core's, never before.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "accel/kvm/guest_memory.h"
#include "common/result.h"

namespace kvmdbg::accel::kvm {

class KvmVcpu;

/// One of the debugger's hardware requests (a hardware breakpoint, a
/// watchpoint, or a software breakpoint served by a hardware slot).
struct HwRequest {
    std::uint32_t id = 0;    ///< unique per VM, never reused
    std::uint32_t type = 0;  ///< KvmdbgBreakpointType
    std::uint64_t addr = 0;
    std::uint64_t len = 0;   ///< the ISA's instruction length for execute breakpoints
    unsigned refs = 0;       ///< inserts minus removes
    bool serves_sw = false;  ///< a gdb software breakpoint served by a hardware slot
};

/// The debugger's requests as the planning hooks see them: every request,
/// and per vCPU the one its step-over leaves out (if any). The core keeps
/// its tables in this shape, so a hook is handed them without a copy.
struct PlanInput {
    std::vector<HwRequest> requests;
    std::vector<std::optional<std::uint32_t>> suppressed;  ///< indexed by vCPU

    /// The requests vCPU `cpu` loads (all but its suppressed one).
    std::vector<HwRequest> requests_for(std::uint32_t cpu) const;
};

/// What the core knows at a KVM_EXIT_DEBUG, for classify().
struct ExitContext {
    bool debugger_stepping = false;                       ///< a debugger or step-over single step is armed
    std::function<bool(std::uint64_t)> sw_breakpoint_at;  ///< the core's table lookup
    const PlanInput& plan;                                ///< for emulation that re-plans (x86 MOV DR)
};

/// A KVM_EXIT_DEBUG in the core's words.
struct DebugExitOutcome {
    enum class Kind : std::uint8_t {
        step_done,      ///< a single step finished (also an internal step-over)
        sw_breakpoint,  ///< the debugger's software breakpoint at `addr`
        hw_breakpoint,  ///< the debugger's hardware request `request_id` at `addr`
        watchpoint,     ///< request `request_id` (`watch_type`) hit at `addr`, `len`
        guest_event,    ///< the guest's own event: `action` reflects it
        handled,        ///< the ISA emulates an instruction (`emulate`); the vCPU goes on
        unknown,        ///< nothing the ISA recognises (`what`): the vCPU stops
    };
    Kind kind = Kind::unknown;
    std::uint64_t pc = 0;
    std::uint64_t addr = 0;
    std::uint64_t len = 0;
    std::uint32_t request_id = 0;
    /// KVMDBG_WP_* of a watchpoint (0: the core takes the request's type).
    std::uint32_t watch_type = 0;
    /// step_done: the stepped instruction also hit a watchpoint (addr, len, watch_type).
    bool also_watchpoint = false;
    /// guest_event: a debugger step, or a failed reflection, ends at the
    /// guest's exception entry and is reported as a finished step (arm64);
    /// false: the vCPU always goes on (x86: the step exits again after the
    /// handler's first instruction).
    bool stop_after_reflection = false;
    /// guest_event: reflects the event. Run on the vCPU's thread without
    /// the core's lock; the core logs a failure naming the vCPU and `what`.
    std::function<Status(KvmVcpu&)> action;
    /// handled: emulates the instruction, as `action`. True when it
    /// completed (a debugger step ends there), false when it raised an
    /// exception in the guest instead.
    std::function<Result<bool>(KvmVcpu&)> emulate;
    std::string what;  ///< one-line description for log messages
};

/// What a resume arms, for before_run().
struct RunSetup {
    bool debugger_step = false;    ///< the debugger asked for one step
    bool step_over = false;        ///< an internal step-over runs first
    bool step_blocks_irq = false;  ///< `monitor sstep` setting
    /// Rewrites bytes just read from guest memory to show the original
    /// instructions under the debugger's software breakpoints (the one
    /// call into the core a hook may make; it takes the core's lock).
    std::function<void(std::uint64_t, std::span<std::uint8_t>)> show_original;
};

class GuestDebugIsa {
public:
    virtual ~GuestDebugIsa() = default;

    // ---- what the ISA's breakpoints are (pure, any thread)
    /// The software breakpoint instruction written over guest code.
    virtual std::span<const std::uint8_t> breakpoint_instruction() const = 0;
    /// Its name for reports ("int3", "BRK #0").
    virtual const char* breakpoint_instruction_name() const = 0;
    /// Length recorded for an execute request (the instruction length).
    virtual std::uint64_t execute_length() const = 0;
    /// Errors: EINVAL for a software breakpoint address the ISA cannot
    /// hold an instruction at (misaligned).
    virtual Status check_breakpoint_address(std::uint64_t addr) const = 0;
    /// Whether the host intercepts the breakpoint instruction; if not, the
    /// core serves gdb's software breakpoints with hardware requests, except
    /// those plants_uncaught_breakpoint() accepts.
    virtual bool sw_breakpoints_intercepted() const = 0;
    /// Where the host does not intercept the breakpoint instruction: whether
    /// one at `addr` is written into guest memory all the same, because the
    /// host stops at it in another way that uncaught_breakpoint_pc()
    /// recognises (x86 PVM hosts: int3 in 64-bit kernel code ends KVM_RUN
    /// as an emulation failure). Default: never.
    virtual bool plants_uncaught_breakpoint(std::uint64_t /*addr*/) const { return false; }
    /// An exit other than KVM_EXIT_DEBUG that `vcpu` just returned: the pc
    /// of the breakpoint instruction it stopped at, when the exit is the
    /// host's way of stopping at one (see plants_uncaught_breakpoint());
    /// nothing otherwise. The core then checks that the debugger planted
    /// one there. vCPU thread, core lock not held. Default: never.
    virtual std::optional<std::uint64_t> uncaught_breakpoint_pc(KvmVcpu& /*vcpu*/) { return std::nullopt; }

    // ---- guest memory and vCPUs
    /// Sizes the ISA's per-vCPU state. Main thread, before start.
    virtual void set_vcpu_count(std::uint32_t count) = 0;
    /// Guest memory as vCPU `cpu` sees it (its current translation regime).
    /// Reads the vCPU's state (inline on its own thread). Errors: of the read.
    virtual Result<GuestMemory> guest_memory(std::uint32_t cpu) = 0;
    /// The vCPU's program counter (its own thread); 0 if it cannot be read.
    virtual std::uint64_t current_pc(KvmVcpu& vcpu) = 0;

    // ---- slot planning
    /// Rejects what can never be encoded before the core records it.
    /// Errors: EINVAL (bad type or length), ENOTSUP (a kind the ISA lacks).
    virtual Status validate_request(std::uint32_t type, std::uint64_t addr, std::uint64_t len) const = 0;
    /// `added` (already in `all`) is being inserted: plan it. On error the
    /// plan is as before and the core forgets the request. Errors: ENOSPC
    /// when no slot is left (message names what the slots hold).
    virtual Status plan_insert(const HwRequest& added, const PlanInput& all) = 0;
    /// Request `id` (no longer in `all`) was removed.
    virtual Status plan_remove(std::uint32_t id, const PlanInput& all) = 0;
    /// Every request is gone (remove_all).
    virtual void plan_clear() = 0;
    /// On `vcpu`'s thread before its step-over: its plan leaves out its
    /// suppressed request (in `all`).
    virtual Status plan_step_over(KvmVcpu& vcpu, const PlanInput& all) = 0;
    /// On `vcpu`'s thread after its step-over; `lifted_hw`: a hardware
    /// request was left out and must be re-armed. Core lock held.
    virtual Status plan_finish_step_over(KvmVcpu& vcpu, const PlanInput& all, bool lifted_hw) = 0;

    // ---- the push (core lock held)
    /// Fills dbg.arch for vCPU `cpu` (leaving out `suppressed`) and returns
    /// the control bits that say hardware slots are in use (0: none, and
    /// dbg.arch untouched). dbg.arch may point into storage the hooks keep
    /// for vCPU `cpu` (s390x: hw_bp): it must stay valid and unchanged
    /// until the next fill for that vCPU. The core calls fill for a vCPU
    /// only on that vCPU's thread, right before its KVM_SET_GUEST_DEBUG, so
    /// the ioctl reads it before any later fill; the core's identical-push
    /// check compares the pointer, not what it points to, so a fill whose
    /// pointed-to data changed must also change the pointer.
    virtual std::uint32_t fill(std::uint32_t cpu, std::optional<std::uint32_t> suppressed,
                               kvm_guest_debug& dbg) const = 0;
    /// Control bits while software breakpoints are in memory:
    /// KVM_GUESTDBG_USE_SW_BP where the ISA defines it, 0 where ENABLE alone
    /// makes KVM exit on the breakpoint instruction (s390x, riscv64).
    virtual std::uint32_t sw_breakpoint_control() const = 0;
    /// The KVM_SET_GUEST_DEBUG request number the core issues: the macro,
    /// except where C++ sizes struct kvm_guest_debug differently from C
    /// (riscv64: an empty kvm_guest_debug_arch, riscv64_kvm.h).
    virtual unsigned long set_guest_debug_request() const = 0;
    /// Extra control bits for an armed single step.
    virtual std::uint32_t step_control(bool internal_step_over, bool step_blocks_irq) const = 0;
    /// Whether steps may block interrupts. Errors: ENOTSUP where the host cannot.
    virtual Status check_step_blocks_irq(bool enable) const = 0;
    /// The initial `monitor sstep` setting.
    virtual bool default_step_blocks_irq() const = 0;
    /// Whether the core pushes again after every stop (drops SINGLESTEP at
    /// once) rather than leaving it to the next resume.
    virtual bool push_after_stop() const = 0;

    // ---- exits (vCPU thread)
    /// Classifies the KVM_EXIT_DEBUG `vcpu` just returned. Core lock held.
    virtual DebugExitOutcome classify(KvmVcpu& vcpu, const ExitContext& ctx) = 0;

    // ---- step quirks (vCPU thread, core lock not held)
    /// Whether a continue (not a step) may leave the debugger's hardware
    /// execute breakpoint without a step-over (x86 RFLAGS.RF).
    virtual bool resume_flag_enabled() const = 0;
    /// Right before KVM_RUN of such a continue: true if the flag was set
    /// (no step-over), false if a step-over is needed after all.
    virtual Result<bool> resume_with_flag(KvmVcpu& vcpu, std::uint64_t addr) = 0;
    /// Right before KVM_RUN of any other resume.
    virtual Status before_run(KvmVcpu& vcpu, const RunSetup& setup) = 0;
    /// After a step or stop: undoes what before_run changed for a step.
    virtual Status undo_step_setup(KvmVcpu& vcpu) = 0;

    // ---- monitor info breakpoints (core lock held)
    /// Appended to the software-breakpoint line (how they are served).
    virtual std::string describe_sw_service() const = 0;
    /// Lines after it: how a continue leaves a hardware breakpoint.
    /// `hw_step_overs`: continues from one by step-over so far.
    virtual std::string describe_resume_policy(std::uint64_t hw_step_overs) const = 0;
    /// The name of a request in the list ("hardware breakpoint", ...).
    virtual std::string describe_request(const HwRequest& request) const = 0;
    /// The slots as loaded (per vCPU or global) and ISA counters.
    virtual std::string describe_slots() const = 0;
};

}  // namespace kvmdbg::accel::kvm
