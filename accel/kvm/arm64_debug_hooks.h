// Arm64DebugHooks: the arm64 half of guest debugging (guest_debug_isa.h);
// the bookkeeping is GuestDebugCore's (guest_debug_core.h). KVM_SET_GUEST_DEBUG
// on arm64 (Documentation/virt/kvm/api.rst "KVM_SET_GUEST_DEBUG": USE_SW_BP,
// USE_HW, SINGLESTEP; struct kvm_guest_debug_arch with __u64
// dbg_bcr/dbg_bvr/dbg_wcr/dbg_wvr[16]):
//
//   request / exit               action
//   ---------------------------  ---------------------------------------------
//   Z0 (software breakpoint)     BRK #0 (00 00 20 d4) written over the
//                                instruction by the core, USE_SW_BP; served
//                                by a free breakpoint register where the host
//                                lacks USE_SW_BP
//   Z1 (hardware breakpoint)     a DBGBCR/DBGBVR pair (debug_regs.h), USE_HW
//   Z2/Z3/Z4 (watchpoints)       DBGWCR/DBGWVR pairs, split over free slots
//                                (debug_regs.h), USE_HW
//   step (vCont s)               SINGLESTEP; PSTATE.A/I/F set for the step
//                                and DAIF restored after it (step_daif.h)
//                                while `monitor sstep` masks interrupts, and
//                                for every internal step-over; never touched
//                                on a continue
//   KVM_EXIT_DEBUG               decode hsr/hsr_high/far and classify
//                                against the loaded plan (debug_exit.h):
//                                debugger events stop the vCPU; the guest's
//                                own (its BRK, its step, its breakpoint or
//                                watchpoint) are reflected: exception entry
//                                to EL1 emulated with KVM_SET_ONE_REG of
//                                ESR_EL1, FAR_EL1, ELR_EL1, SPSR_EL1,
//                                PSTATE, PC (reflect.h), then the vCPU runs
//                                its handler (never a no-op loop on a guest
//                                BRK)
//
// While USE_HW is set KVM loads the debugger's registers instead of the
// guest's (Linux arch/arm64/kvm/debug.c), so the plan is the debugger's
// alone and global: no merge with the guest's own registers as on x86; a
// vCPU's step-over leaves its suppressed request out when its state is filled.
//
// Threads: as GuestDebugIsa; mu_ guards the plan, the DAIF plans and the count.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "accel/kvm/guest_debug_isa.h"
#include "arch/arm64/debug_exit.h"
#include "arch/arm64/debug_regs.h"
#include "arch/arm64/step_daif.h"

namespace kvmdbg::accel::kvm {

class KvmVm;

/// What the host's KVM offers (from the start-up probe).
struct Arm64DebugHost {
    bool sw_breakpoints_intercepted = false;  ///< KVM_GUESTDBG_USE_SW_BP offered
    arch::arm64::SlotCounts counts{};         ///< HW_BPS / HW_WPS
};

class Arm64DebugHooks final : public GuestDebugIsa {
public:
    Arm64DebugHooks(KvmVm& vm, Arm64DebugHost host);

    std::span<const std::uint8_t> breakpoint_instruction() const override;
    const char* breakpoint_instruction_name() const override { return "BRK #0"; }
    std::uint64_t execute_length() const override { return 4; }
    /// Errors: EINVAL for an address that is not 4-byte aligned.
    Status check_breakpoint_address(std::uint64_t addr) const override;
    bool sw_breakpoints_intercepted() const override { return host_.sw_breakpoints_intercepted; }

    void set_vcpu_count(std::uint32_t count) override;
    Result<GuestMemory> guest_memory(std::uint32_t cpu) override;
    std::uint64_t current_pc(KvmVcpu& vcpu) override;

    Status validate_request(std::uint32_t type, std::uint64_t addr, std::uint64_t len) const override;
    /// Places the request in the global plan. Errors: ENOSPC when no
    /// register is left.
    Status plan_insert(const HwRequest& added, const PlanInput& all) override;
    Status plan_remove(std::uint32_t id, const PlanInput& all) override;
    void plan_clear() override;
    Status plan_step_over(KvmVcpu&, const PlanInput&) override { return ok_status(); }
    Status plan_finish_step_over(KvmVcpu&, const PlanInput&, bool) override { return ok_status(); }

    std::uint32_t fill(std::uint32_t cpu, std::optional<std::uint32_t> suppressed, kvm_guest_debug& dbg) const override;
    std::uint32_t sw_breakpoint_control() const override { return KVM_GUESTDBG_USE_SW_BP; }
    unsigned long set_guest_debug_request() const override { return KVM_SET_GUEST_DEBUG; }
    std::uint32_t step_control(bool, bool) const override { return 0; }
    /// arm64 masks interrupts for a step itself (PSTATE.DAIF): always available.
    Status check_step_blocks_irq(bool) const override { return ok_status(); }
    bool default_step_blocks_irq() const override { return true; }
    bool push_after_stop() const override { return true; }

    DebugExitOutcome classify(KvmVcpu& vcpu, const ExitContext& ctx) override;

    bool resume_flag_enabled() const override { return false; }
    Result<bool> resume_with_flag(KvmVcpu&, std::uint64_t) override { return false; }
    /// Masks A/I/F for an internal step-over and for a debugger step while
    /// `monitor sstep` masks interrupts.
    Status before_run(KvmVcpu& vcpu, const RunSetup& setup) override;
    /// Puts DAIF (PSTATE, and SPSR_EL1 if the step entered an exception)
    /// back after a masked step. Errors: of KVM_GET/SET_ONE_REG.
    Status undo_step_setup(KvmVcpu& vcpu) override;

    std::string describe_sw_service() const override;
    std::string describe_resume_policy(std::uint64_t) const override { return ""; }
    std::string describe_request(const HwRequest& request) const override;
    /// The breakpoint and watchpoint registers and the reflected-event count.
    std::string describe_slots() const override;

private:
    /// Masks A/I/F for the coming step, keeping the plan to restore.
    Status mask_daif_for_step(KvmVcpu& vcpu, const RunSetup& setup);
    /// Emulates the exception entry to EL1 for `event`.
    Status reflect(KvmVcpu& vcpu, const arch::arm64::DecodedDebugExit& event);
    DebugExitOutcome outcome_of(const arch::arm64::DebugEvent& event, std::uint64_t pc);

    KvmVm& vm_;
    const Arm64DebugHost host_;
    mutable std::mutex mu_;
    arch::arm64::DebugRegPlan plan_;
    std::vector<std::optional<arch::arm64::StepDaifPlan>> daif_;  ///< per vCPU: DAIF to restore
    std::uint64_t reflected_ = 0;  ///< guest debug events reflected into the guest (all vCPUs)
};

}  // namespace kvmdbg::accel::kvm
