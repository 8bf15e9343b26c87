// GuestDebugCore's resume path: what a resume arms, the step-over of the
// debugger's breakpoint a vCPU sits on, and the end of a step
// (guest_debug_core.h, "Continuing from a breakpoint").
#include <cstdio>

#include "accel/kvm/guest_debug_core.h"
#include "accel/kvm/kvm_vcpu.h"
#include "accel/kvm/kvm_vm.h"
#include "common/hex_string.h"

namespace kvmdbg::accel::kvm {

namespace {

bool at_breakpoint(const std::optional<KvmdbgDebugStop>& at) {
    return at && (at->reason == KVMDBG_STOP_SW_BREAK || at->reason == KVMDBG_STOP_HW_BREAK);
}

bool is_exec(std::uint32_t type) { return type == KVMDBG_BP_SOFTWARE || type == KVMDBG_BP_HARDWARE; }

}  // namespace

Result<GuestDebug::PreRunJob> GuestDebugCore::prepare_resume(std::uint32_t cpu, bool single_step) {
    if (vm_.vcpu_at(cpu) == nullptr) {
        return make_error(EINVAL, "no vCPU " + std::to_string(cpu));
    }
    ResumePlan plan;
    {
        std::lock_guard lock(mu_);
        plan = plan_resume_locked(cpu, single_step);
    }
    // Safe on the vCPU's own thread too (a false target-side condition
    // continues the vCPU from there): nothing here waits for the vCPU (the
    // state read for guest memory runs inline there), and the caller runs
    // the job.
    if (plan.lift_sw) {
        if (auto s = lift_sw_breakpoint(cpu, *plan.lift_sw); !s) {
            return s.error();
        }
    }
    // Run by the vCPU's thread right before KVM_RUN (KvmVcpu::resume).
    return PreRunJob([this, job = plan.job](KvmVcpu& self) -> Status { return run_resume(self, job); });
}

GuestDebugCore::ResumePlan GuestDebugCore::plan_resume_locked(std::uint32_t cpu, bool single_step) {
    VcpuState& st = vcpus_.at(cpu);
    ResumePlan plan;
    st.step = single_step;
    const std::optional<KvmdbgDebugStop> at = st.last_stop;
    st.last_stop.reset();
    if (at_breakpoint(at)) {
        plan_leave_breakpoint_locked(cpu, *at, single_step, plan);
    } else if (st.stepping_over) {
        // A step-over prepared but not run yet (a false conditional hit
        // passed over on the vCPU thread, then a pause came first): it is
        // still this resume's first instruction; what follows it is what
        // this resume asks for.
        st.continue_after_step_over = !single_step;
        st.step = false;
    }
    plan.job.debugger_step = st.step;
    plan.job.step_over = st.stepping_over;
    plan.job.step_blocks_irq = step_blocks_irq_;
    return plan;
}

void GuestDebugCore::plan_leave_breakpoint_locked(std::uint32_t cpu, const KvmdbgDebugStop& at, bool single_step,
                                                  ResumePlan& plan) {
    // Step over the breakpoint this vCPU sits on, with only that one lifted
    // (or, for a continue from a hardware one, the ISA's resume flag).
    VcpuState& st = vcpus_.at(cpu);
    if (sw_.contains(at.addr)) {
        plan.lift_sw = at.addr;
    } else {
        for (const auto& e : plan_.requests) {
            if (e.addr != at.addr || !is_exec(e.type)) {
                continue;
            }
            if (!single_step && isa_->resume_flag_enabled()) {
                plan.job.flag_request = e.id;  // decided on the vCPU thread (run_resume)
            } else {
                suppressed_hw_locked(cpu) = e.id;
                plan.job.replan_step_over = true;
                hw_step_overs_ += single_step ? 0 : 1;
            }
            break;
        }
    }
    st.stepping_over = plan.lift_sw.has_value() || plan.job.replan_step_over;
    st.continue_after_step_over = !single_step;
    if (st.stepping_over) {
        st.step = false;
    }
}

Status GuestDebugCore::lift_sw_breakpoint(std::uint32_t cpu, std::uint64_t addr) {
    auto mem = isa_->guest_memory(cpu);
    if (!mem) {
        return mem.error();
    }
    std::optional<std::vector<std::uint8_t>> saved;
    {
        std::lock_guard lock(mu_);
        saved = sw_.saved_bytes(addr);
    }
    if (!saved) {
        return ok_status();
    }
    // The original instruction goes back for one step; finish_step_over_locked re-arms it.
    if (auto s = mem->write(addr, *saved); !s) {
        return s;
    }
    std::lock_guard lock(mu_);
    vcpus_.at(cpu).suppressed_sw = addr;
    return ok_status();
}

Status GuestDebugCore::run_resume(KvmVcpu& vcpu, ResumeJob job) {
    if (job.flag_request != 0) {
        auto prepared = resume_over_hw_breakpoint(vcpu, job.flag_request);
        if (!prepared) {
            return prepared.error();
        }
        if (*prepared) {
            return push_on_vcpu(vcpu);
        }
    }
    RunSetup setup{job.debugger_step, job.step_over, job.step_blocks_irq,
                   [this](std::uint64_t addr, std::span<std::uint8_t> bytes) {
                       std::lock_guard lock(mu_);
                       sw_.shadow_read(addr, bytes);
                   }};
    if (auto s = isa_->before_run(vcpu, setup); !s) {
        return s;
    }
    if (job.replan_step_over) {
        // Only this vCPU's plan changes for its step-over: rebuilt here,
        // under the lock (the hook reads the guest's registers inline: this
        // is the vCPU's thread, and it waits for no other).
        std::lock_guard lock(mu_);
        if (auto s = isa_->plan_step_over(vcpu, plan_); !s) {
            return s;
        }
    }
    return push_on_vcpu(vcpu);
}

Result<bool> GuestDebugCore::resume_over_hw_breakpoint(KvmVcpu& vcpu, std::uint32_t request_id) {
    std::uint64_t addr = 0;
    {
        std::lock_guard lock(mu_);
        const HwRequest* request = request_locked(request_id);
        if (request == nullptr) {
            return false;  // removed since the stop: nothing to leave
        }
        addr = request->addr;
    }
    auto flagged = isa_->resume_with_flag(vcpu, addr);
    if (!flagged) {
        return flagged.error();
    }
    if (*flagged) {
        return true;  // the push is normally unchanged since the stop: no ioctl
    }
    std::lock_guard lock(mu_);
    VcpuState& st = vcpus_.at(vcpu.index());
    suppressed_hw_locked(vcpu.index()) = request_id;
    st.stepping_over = true;
    st.continue_after_step_over = true;
    st.step = false;
    ++hw_step_overs_;
    if (auto s = isa_->plan_step_over(vcpu, plan_); !s) {  // inline, as in run_resume
        return s.error();
    }
    return true;
}

std::optional<KvmdbgDebugStop> GuestDebugCore::on_step_completed(KvmVcpu& vcpu) {
    return step_finished(vcpu, isa_->current_pc(vcpu), nullptr, true);
}

std::optional<KvmdbgDebugStop> GuestDebugCore::step_finished(KvmVcpu& vcpu, std::uint64_t pc,
                                                             const DebugExitOutcome* outcome, bool always_push) {
    if (auto s = isa_->undo_step_setup(vcpu); !s) {
        log_vcpu_failure(vcpu.index(), "after its single step", s.error());
    }
    std::unique_lock lock(mu_);
    VcpuState& st = vcpus_.at(vcpu.index());
    const bool was_step_over = st.stepping_over;
    std::optional<KvmdbgDebugStop> stop;
    if (was_step_over) {
        stop = finish_step_over_locked(vcpu, st);
    } else {
        st.step = false;
        stop = KvmdbgDebugStop{};
        stop->reason = KVMDBG_STOP_STEP;
        if (outcome != nullptr && outcome->also_watchpoint) {
            stop->reason = KVMDBG_STOP_WATCH;
            stop->type = outcome->watch_type;
            stop->addr = outcome->addr;
            stop->len = outcome->len;
        }
    }
    if (stop) {
        stop->pc = pc;
        st.last_stop = stop;
    }
    lock.unlock();
    // A step-over's re-arm and the drop of SINGLESTEP always reach KVM here.
    if (was_step_over || always_push || isa_->push_after_stop()) {
        push_or_log(vcpu, "a single step");
    }
    return stop;
}

std::optional<KvmdbgDebugStop> GuestDebugCore::finish_step_over_locked(KvmVcpu& vcpu, VcpuState& st) {
    // Only what is still inserted is re-armed: remove() clears a lift whose
    // breakpoint went away between the prepared step-over and now.
    if (st.suppressed_sw) {
        if (sw_.contains(*st.suppressed_sw)) {
            rearm_lifted_sw_locked(vcpu, *st.suppressed_sw);
        }
        st.suppressed_sw.reset();
    }
    auto& suppressed_hw = suppressed_hw_locked(vcpu.index());
    const bool lifted_hw = suppressed_hw.has_value();
    suppressed_hw.reset();
    st.stepping_over = false;
    if (auto s = isa_->plan_finish_step_over(vcpu, plan_, lifted_hw); !s) {
        log_vcpu_failure(vcpu.index(), "cannot re-arm the hardware breakpoint its step-over left out", s.error());
    }
    if (st.continue_after_step_over) {
        return std::nullopt;
    }
    KvmdbgDebugStop stop{};
    stop.reason = KVMDBG_STOP_STEP;
    return stop;
}

void GuestDebugCore::rearm_lifted_sw_locked(KvmVcpu& vcpu, std::uint64_t addr) {
    // On the vCPU's thread: the state read for its memory runs inline.
    auto mem = isa_->guest_memory(vcpu.index());
    Status s = mem ? mem->write(addr, sw_.opcode()) : Status(mem.error());
    if (!s) {
        log_vcpu_failure(vcpu.index(),
                         "cannot re-arm the software breakpoint at " + hex_string(addr) + " after its step-over",
                         s.error());
    }
}

}  // namespace kvmdbg::accel::kvm
