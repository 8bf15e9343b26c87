// GuestDebugCore: the one implementation of GuestDebug (guest_debug.h) for
// every ISA. It owns what all ISAs share and asks the ISA's hooks
// (guest_debug_isa.h) for the rest:
//
//   owned here                                  asked of the ISA
//   ------------------------------------------  ----------------------------
//   software-breakpoint table and its memory    breakpoint instruction,
//   access (reads show the original bytes,      guest memory of a vCPU
//   writes update the saved ones)
//   hardware requests with reference counts     slot planning, errors
//   per-vCPU step and step-over state           RF continue, DAIF, stale RF
//   rebuild of struct kvm_guest_debug and its   .arch and the hardware /
//   push to every vCPU on its own thread (an    BLOCKIRQ control bits
//   identical push without SINGLESTEP skipped)
//   what each KVM_EXIT_DEBUG means for the      exit classification,
//   debugger (stop, step-over done, go on)      reflection, emulation
//   where the host does not intercept the       which breakpoints can be
//   breakpoint instruction: hardware slots,     planted all the same, and
//   or planted where the ISA says so            the exit they cause instead
//   monitor info breakpoints (software          the ISA's slots and policy
//   breakpoints, the request list)
//
// State (docs/design.md "Threads"): the debugger's requests are global;
// each vCPU has one value with its step flag and pending step-over. Every
// change rebuilds struct kvm_guest_debug whole from it (Documentation/virt/
// kvm/api.rst "KVM_SET_GUEST_DEBUG") and pushes it on the vCPU's thread.
//
// Continuing from a breakpoint (guest_debug_step_over.cc): a resume of a vCPU
// that stopped at one of the debugger's breakpoints first single-steps it
// with that breakpoint lifted (a software breakpoint's original bytes put
// back, or its hardware request left out of that vCPU's plan), then re-arms
// what is still inserted: a breakpoint removed between the prepared
// step-over and its finish stays removed. Where the ISA can leave a
// hardware breakpoint without a step-over (x86 RFLAGS.RF), a continue does.
//
// Errors on the paths that re-arm or restore after a step (the breakpoint
// instruction written back, the ISA's register restore, the push) cannot be
// returned to a caller (the vCPU thread is handling an exit): each is
// logged on stderr as one line naming the vCPU.
//
// Threads: the hooks from any non-vCPU thread; on_debug_exit() and
// on_step_completed() on the vCPU's own thread. mu_ guards the tables; it is
// never held across run_on_vcpu() to another vCPU.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "accel/kvm/guest_debug.h"
#include "accel/kvm/guest_debug_isa.h"
#include "accel/kvm/sw_breakpoint_table.h"
#include "accel/plugin_abi.h"
#include "common/result.h"

namespace kvmdbg::accel::kvm {

class KvmVm;
class KvmVcpu;

class GuestDebugCore final : public GuestDebug {
public:
    /// Takes ownership of the ISA's hooks. Errors: EINVAL when the ISA's
    /// breakpoint instruction cannot be tabled (empty or too long).
    static Result<std::unique_ptr<GuestDebugCore>> create(KvmVm& vm, std::unique_ptr<GuestDebugIsa> isa);

    void set_vcpu_count(std::uint32_t count) override;
    Status insert(std::uint32_t type, std::uint64_t addr, std::uint64_t len) override;
    Status remove(std::uint32_t type, std::uint64_t addr, std::uint64_t len) override;
    Status remove_all() override;
    Status update(std::uint32_t cpu) override;
    Result<PreRunJob> prepare_resume(std::uint32_t cpu, bool single_step) override;
    Status read_memory(std::uint32_t cpu, std::uint64_t addr, std::span<std::uint8_t> out, bool physical) override;
    Result<std::uint64_t> translate(std::uint32_t cpu, std::uint64_t addr) override;
    Status write_memory(std::uint32_t cpu, std::uint64_t addr, std::span<const std::uint8_t> in,
                        bool physical) override;
    std::optional<KvmdbgDebugStop> on_debug_exit(KvmVcpu& vcpu) override;
    std::optional<KvmdbgDebugStop> on_uncaught_breakpoint(KvmVcpu& vcpu) override;
    std::optional<KvmdbgDebugStop> on_step_completed(KvmVcpu& vcpu) override;
    Status set_step_blocks_irq(bool enable) override;
    /// Software breakpoints and how they are served, the ISA's resume
    /// policy, every request with its reference count, the ISA's slots.
    std::string describe_breakpoints() const override;
    bool stepping(std::uint32_t cpu) const override;

private:
    /// What the vCPU does right before KVM_RUN for a resume, as decided by
    /// prepare_resume (guest_debug_step_over.cc). Eight bytes: with `this`
    /// it fits std::function's local buffer, so a resume allocates nothing
    /// (on the false-condition path that is once per hit).
    struct ResumeJob {
        std::uint32_t flag_request = 0;  ///< continue by the ISA's resume flag from this request (ids start at 1)
        bool debugger_step = false;      ///< RunSetup's fields
        bool step_over = false;
        bool step_blocks_irq = false;
        bool replan_step_over = false;  ///< the vCPU's plan leaves a request out
    };
    static_assert(sizeof(ResumeJob) <= 8);
    /// What prepare_resume decided under the lock.
    struct ResumePlan {
        std::optional<std::uint64_t> lift_sw;  ///< put the original bytes back here first
        ResumeJob job;
    };
    struct VcpuState {
        bool step = false;                           ///< the debugger asked for one step
        std::optional<KvmdbgDebugStop> last_stop;    ///< where it last stopped for us
        bool stepping_over = false;                  ///< internal step-over in flight
        bool continue_after_step_over = false;       ///< then run (true) or report (false)
        std::optional<std::uint64_t> suppressed_sw;  ///< sw bp lifted for the step-over
        /// What push_on_vcpu last loaded successfully: an identical push
        /// without SINGLESTEP changes nothing in KVM and is skipped.
        std::optional<kvm_guest_debug> pushed;
    };

