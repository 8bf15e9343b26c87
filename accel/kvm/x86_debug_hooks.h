// X86DebugHooks: the x86 half of guest debugging (guest_debug_isa.h); the
// bookkeeping is GuestDebugCore's (guest_debug_core.h). It gives
// KVM_SET_GUEST_DEBUG's x86 part (Documentation/virt/kvm/api.rst
// "KVM_SET_GUEST_DEBUG": USE_HW_BP with debugreg[0-3,7], BLOCKIRQ) its
// meaning, classifies every KVM_EXIT_DEBUG (arch/x86/debug_exit.h) and
// reflects the guest's own #DB/#BP with KVM_SET_VCPU_EVENTS.
//
// Slot plan: per vCPU, the guest's own enabled DR slots merged with the
// debugger's requests (arch/x86/debug_reg_merge.h); a step-over re-plans
// one vCPU without its lifted request; an emulated MOV DR (DR7.GD set by
// the plan) re-plans from the guest's new registers.
//
// Software breakpoints: int3 written into guest memory when the host
// intercepts it (probe: KVM_GUESTDBG_USE_SW_BP gives KVM_EXIT_DEBUG #BP);
// otherwise (hosts whose KVM runs int3 through its instruction emulator,
// docs/hosts.md) the core serves them with free hardware execution slots
// and the user is told once.
//
// Where the start-up probe found that the host honours RFLAGS.RF
// (host_debug_probe.h, HostDebugCaps::hw_bp_resume_flag), a continue (not a
// step) from a debugger HARDWARE execute breakpoint resumes with RF = 1
// (Intel SDM Vol. 3B 17.3.1.1: the processor ignores instruction
// breakpoints for the next instruction and clears RF when it completes):
// one KVM_RUN, no step-over exit, no replan, no re-arm. On the vCPU's
// thread, right before KVM_RUN (resume_with_flag):
//
//   KVM_GET_REGS, KVM_GET_DEBUGREGS
//   rip == the breakpoint address            (64-bit or flat code; else the
//   and the guest has no enabled execute      debugger moved RIP, or CS has
//   breakpoint of its own at that address?    a base: step-over as before)
//     yes: RFLAGS |= RF, KVM_SET_REGS         (the guest's own breakpoint
//     no:  step-over                           there must still fire: RF
//                                              would hide it, step-over not)
//
// Software (int3) breakpoints, single steps (also from a breakpoint) and
// watchpoints keep the step-over / plain paths (the policy and its table:
// arch/x86/resume_flag.h). An RF that the vCPU did not consume (it was
// paused before it entered the guest) stays set while the vCPU still sits
// on the breakpoint (the continue is merely deferred: `g` shows RF in
// eflags until then); if the debugger moved RIP meanwhile, the next resume
// clears it (before_run). KVMDBG_X86_RF_RESUME=0 in the environment forces
// the step-over, =force uses RF even where the probe said no (tests only;
// docs/guest-debug.md).
//
// Threads: as GuestDebugIsa; mu_ guards the per-vCPU plans and counters.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "accel/kvm/guest_debug_isa.h"
#include "arch/x86/debug_exit.h"
#include "arch/x86/debug_reg_merge.h"
#include "arch/x86/debug_regs.h"

namespace kvmdbg::accel::kvm {

class KvmVm;

/// What the host's KVM can do for the debugger (from capabilities and the
/// start-up probe).
struct X86DebugHost {
    bool sw_breakpoints_intercepted = false;  ///< int3 exits with USE_SW_BP
    /// int3 in 64-bit kernel code stops as a resumable emulation failure
    /// (host_debug_probe.h): gdb's breakpoints there are planted as int3.
    bool plant_int3_in_kernel_code = false;
    bool block_irq = false;          ///< KVM_GUESTDBG_BLOCKIRQ offered
    bool exception_payload = false;  ///< KVM_CAP_EXCEPTION_PAYLOAD enabled
    bool resume_flag = false;        ///< RFLAGS.RF skips a hw breakpoint once (probe)
};

class X86DebugHooks final : public GuestDebugIsa {
public:
    X86DebugHooks(KvmVm& vm, X86DebugHost host);

    std::span<const std::uint8_t> breakpoint_instruction() const override;
    const char* breakpoint_instruction_name() const override { return "int3"; }
    std::uint64_t execute_length() const override { return 1; }
    Status check_breakpoint_address(std::uint64_t) const override { return ok_status(); }
    bool sw_breakpoints_intercepted() const override { return host_.sw_breakpoints_intercepted; }
    /// Where plant_int3_in_kernel_code: addresses in the upper half of the
    /// address space (bit 63 set), where x86-64 kernels (Linux, the BSDs,
    /// Windows) run their code at CPL0; the probe showed an int3 there
    /// stops KVM_RUN. Lower addresses may run at CPL3 or in real mode,
    /// where the probe did not look (real mode delivers int3 to the guest).
    bool plants_uncaught_breakpoint(std::uint64_t addr) const override;
    /// KVM_EXIT_INTERNAL_ERROR, emulation failure, with an int3 at the
    /// linear RIP: that RIP.
    std::optional<std::uint64_t> uncaught_breakpoint_pc(KvmVcpu& vcpu) override;

