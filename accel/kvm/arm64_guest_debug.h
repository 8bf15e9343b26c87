// Arm64GuestDebug: the arm64 implementation of GuestDebug (guest_debug.h)
// on KVM_SET_GUEST_DEBUG (Documentation/virt/kvm/api.rst "KVM_SET_GUEST_DEBUG",
// arm64: KVM_GUESTDBG_USE_SW_BP, KVM_GUESTDBG_USE_HW, KVM_GUESTDBG_SINGLESTEP;
// struct kvm_guest_debug_arch with __u64 dbg_bcr/dbg_bvr/dbg_wcr/dbg_wvr[16]).
//
// What it does per request and per exit (the encodings are arch/arm64's):
//
//   request / exit               action
//   ---------------------------  ---------------------------------------------
//   Z0 (software breakpoint)     BRK #0 (00 00 20 d4) written over the
//                                instruction, USE_SW_BP; served by a free
//                                breakpoint register where the host lacks
//                                USE_SW_BP
//   Z1 (hardware breakpoint)     a DBGBCR/DBGBVR pair (debug_regs.h), USE_HW
//   Z2/Z3/Z4 (watchpoints)       DBGWCR/DBGWVR pairs, split over free slots
//                                (debug_regs.h), USE_HW
//   step (vCont s)               SINGLESTEP; PSTATE.A/I/F set for the step
//                                and DAIF restored after it (step_daif.h)
//                                while `monitor sstep` masks interrupts;
//                                never touched on a continue
//   continue from a breakpoint   step over it with only that breakpoint
//                                lifted (DAIF masked), re-arm, run
//   KVM_EXIT_DEBUG               decode hsr/hsr_high/far and classify
//                                against the loaded plan (debug_exit.h):
//                                debugger events stop the vCPU; the guest's
//                                own (its BRK, its step, its breakpoint or
//                                watchpoint) are reflected: exception entry
//                                to EL1 emulated with KVM_SET_ONE_REG of
//                                ESR_EL1, FAR_EL1, ELR_EL1, SPSR_EL1,
//                                PSTATE, PC (reflect.h), then the vCPU runs
//                                its handler (never the Firecracker no-op
//                                loop on a guest BRK)
//
// While USE_HW is set KVM loads the debugger's registers instead of the
// guest's (arch/arm64/kvm/debug.c, seed 004), so the plan is the debugger's
// alone: no merge with the guest's own registers as on x86.
//
// Threads: hooks from any non-vCPU thread; on_debug_exit/on_step_completed
// on the vCPU's thread. A mutex guards the tables; never held across
// run_on_vcpu().
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "accel/kvm/guest_debug.h"
#include "accel/kvm/sw_breakpoint_table.h"
#include "accel/plugin_abi.h"
#include "arch/arm64/debug_exit.h"
#include "arch/arm64/debug_regs.h"
#include "arch/arm64/step_daif.h"
#include "common/result.h"

namespace kvmdbg::accel::kvm {

class KvmVm;
class KvmVcpu;

/// What the host's KVM offers (from the start-up probe).
struct Arm64GuestDebugHost {
    bool sw_breakpoints_intercepted = false;  ///< KVM_GUESTDBG_USE_SW_BP offered
    arch::arm64::SlotCounts counts{};         ///< HW_BPS / HW_WPS
};

class Arm64GuestDebug final : public GuestDebug {
public:
    Arm64GuestDebug(KvmVm& vm, Arm64GuestDebugHost host);

    void set_vcpu_count(std::uint32_t count) override;
    Status insert(std::uint32_t type, std::uint64_t addr, std::uint64_t len) override;
    Status remove(std::uint32_t type, std::uint64_t addr, std::uint64_t len) override;
    Status remove_all() override;
    Status update(std::uint32_t cpu) override;
    Result<PreRunJob> prepare_resume(std::uint32_t cpu, bool single_step) override;
    Status read_memory(std::uint32_t cpu, std::uint64_t addr, std::span<std::uint8_t> out, bool physical) override;
    Status write_memory(std::uint32_t cpu, std::uint64_t addr, std::span<const std::uint8_t> in,
                        bool physical) override;
    std::optional<KvmdbgDebugStop> on_debug_exit(KvmVcpu& vcpu) override;
    std::optional<KvmdbgDebugStop> on_step_completed(KvmVcpu& vcpu) override;
    /// arm64 masks interrupts for a step itself (PSTATE.DAIF), so both
    /// settings are always available.
    Status set_step_blocks_irq(bool enable) override;
    std::string describe_breakpoints() const override;
    bool stepping(std::uint32_t cpu) const override;

    /// Guest debug events reflected into the guest so far (all vCPUs).
    std::uint64_t reflected_events() const;

private:
    struct HwEntry {
        std::uint32_t id = 0;
        std::uint32_t type = 0;  ///< KvmdbgBreakpointType
        std::uint64_t addr = 0;
        std::uint64_t len = 0;
        unsigned refs = 0;
        bool serves_sw = false;  ///< a software breakpoint served by a breakpoint register
    };
    struct VcpuState {
        bool step = false;                           ///< the debugger asked for one step
        std::optional<KvmdbgDebugStop> last_stop;    ///< where it last stopped for us
        bool stepping_over = false;                  ///< internal step-over in flight
        bool continue_after_step_over = false;       ///< then run (true) or report (false)
        std::optional<std::uint64_t> suppressed_sw;  ///< sw bp lifted for the step-over
        std::optional<std::uint32_t> suppressed_hw;  ///< hw request left out for it
        std::optional<arch::arm64::StepDaifPlan> daif;  ///< DAIF to restore after the step
    };

    Status insert_hw(std::uint32_t type, std::uint64_t addr, std::uint64_t len, bool serves_sw);
    Status remove_hw(std::uint32_t type, std::uint64_t addr, std::uint64_t len, bool serves_sw);
    Status push_all();
    /// The plan vCPU `cpu` loads: every request but its suppressed one. mu_ held.
    arch::arm64::DebugRegPlan plan_for_locked(std::uint32_t cpu) const;
    /// On the vCPU thread: KVM_SET_GUEST_DEBUG from the vCPU's state.
    Status push_on_vcpu(KvmVcpu& vcpu);
    /// On the vCPU thread: masks A/I/F for the coming step, keeping the plan.
    Status mask_daif_for_step(KvmVcpu& vcpu);
    /// On the vCPU thread: puts DAIF back after a step (no-op without a plan).
    void restore_daif(KvmVcpu& vcpu);
    /// mu_ held; re-arms what the step-over lifted.
    std::optional<KvmdbgDebugStop> finish_step_over(KvmVcpu& vcpu, VcpuState& st);
    /// A finished step (from an exit or a completed MMIO step).
    std::optional<KvmdbgDebugStop> step_finished(KvmVcpu& vcpu, std::uint64_t pc);
    /// On the vCPU thread: emulates the exception entry to EL1 for `event`.
    Status reflect(KvmVcpu& vcpu, const arch::arm64::DecodedDebugExit& event);
    std::uint32_t stop_type_of(std::uint32_t request_id) const;

    KvmVm& vm_;
    const Arm64GuestDebugHost host_;
    mutable std::mutex mu_;
    bool step_blocks_irq_ = true;
    SwBreakpointTable sw_;
    std::vector<HwEntry> hw_;
    arch::arm64::DebugRegPlan plan_;
    std::uint32_t next_id_ = 1;
    std::vector<VcpuState> vcpus_;
    std::uint64_t reflected_ = 0;
};

}  // namespace kvmdbg::accel::kvm
