// Riscv64DebugHooks: the riscv64 half of guest debugging (guest_debug_isa.h);
// the bookkeeping is GuestDebugCore's (guest_debug_core.h). Everything goes
// through the pure backend arch/riscv64/debug.h and its adaptor
// arch/riscv64/riscv64_kvm.h. riscv KVM (Linux arch/riscv/kvm/vcpu.c,
// vcpu_exit.c) offers software breakpoints only:
//
//   request / exit               action
//   ---------------------------  ---------------------------------------------
//   Z0 (software breakpoint)     ebreak (73 00 10 00) written by the core;
//                                KVM_GUESTDBG_ENABLE alone undelegates the
//                                breakpoint exception (no USE_SW_BP bit)
//   Z1..Z4, step                 refused with ENOTSUP and the backend's
//                                sentence (check_supported): the arch part of
//                                kvm_guest_debug is empty, and SINGLESTEP is
//                                accepted but does not step (docs/hosts.md)
//   KVM_EXIT_DEBUG               pc (ONE_REG) in the core's table: the
//                                debugger's; else the guest's own ebreak,
//                                delivered as its breakpoint trap
//                                (apply_breakpoint_trap, KVM_SET_ONE_REG of
//                                pc, mode, sstatus, sepc, scause, stval)
//
// The instruction is always the 4-byte ebreak: the core tables ONE
// instruction for every address (SwBreakpointTable), while the c.ebreak /
// ebreak choice of sw_breakpoint_insn depends on the instruction at each
// address. Over a 2-byte (compressed) instruction the ebreak also covers the
// first half of the next one: the core saves and puts back all 4 bytes, but
// a jump straight to that next instruction runs a broken one while the
// breakpoint is in. check_breakpoint_address asks 2-byte alignment (the C
// extension's).
//
// Steps: a debugger step or the core's step-over (a continue from a
// breakpoint that is still inserted) is refused in before_run; gdb steps
// riscv by planting breakpoints itself when the stub offers no vCont;s.
// KVM_SET_GUEST_DEBUG's number: the C-sized kSetGuestDebugIoctl
// (riscv64_kvm.h: in C++ the empty arch part has size 1).
// Guest memory: guest-physical while satp is Bare; with paging on it is
// refused (arch/riscv64/bare_translation.h: no riscv page walker yet).
//
// Threads: as GuestDebugIsa; mu_ guards the reflection count.
#pragma once

#include <cstdint>
#include <mutex>

#include "accel/kvm/guest_debug_isa.h"

namespace kvmdbg::accel::kvm {

class KvmVm;

class Riscv64DebugHooks final : public GuestDebugIsa {
public:
    explicit Riscv64DebugHooks(KvmVm& vm);

    std::span<const std::uint8_t> breakpoint_instruction() const override;
    const char* breakpoint_instruction_name() const override { return "ebreak"; }
    std::uint64_t execute_length() const override { return 4; }
    /// Errors: EINVAL for an odd address.
    Status check_breakpoint_address(std::uint64_t addr) const override;
    bool sw_breakpoints_intercepted() const override { return true; }

    void set_vcpu_count(std::uint32_t) override {}
    /// Errors: ENOTSUP while the vCPU pages (satp.MODE not Bare).
    Result<GuestMemory> guest_memory(std::uint32_t cpu) override;
    std::uint64_t current_pc(KvmVcpu& vcpu) override;

    /// Errors: ENOTSUP for hardware breakpoints and watchpoints, EINVAL for
    /// an unknown type.
    Status validate_request(std::uint32_t type, std::uint64_t addr, std::uint64_t len) const override;
    Status plan_insert(const HwRequest& added, const PlanInput&) override;
    Status plan_remove(std::uint32_t, const PlanInput&) override { return ok_status(); }
    void plan_clear() override {}
    Status plan_step_over(KvmVcpu&, const PlanInput&) override { return ok_status(); }
    Status plan_finish_step_over(KvmVcpu&, const PlanInput&, bool) override { return ok_status(); }

    std::uint32_t fill(std::uint32_t, std::optional<std::uint32_t>, kvm_guest_debug&) const override { return 0; }
    std::uint32_t sw_breakpoint_control() const override { return 0; }
    unsigned long set_guest_debug_request() const override;
    std::uint32_t step_control(bool, bool) const override { return 0; }
    /// Errors: ENOTSUP for enable (there is no step to mask).
    Status check_step_blocks_irq(bool enable) const override;
    bool default_step_blocks_irq() const override { return false; }
    bool push_after_stop() const override { return false; }

    DebugExitOutcome classify(KvmVcpu& vcpu, const ExitContext& ctx) override;

    bool resume_flag_enabled() const override { return false; }
    Result<bool> resume_with_flag(KvmVcpu&, std::uint64_t) override { return false; }
    /// Errors: ENOTSUP (the backend's sentence) for a step or step-over.
    Status before_run(KvmVcpu& vcpu, const RunSetup& setup) override;
    Status undo_step_setup(KvmVcpu&) override { return ok_status(); }

    std::string describe_sw_service() const override;
    std::string describe_resume_policy(std::uint64_t) const override;
    std::string describe_request(const HwRequest&) const override { return "breakpoint"; }
    std::string describe_slots() const override;

private:
    /// The guest's own ebreak at `addr`: its breakpoint trap.
    Status reflect(KvmVcpu& vcpu, std::uint64_t addr);

    KvmVm& vm_;
    mutable std::mutex mu_;
    std::uint64_t reflected_ = 0;  ///< guest ebreaks delivered to the guest (all vCPUs)
};

}  // namespace kvmdbg::accel::kvm