    void set_vcpu_count(std::uint32_t count) override;
    Result<GuestMemory> guest_memory(std::uint32_t cpu) override;
    std::uint64_t current_pc(KvmVcpu& vcpu) override;

    /// Errors: EINVAL for a bad type or a length DR7 cannot encode,
    /// ENOTSUP for a read-only watchpoint (x86 has none).
    Status validate_request(std::uint32_t type, std::uint64_t addr, std::uint64_t len) const override;
    /// Re-plans every vCPU from its guest DRs. Errors: ENOSPC naming the
    /// guest's own use of the slots.
    Status plan_insert(const HwRequest& added, const PlanInput& all) override;
    Status plan_remove(std::uint32_t id, const PlanInput& all) override;
    void plan_clear() override;
    Status plan_step_over(KvmVcpu& vcpu, const PlanInput& all) override;
    Status plan_finish_step_over(KvmVcpu& vcpu, const PlanInput& all, bool lifted_hw) override;

    std::uint32_t fill(std::uint32_t cpu, std::optional<std::uint32_t> suppressed, kvm_guest_debug& dbg) const override;
    std::uint32_t sw_breakpoint_control() const override { return KVM_GUESTDBG_USE_SW_BP; }
    unsigned long set_guest_debug_request() const override { return KVM_SET_GUEST_DEBUG; }
    /// BLOCKIRQ where offered, for `monitor sstep` steps and always for the
    /// internal step-over of a continue (the breakpoint is re-armed at once).
    std::uint32_t step_control(bool internal_step_over, bool step_blocks_irq) const override;
    Status check_step_blocks_irq(bool enable) const override;
    bool default_step_blocks_irq() const override { return host_.block_irq; }
    bool push_after_stop() const override { return false; }

    DebugExitOutcome classify(KvmVcpu& vcpu, const ExitContext& ctx) override;

    bool resume_flag_enabled() const override { return rf_resume_; }
    Result<bool> resume_with_flag(KvmVcpu& vcpu, std::uint64_t addr) override;
    /// Clears an RF left over from a continue that never entered the guest
    /// when the debugger moved RIP away from the breakpoint.
    Status before_run(KvmVcpu& vcpu, const RunSetup& setup) override;
    Status undo_step_setup(KvmVcpu&) override { return ok_status(); }

    std::string describe_sw_service() const override;
    /// How a continue leaves a hardware breakpoint (RFLAGS.RF or step-over,
    /// with how often each was used).
    std::string describe_resume_policy(std::uint64_t hw_step_overs) const override;
    std::string describe_request(const HwRequest& request) const override;
    /// Every vCPU's four debug slots with their owner (debugger request,
    /// the guest's own DRn, free).
    std::string describe_slots() const override;

private:
    struct VcpuPlan {
        arch::x86::DebugRegPlan plan{};  ///< what was last loaded
        /// The guest's own DRs as read for a hardware step-over: the re-arm
        /// after it plans from them (one guest instruction ran in between;
        /// an emulated MOV DR updates them) instead of reading them again.
        std::optional<arch::x86::X86DebugRegs> step_over_guest;
        /// RIP at which resume_with_flag set RFLAGS.RF, until a debug exit
        /// shows it consumed (any #DB/#BP exit: RF is clear by then).
        std::optional<std::uint64_t> rf_pending_rip;
    };

    Result<arch::x86::DebugRegPlan> plan_from(const arch::x86::X86DebugRegs& guest,
                                              const std::vector<HwRequest>& requests) const;
    Status replan_all(const PlanInput& all);
    Status reflect(KvmVcpu& vcpu, std::uint32_t vector, std::uint64_t dr6);
    /// The guest's MOV DR (trapped by DR7.GD in the plan): true when it
    /// completed, false when it raised #UD/#GP/#DB in the guest.
    Result<bool> emulate_dr_access(KvmVcpu& vcpu, const std::vector<HwRequest>& requests);
    /// `all` and `cpu` only for the MOV DR emulation, which re-plans.
    DebugExitOutcome outcome_of(const arch::x86::DebugEvent& event, std::uint64_t pc, const PlanInput& all,
                                std::uint32_t cpu);

    KvmVm& vm_;
    const X86DebugHost host_;
    const bool rf_resume_;  ///< resume_flag_enabled(host_.resume_flag, $KVMDBG_X86_RF_RESUME)
    mutable std::mutex mu_;
    std::vector<VcpuPlan> vcpus_;
    std::uint64_t rf_resumes_ = 0;  ///< continues from a hw breakpoint with RF
};

}  // namespace kvmdbg::accel::kvm
