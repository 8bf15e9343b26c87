// X86GuestDebug: the x86 implementation of GuestDebug (guest_debug.h). It
// gives the plugin hooks insert_breakpoint / remove_breakpoint / remove_all_breakpoints
// / update_guest_debug and the debugger's single step their meaning on top of
// KVM_SET_GUEST_DEBUG (Documentation/virt/kvm/api.rst 4.87), classifies
// every KVM_EXIT_DEBUG and reflects the guest's own debug events back.
//
// State (DESIGN.md "Threads"): the debugger's requests are global (software
// breakpoints in one reference-counted table, hardware breakpoints and
// watchpoints in one list); each vCPU has one value holding its step flag,
// its effective debug-register plan (the guest's own enabled DR slots merged
// with the debugger's, arch/x86/debug_reg_merge.h) and a pending step-over.
// Every change rebuilds struct kvm_guest_debug whole from that value and
// pushes it to every vCPU on the vCPU's own thread.
//
// Software breakpoints: int3 written into guest memory when the host
// intercepts it (probe: KVM_GUESTDBG_USE_SW_BP gives KVM_EXIT_DEBUG #BP);
// otherwise (PVM hosts, HOST-KVM.md) they are served by free hardware
// execution slots and the user is told once.
//
// Continuing from a breakpoint: resume() of a vCPU that stopped at one of
// the debugger's breakpoints first single-steps that vCPU with that
// breakpoint suppressed (interrupts blocked with KVM_GUESTDBG_BLOCKIRQ where
// offered), then re-arms it: a continue never loops on its breakpoint.
//
// Where the start-up probe found that the host honours RFLAGS.RF
// (host_debug_probe.h, HostDebugCaps::hw_bp_resume_flag), a continue (not a
// step) from a debugger HARDWARE execute breakpoint instead resumes with
// RF = 1 (Intel SDM Vol. 3B 17.3.1.1: the processor ignores instruction
// breakpoints for the next instruction and clears RF when it completes):
// one KVM_RUN, no step-over exit, no replan, no re-arm. On the vCPU's
// thread, right before KVM_RUN (the PreRunJob):
//
//   KVM_GET_REGS, KVM_GET_DEBUGREGS
//   rip == the breakpoint address            (64-bit or flat code; else the
//   and the guest has no enabled execute      debugger moved RIP, or CS has
//   breakpoint of its own at that address?    a base: step-over as before)
//     yes: RFLAGS |= RF, KVM_SET_REGS         (the guest's own breakpoint
//     no:  step-over, planned from the DRs     there must still fire: RF
//          just read                           would hide it, step-over not)
//
// Software (int3) breakpoints, single steps (also from a breakpoint) and
// watchpoints keep the step-over / plain paths (the policy and its table:
// arch/x86/resume_flag.h). An RF that the vCPU did not
// consume (it was paused before it entered the guest) stays set while the
// vCPU still sits on the breakpoint (the continue is merely deferred: `g`
// shows RF in eflags until then); if the debugger moved RIP meanwhile, the
// next resume clears it. KVMDBG_X86_RF_RESUME=0 in the environment forces
// the step-over, =force uses RF even where the probe said no (tests only;
// docs/guest-debug.md).
//
// Threads: hooks from any non-vCPU thread; on_debug_exit() on the vCPU's
// thread. A mutex guards the tables; it is never held across run_on_vcpu().
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "accel/kvm/guest_debug.h"
#include "accel/kvm/sw_breakpoint_table.h"
#include "accel/plugin_abi.h"
#include "arch/x86/debug_reg_merge.h"
#include "arch/x86/debug_regs.h"
#include "common/result.h"

namespace kvmdbg::accel::kvm {

class KvmVm;
class KvmVcpu;

/// What the host's KVM can do for the debugger (from capabilities and the
/// start-up probe).
struct GuestDebugHost {
    bool sw_breakpoints_intercepted = false;  ///< int3 exits with USE_SW_BP
    bool block_irq = false;                   ///< KVM_GUESTDBG_BLOCKIRQ offered
    bool exception_payload = false;           ///< KVM_CAP_EXCEPTION_PAYLOAD enabled
    bool resume_flag = false;                 ///< RFLAGS.RF skips a hw breakpoint once (probe)
};

class X86GuestDebug final : public GuestDebug {
public:
    X86GuestDebug(KvmVm& vm, GuestDebugHost host);

    /// Sizes the per-vCPU state. Main thread, once, before start.
    void set_vcpu_count(std::uint32_t count) override;

    // ---- hooks (any non-vCPU thread)
    /// Errors: ENOTSUP for a combination the ISA lacks (x86 read-only
    /// watchpoint), ENOSPC when no hardware slot is left (with the guest's
    /// own use named), EFAULT for an unmapped software-breakpoint address,
    /// EINVAL for a bad length.
    Status insert(std::uint32_t type, std::uint64_t addr, std::uint64_t len) override;
    /// Errors: ENOENT when no such breakpoint exists.
    Status remove(std::uint32_t type, std::uint64_t addr, std::uint64_t len) override;
    /// Removes everything and restores guest memory (where the guest did not
    /// rewrite a breakpoint byte itself); guest debug is then off.
    Status remove_all() override;
    /// Rebuilds and pushes the guest-debug state of `cpu`.
    Status update(std::uint32_t cpu) override;

    /// Called by KvmVm::resume before the vCPU runs: arms or disarms the
    /// debugger's single step and, when the vCPU sits on a debugger
    /// breakpoint, sets up the step-over.
    Result<PreRunJob> prepare_resume(std::uint32_t cpu, bool single_step) override;