    GuestDebugCore(KvmVm& vm, std::unique_ptr<GuestDebugIsa> isa, SwBreakpointTable table);

    // ---- requests (guest_debug_core.cc)
    /// A stop for the debugger classified at an exit of `vcpu`: recorded
    /// as its last stop, its step and step setup undone. `lock` holds mu_
    /// on entry and is released on return.
    std::optional<KvmdbgDebugStop> report_stop(KvmVcpu& vcpu, std::unique_lock<std::mutex>& lock,
                                               const DebugExitOutcome& outcome);
    /// Whether gdb's software breakpoint at `addr` is in guest memory
    /// (rather than served by a hardware slot).
    bool in_memory(std::uint64_t addr) const;
    Status insert_hw(std::uint32_t type, std::uint64_t addr, std::uint64_t len, bool serves_sw);
    Status remove_hw(std::uint32_t type, std::uint64_t addr, std::uint64_t len, bool serves_sw);
    Status insert_sw(std::uint64_t addr);
    Status remove_sw(std::uint64_t addr);
    /// mu_ held: the request the step-over of vCPU `cpu` leaves out.
    std::optional<std::uint32_t>& suppressed_hw_locked(std::uint32_t cpu) { return plan_.suppressed.at(cpu); }
    std::uint64_t effective_length(std::uint32_t type, std::uint64_t len) const;
    /// mu_ held: hardware request `id`, or nullptr when it is gone.
    const HwRequest* request_locked(std::uint32_t id) const;

    // ---- the push
    kvm_guest_debug build_guest_debug_locked(std::uint32_t cpu) const;
    /// On the vCPU thread: KVM_SET_GUEST_DEBUG from the vCPU's state.
    Status push_on_vcpu(KvmVcpu& vcpu);
    /// push_on_vcpu, a failure logged (paths with no caller to tell).
    void push_or_log(KvmVcpu& vcpu, const char* after);
    Status push_all();

    // ---- exits (guest_debug_core.cc)
    std::optional<KvmdbgDebugStop> stop_for_locked(const DebugExitOutcome& outcome) const;
    std::optional<KvmdbgDebugStop> run_guest_event(KvmVcpu& vcpu, const DebugExitOutcome& outcome, bool stepping);
    std::optional<KvmdbgDebugStop> run_handled(KvmVcpu& vcpu, const DebugExitOutcome& outcome);

    // ---- resume and step-over (guest_debug_step_over.cc)
    ResumePlan plan_resume_locked(std::uint32_t cpu, bool single_step);
    void plan_leave_breakpoint_locked(std::uint32_t cpu, const KvmdbgDebugStop& at, bool single_step, ResumePlan& plan);
    Status lift_sw_breakpoint(std::uint32_t cpu, std::uint64_t addr);
    Status run_resume(KvmVcpu& vcpu, ResumeJob job);
    /// Whether the continue from request `request_id` was prepared (false:
    /// the request is gone, a plain resume does).
    Result<bool> resume_over_hw_breakpoint(KvmVcpu& vcpu, std::uint32_t request_id);
    /// A finished step (from an exit or a completed I/O step). `always_push`:
    /// push even when the ISA leaves it to the next resume.
    std::optional<KvmdbgDebugStop> step_finished(KvmVcpu& vcpu, std::uint64_t pc, const DebugExitOutcome* outcome,
                                                 bool always_push);
    /// mu_ held; re-arms what the step-over lifted and is still inserted.
    std::optional<KvmdbgDebugStop> finish_step_over_locked(KvmVcpu& vcpu, VcpuState& st);
    void rearm_lifted_sw_locked(KvmVcpu& vcpu, std::uint64_t addr);

    KvmVm& vm_;
    const std::unique_ptr<GuestDebugIsa> isa_;
    mutable std::mutex mu_;
    bool step_blocks_irq_;
    SwBreakpointTable sw_;
    /// The debugger's hardware requests and, per vCPU, the one its
    /// step-over leaves out: the shape the ISA's planning hooks read.
    PlanInput plan_;
    std::uint32_t next_id_ = 1;
    std::vector<VcpuState> vcpus_;
    std::uint64_t hw_step_overs_ = 0;  ///< continues from a hw breakpoint by step-over
};

/// Logs "kvmdbg: vCPU <cpu>: <what>: <error>" on stderr: for failures on
/// the vCPU thread that have no caller to return to.
void log_vcpu_failure(std::uint32_t cpu, const std::string& what, const Error& error);

}  // namespace kvmdbg::accel::kvm
