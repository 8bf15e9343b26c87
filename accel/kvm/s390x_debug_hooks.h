// S390xDebugHooks: the s390x half of guest debugging (guest_debug_isa.h);
// the bookkeeping is GuestDebugCore's (guest_debug_core.h). Everything goes
// through the pure backend arch/s390x/debug.h and its adaptor
// arch/s390x/s390x_kvm.h (Linux arch/s390/kvm/guestdbg.c, intercept.c;
// docs/guest-debug.md "s390x"):
//
//   request / exit               action
//   ---------------------------  ---------------------------------------------
//   Z0 (software breakpoint)     0x0000 (2 bytes) with KVM_CAP_S390_USER_INSTR0,
//                                else DIAG 0x501 (4 bytes): sw_breakpoint_insn;
//                                ENABLE alone (no USE_SW_BP bit on s390)
//   Z1 / Z2                      hw_bp[] per vCPU (build_hw_bps): exec needs no
//                                translation (guestdbg.c reads phys_addr only
//                                for watchpoints), a write watchpoint's
//                                phys_addr is that vCPU's absolute address;
//                                USE_HW_BP. Z3/Z4: ENOTSUP (backend)
//   step                         SINGLESTEP (PER instruction fetch)
//   KVM_EXIT_DEBUG and the       classify_exit: SINGLESTEP/HW_BP/HW_WP_WRITE;
//   SIEIC of the breakpoint      the breakpoint instruction's intercept (the
//   instruction                  PSW past it) is the debugger's when the
//                                table has it (psw_addr set back to it) or
//                                the guest's own: PGM_OPERATION injected with
//                                KVM_S390_IRQ (program_irq), delivered at the
//                                next KVM_RUN
//
// The SIEIC intercept is not a KVM_EXIT_DEBUG: the s390x ArchBackend's
// handle_exit hands the intercepts of the breakpoint instruction to
// GuestDebug::on_debug_exit (classify reads kvm_run's exit_reason); classify
// answers `unknown` for any other intercept.
//
// hw_bp[] lifetime: kvm_guest_debug_arch holds a POINTER to the array. fill()
// copies the vCPU's entries into one of two arrays this object keeps per
// vCPU and points dbg.arch.hw_bp at it. The core fills a vCPU only on its
// own thread right before its KVM_SET_GUEST_DEBUG, so the array is read by
// the ioctl before the next fill of that vCPU. A fill whose entries differ
// from the array last handed out writes the OTHER array, so the pointer
// changes with the contents and the array the last push points to is never
// rewritten: the core's identical-push check (which compares the pointer)
// stays right.
//
// Translation: kvmdbg has no s390 DAT walker. A watchpoint's phys_addr and
// the debugger's memory accesses use prefixing with DAT off
// (arch/s390x/prefixing.h); while a vCPU runs with DAT on they are refused
// with ENOTSUP. Hardware breakpoints need no translation and always work.
//
// Threads: as GuestDebugIsa; mu_ guards the per-vCPU plans, the push arrays
// and the count.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "accel/kvm/guest_debug_isa.h"
#include "arch/s390x/debug.h"

namespace kvmdbg::accel::kvm {

class KvmVm;

/// What the VM offers (the backend enables the capability on the VM first).
struct S390xDebugHost {
    bool user_instr0 = false;  ///< KVM_ENABLE_CAP(KVM_CAP_S390_USER_INSTR0) succeeded
};

class S390xDebugHooks final : public GuestDebugIsa {
public:
    S390xDebugHooks(KvmVm& vm, S390xDebugHost host);
    ~S390xDebugHooks() override;

    std::span<const std::uint8_t> breakpoint_instruction() const override;
    const char* breakpoint_instruction_name() const override;
    /// The shortest instruction: hw_bp[] names an instruction start (len 1).
    std::uint64_t execute_length() const override { return 2; }
    /// Errors: EINVAL for an odd address.
    Status check_breakpoint_address(std::uint64_t addr) const override;
    bool sw_breakpoints_intercepted() const override { return true; }

    void set_vcpu_count(std::uint32_t count) override;
    /// Errors: ENOTSUP while the vCPU runs with DAT on.
    Result<GuestMemory> guest_memory(std::uint32_t cpu) override;
    std::uint64_t current_pc(KvmVcpu& vcpu) override;

    /// Errors: EINVAL (length), ENOTSUP (read/access watchpoints).
    Status validate_request(std::uint32_t type, std::uint64_t addr, std::uint64_t len) const override;
    /// Rebuilds every vCPU's hw_bp[] on its own thread. Errors: ENOSPC over
    /// 50 entries; ENOTSUP for a watchpoint on a vCPU with DAT on.
    Status plan_insert(const HwRequest& added, const PlanInput& all) override;
    Status plan_remove(std::uint32_t id, const PlanInput& all) override;
    void plan_clear() override;
    /// Re-translates this vCPU's entries (its prefix may have changed).
    Status plan_step_over(KvmVcpu& vcpu, const PlanInput& all) override;
    Status plan_finish_step_over(KvmVcpu&, const PlanInput&, bool) override { return ok_status(); }

    std::uint32_t fill(std::uint32_t cpu, std::optional<std::uint32_t> suppressed, kvm_guest_debug& dbg) const override;
    std::uint32_t sw_breakpoint_control() const override { return 0; }
    unsigned long set_guest_debug_request() const override;
    std::uint32_t step_control(bool, bool) const override { return 0; }
    /// Errors: ENOTSUP for enable (s390 KVM has no BLOCKIRQ).
    Status check_step_blocks_irq(bool enable) const override;
    bool default_step_blocks_irq() const override { return false; }
    bool push_after_stop() const override { return false; }

    DebugExitOutcome classify(KvmVcpu& vcpu, const ExitContext& ctx) override;

    bool resume_flag_enabled() const override { return false; }
    Result<bool> resume_with_flag(KvmVcpu&, std::uint64_t) override { return false; }
    Status before_run(KvmVcpu&, const RunSetup&) override { return ok_status(); }
    Status undo_step_setup(KvmVcpu&) override { return ok_status(); }

    std::string describe_sw_service() const override;
    std::string describe_resume_policy(std::uint64_t) const override { return ""; }
    std::string describe_request(const HwRequest& request) const override;
    /// Every vCPU's hw_bp[] and the reflected-event count.
    std::string describe_slots() const override;

private:
    /// One vCPU's entries: ids[n] is the request of bps[n].
    struct VcpuPlan {
        std::vector<std::uint32_t> ids;
        std::vector<arch::s390x::S390HwBp> bps;
    };
    struct PushArrays;  // s390x_debug_hooks.cc: the two adaptor arrays per vCPU

    /// hw_bp[] of `requests` for the vCPU with `psw_mask` and `prefix`.
    static Result<VcpuPlan> plan_for(const std::vector<HwRequest>& requests, std::uint64_t psw_mask,
                                     std::uint64_t prefix);
    Status replan_all(const PlanInput& all);
    DebugExitOutcome outcome_of(const arch::s390x::DebugEvent& event, KvmVcpu& vcpu, const ExitContext& ctx);

    KvmVm& vm_;
    const S390xDebugHost host_;
    const arch::s390x::SwBreakpointInsn insn_;
    mutable std::mutex mu_;
    std::vector<VcpuPlan> vcpus_;
    mutable std::vector<std::unique_ptr<PushArrays>> push_;  ///< per vCPU
    std::uint64_t reflected_ = 0;                            ///< PGM_OPERATION injected (all vCPUs)
};

}  // namespace kvmdbg::accel::kvm