    /// Debugger memory access at a virtual address of `cpu` (or physical).
    Status read_memory(std::uint32_t cpu, std::uint64_t addr, std::span<std::uint8_t> out, bool physical) override;
    Status write_memory(std::uint32_t cpu, std::uint64_t addr, std::span<const std::uint8_t> in,
                        bool physical) override;

    /// Handles KVM_EXIT_DEBUG on the vCPU's thread. Returns the stop to
    /// report (the vCPU then parks), or nothing when the vCPU just goes on
    /// (a reflected guest event, an emulated MOV DR, a finished step-over of
    /// a continue).
    std::optional<KvmdbgDebugStop> on_debug_exit(KvmVcpu& vcpu) override;

    /// Whether debugger single steps block interrupts (KVM_GUESTDBG_BLOCKIRQ).
    /// Errors: ENOTSUP to enable it on a host without BLOCKIRQ.
    Status set_step_blocks_irq(bool enable) override;

    /// Human-readable state for `monitor info breakpoints`: software
    /// breakpoints (and how they are served), how a continue leaves a
    /// hardware breakpoint (RFLAGS.RF or step-over, with how often each was
    /// used), then every vCPU's four debug slots with their owner (debugger
    /// request, the guest's own DRn, free).
    std::string describe_breakpoints() const override;

    /// True while `cpu` runs a debugger (or internal step-over) single step.
    bool stepping(std::uint32_t cpu) const override;

    /// A single step that ended without a KVM_EXIT_DEBUG: the stepped
    /// instruction was port I/O or MMIO, completed by the vCPU with an
    /// immediate-exit KVM_RUN (some hosts drop the step #DB after userspace
    /// I/O). Same result as on_debug_exit for a finished step.
    std::optional<KvmdbgDebugStop> on_step_completed(KvmVcpu& vcpu) override;

private:
    struct HwEntry {
        std::uint32_t id = 0;
        std::uint32_t type = 0;  ///< KvmdbgBreakpointType
        std::uint64_t addr = 0;
        std::uint64_t len = 0;
        unsigned refs = 0;
        bool serves_sw = false;  ///< a software breakpoint served by a hardware slot
    };
    struct VcpuState {
        bool step = false;                       ///< the debugger asked for one step
        arch::x86::DebugRegPlan plan{};          ///< what was last loaded
        std::optional<KvmdbgDebugStop> last_stop;  ///< where it last stopped for us
        bool stepping_over = false;              ///< internal step-over in flight
        bool continue_after_step_over = false;   ///< then run (true) or report (false)
        std::optional<std::uint64_t> suppressed_sw;  ///< sw bp lifted for the step-over
        std::optional<std::uint32_t> suppressed_hw;  ///< hw request left out for it
        /// The guest's own DRs as read for a hardware step-over: the re-arm
        /// after it plans from them (one guest instruction ran in between;
        /// an emulated MOV DR updates them) instead of reading them again.
        std::optional<arch::x86::X86DebugRegs> step_over_guest;
        /// RIP at which the pre-run job set RFLAGS.RF, until a debug exit
        /// shows it consumed (any #DB/#BP exit: RF is clear by then).
        std::optional<std::uint64_t> rf_pending_rip;
        /// What push_on_vcpu last loaded successfully (control, DR0-3, DR7):
        /// an identical push without SINGLESTEP is skipped.
        std::optional<std::array<std::uint64_t, 6>> pushed;
    };
    /// A continue from the debugger's hardware breakpoint `request_id` at
    /// `addr`, decided on the vCPU thread: RF or step-over (see the top).
    Status resume_over_hw_breakpoint(KvmVcpu& vcpu, std::uint32_t request_id, std::uint64_t addr);
    /// A resume after an RF continue that ended without a debug exit: clears
    /// the RF left over if the debugger moved RIP away from it.
    Status drop_stale_resume_flag(KvmVcpu& vcpu);

    Status insert_hw(std::uint32_t type, std::uint64_t addr, std::uint64_t len, bool serves_sw);
    Status remove_hw(std::uint32_t type, std::uint64_t addr, std::uint64_t len, bool serves_sw);
    /// Recomputes every vCPU's plan from its guest DRs and the requests;
    /// fails (and changes nothing) if any vCPU cannot fit them.
    Status replan_all();
    /// On `vcpu`'s thread: rebuilds its plan alone (its step-over lifted a request).
    Status replan_on_vcpu(KvmVcpu& vcpu);
    Status push_all();
    std::vector<arch::x86::DebuggerRequestEntry> requests_locked(std::optional<std::uint32_t> skip) const;
    /// Runs on the vCPU thread: KVM_SET_GUEST_DEBUG from the vCPU's state.
    Status push_on_vcpu(KvmVcpu& vcpu);
    std::optional<KvmdbgDebugStop> finish_step_over(KvmVcpu& vcpu, VcpuState& st);
    Status reflect(KvmVcpu& vcpu, std::uint32_t vector, std::uint64_t dr6);
    Status emulate_dr_access(KvmVcpu& vcpu, bool& was_step);

    KvmVm& vm_;
    const GuestDebugHost host_;
    mutable std::mutex mu_;
    bool step_blocks_irq_;  ///< default: host_.block_irq
    SwBreakpointTable sw_;
    std::vector<HwEntry> hw_;
    std::uint32_t next_id_ = 1;
    std::vector<VcpuState> vcpus_;
    const bool rf_resume_;  ///< resume_flag_enabled(host_.resume_flag, $KVMDBG_X86_RF_RESUME)
    std::uint64_t rf_resumes_ = 0;  ///< continues from a hw breakpoint with RF (mu_)
    std::uint64_t hw_step_overs_ = 0;  ///< continues from a hw breakpoint by step-over (mu_)
};

}  // namespace kvmdbg::accel::kvm
