// PpcBookeDebugHooks: the ppc BookE (e500) half of guest debugging
// (guest_debug_isa.h); the bookkeeping is GuestDebugCore's
// (guest_debug_core.h). Everything goes through the pure backend
// arch/ppc/booke_debug.h and its adaptor arch/ppc/booke_kvm.h (Linux
// arch/powerpc/kvm/booke.c; docs/guest-debug.md "ppc BookE / e500"):
//
//   request / exit               action
//   ---------------------------  ---------------------------------------------
//   Z0 (software breakpoint)     the KVM_REG_PPC_DEBUG_INST word (read by the
//                                backend at start-up), big-endian, written by
//                                the core; USE_SW_BP
//   Z1 / Z2..Z4                  bp[] entries BREAKPOINT / WATCH_*, one global
//                                plan: 2 IAC + 2 DAC (build_debug_regs,
//                                ENOSPC beyond); USE_HW_BP
//   step                         SINGLESTEP where KVM_CAP_PPC_GUEST_DEBUG_SSTEP
//                                is offered, else refused in before_run with
//                                debug_control's sentence
//   KVM_EXIT_DEBUG               status/address (+ NIP from KVM_GET_REGS)
//                                against the bp[] this vCPU loaded
//                                (classify_debug_exit); the guest's own debug
//                                instruction, or a status no entry explains,
//                                becomes the program interrupt the guest would
//                                take (apply_program_interrupt through
//                                KVM_GET/SET_REGS and KVM_GET/SET_SREGS)
//
// The plan is global (KVM loads the debugger's IAC/DAC instead of the
// guest's: the guest loses its own while debugged); a vCPU's step-over
// leaves its suppressed request out when its bp[] is filled and classified,
// so bp[] entry n is always the n-th of that vCPU's requests.
//
// Guest memory: e500 always translates; KVM_TRANSLATE searches the guest's
// TLB with the vCPU's PID and MSR[DS] (arch/ppc/booke_translate.h). It is a
// vCPU ioctl, and the core uses guest memory under its lock and from
// non-vCPU threads: the translator issues it on the vCPU's own thread, or
// from another thread only while the vCPU is parked (not in KVM_RUN: the
// kernel's vCPU mutex is free, so it never waits for the guest); a running
// vCPU's memory reads as unmapped.
//
// Threads: as GuestDebugIsa; mu_ guards the plan and the count.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "accel/kvm/guest_debug_isa.h"
#include "arch/ppc/booke_debug.h"

namespace kvmdbg::accel::kvm {

class KvmVm;

/// What the host's KVM offers (read by the backend at start-up).
struct PpcBookeDebugHost {
    std::uint32_t debug_inst = 0;  ///< KVM_REG_PPC_DEBUG_INST (debug_inst_one_reg)
    bool sstep = false;            ///< KVM_CAP_PPC_GUEST_DEBUG_SSTEP
};

class PpcBookeDebugHooks final : public GuestDebugIsa {
public:
    /// Errors: EINVAL when host.debug_inst is 0 (sw_breakpoint_bytes).
    static Result<std::unique_ptr<PpcBookeDebugHooks>> create(KvmVm& vm, PpcBookeDebugHost host);

    std::span<const std::uint8_t> breakpoint_instruction() const override { return insn_; }
    const char* breakpoint_instruction_name() const override { return "KVM_REG_PPC_DEBUG_INST"; }
    std::uint64_t execute_length() const override { return 4; }
    /// Errors: EINVAL for an address that is not 4-byte aligned.
    Status check_breakpoint_address(std::uint64_t addr) const override;
    bool sw_breakpoints_intercepted() const override { return true; }

    void set_vcpu_count(std::uint32_t) override {}
    Result<GuestMemory> guest_memory(std::uint32_t cpu) override;
    std::uint64_t current_pc(KvmVcpu& vcpu) override;

    /// Errors: EINVAL for a bad type or a length bp[] cannot hold.
    Status validate_request(std::uint32_t type, std::uint64_t addr, std::uint64_t len) const override;
    /// Re-packs every request. Errors: ENOSPC naming IAC or DAC.
    Status plan_insert(const HwRequest& added, const PlanInput& all) override;
    Status plan_remove(std::uint32_t id, const PlanInput& all) override;
    void plan_clear() override;
    Status plan_step_over(KvmVcpu&, const PlanInput&) override { return ok_status(); }
    Status plan_finish_step_over(KvmVcpu&, const PlanInput&, bool) override { return ok_status(); }

    std::uint32_t fill(std::uint32_t cpu, std::optional<std::uint32_t> suppressed, kvm_guest_debug& dbg) const override;
    std::uint32_t sw_breakpoint_control() const override;
    unsigned long set_guest_debug_request() const override;
    std::uint32_t step_control(bool, bool) const override { return 0; }
    /// Errors: ENOTSUP for enable (BookE KVM has no BLOCKIRQ).
    Status check_step_blocks_irq(bool enable) const override;
    bool default_step_blocks_irq() const override { return false; }
    bool push_after_stop() const override { return false; }

    DebugExitOutcome classify(KvmVcpu& vcpu, const ExitContext& ctx) override;

    bool resume_flag_enabled() const override { return false; }
    Result<bool> resume_with_flag(KvmVcpu&, std::uint64_t) override { return false; }
    /// Errors: ENOTSUP for a step without KVM_CAP_PPC_GUEST_DEBUG_SSTEP.
    Status before_run(KvmVcpu& vcpu, const RunSetup& setup) override;
    Status undo_step_setup(KvmVcpu&) override { return ok_status(); }

    std::string describe_sw_service() const override;
    std::string describe_resume_policy(std::uint64_t) const override { return ""; }
    std::string describe_request(const HwRequest& request) const override;
    /// bp[0..3] as loaded (no suppression) and the reflected-event count.
    std::string describe_slots() const override;

private:
    PpcBookeDebugHooks(KvmVm& vm, PpcBookeDebugHost host, std::array<std::uint8_t, 4> insn);

    /// The requests vCPU-independent plan_ holds, minus `suppressed`: bp[n]
    /// is the n-th. mu_ held.
    std::vector<HwRequest> loaded_locked(std::optional<std::uint32_t> suppressed) const;
    DebugExitOutcome outcome_of(const arch::ppc::DebugEvent& event, std::uint64_t pc,
                                const std::vector<HwRequest>& loaded);
    /// The program interrupt of `reflect` (booke_debug.h).
    Status reflect(KvmVcpu& vcpu, const arch::ppc::ReflectProgram& reflect);

    KvmVm& vm_;
    const PpcBookeDebugHost host_;
    const std::array<std::uint8_t, 4> insn_;
    mutable std::mutex mu_;
    std::vector<HwRequest> plan_;  ///< every request, in bp[] order
    std::uint64_t reflected_ = 0;  ///< program interrupts reflected into the guest (all vCPUs)
};

}  // namespace kvmdbg::accel::kvm
