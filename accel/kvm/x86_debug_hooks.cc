#include "accel/kvm/x86_debug_hooks.h"

#include <linux/kvm.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <variant>

#include "accel/kvm/kvm_system.h"
#include "accel/kvm/kvm_vcpu.h"
#include "accel/kvm/kvm_vm.h"
#include "accel/kvm/vcpu_exit_report.h"
#include "accel/kvm/x86_vcpu_state.h"
#include "accel/plugin_abi.h"
#include "arch/x86/debug_exit.h"
#include "arch/x86/resume_flag.h"
#include "common/ioctl_status.h"

namespace kvmdbg::accel::kvm {

namespace {

namespace x86 = arch::x86;

constexpr std::uint8_t kInt3[] = {0xcc};
constexpr std::uint64_t kRflagsRf = x86::kRflagsRf;

Result<x86::DebugAccess> access_of(std::uint32_t type) {
    switch (type) {
    case KVMDBG_BP_SOFTWARE:
    case KVMDBG_BP_HARDWARE: return x86::DebugAccess::exec;
    case KVMDBG_WP_WRITE: return x86::DebugAccess::write;
    case KVMDBG_WP_READ: return x86::DebugAccess::read;
    case KVMDBG_WP_ACCESS: return x86::DebugAccess::access;
    default: return make_error(EINVAL, "unknown breakpoint type " + std::to_string(type));
    }
}

std::uint32_t watch_type(x86::WatchKind kind) {
    switch (kind) {
    case x86::WatchKind::write: return KVMDBG_WP_WRITE;
    case x86::WatchKind::read: return KVMDBG_WP_READ;
    case x86::WatchKind::access: return KVMDBG_WP_ACCESS;
    }
    return KVMDBG_WP_ACCESS;
}

std::vector<x86::DebuggerRequestEntry> entries_of(const std::vector<HwRequest>& requests) {
    std::vector<x86::DebuggerRequestEntry> out;
    for (const auto& e : requests) {
        if (auto access = access_of(e.type)) {
            out.push_back({e.id, x86::DebugRequest{*access, e.addr, e.len}});
        }
    }
    return out;
}

/// KVM_GET_DEBUGREGS on the vCPU's own thread.
Result<x86::X86DebugRegs> read_guest_debug_regs(int vcpu_fd) {
    kvm_debugregs d{};
    if (auto s = ioctl_status(xioctl(vcpu_fd, KVM_GET_DEBUGREGS, &d), "KVM_GET_DEBUGREGS"); !s) {
        return s.error();
    }
    x86::X86DebugRegs regs;
    std::memcpy(regs.dr, d.db, sizeof regs.dr);
    regs.dr7 = d.dr7;
    return regs;
}

/// An emulated instruction that raised an exception in the guest instead.
Result<bool> raised(const Status& reflected) {
    if (!reflected) {
        return reflected.error();
    }
    return false;
}

}  // namespace

X86DebugHooks::X86DebugHooks(KvmVm& vm, X86DebugHost host)
    : vm_(vm),
      host_(host),
      rf_resume_(x86::resume_flag_enabled(host.resume_flag, std::getenv("KVMDBG_X86_RF_RESUME"))) {}

std::span<const std::uint8_t> X86DebugHooks::breakpoint_instruction() const { return kInt3; }

void X86DebugHooks::set_vcpu_count(std::uint32_t count) {
    std::lock_guard lock(mu_);
    vcpus_.assign(count, VcpuPlan{});
}

Result<GuestMemory> X86DebugHooks::guest_memory(std::uint32_t cpu) {
    auto state = x86_vcpu_state(vm_, cpu);
    if (!state) {
        return state.error();
    }
    return x86_guest_memory(vm_, *state);
}

std::uint64_t X86DebugHooks::current_pc(KvmVcpu& vcpu) {
    KvmdbgX86State state{};
    return load_x86_state(vcpu.fd(), state) ? x86_pc_linear(state) : 0;
}

bool X86DebugHooks::plants_uncaught_breakpoint(std::uint64_t addr) const {
    return host_.plant_int3_in_kernel_code && (addr >> 63) != 0;
}

std::optional<std::uint64_t> X86DebugHooks::uncaught_breakpoint_pc(KvmVcpu& vcpu) {
    const kvm_run& r = *vcpu.run();
    if (!host_.plant_int3_in_kernel_code || r.exit_reason != KVM_EXIT_INTERNAL_ERROR ||
        r.internal.suberror != KVM_INTERNAL_ERROR_EMULATION) {
        return std::nullopt;
    }
    KvmdbgX86State state{};
    if (!load_x86_state(vcpu.fd(), state)) {
        return std::nullopt;
    }
    const std::uint64_t pc = x86_pc_linear(state);
    std::uint8_t byte = 0;
    if (!x86_guest_memory(vm_, state).read(pc, {&byte, 1}) || byte != kInt3[0]) {
        return std::nullopt;
    }
    return pc;
}

Status X86DebugHooks::check_step_blocks_irq(bool enable) const {
    if (enable && !host_.block_irq) {
        return make_error(ENOTSUP, "this host's KVM has no KVM_GUESTDBG_BLOCKIRQ: steps cannot mask interrupts");
    }
    return ok_status();
}

// ---- slot planning

Status X86DebugHooks::validate_request(std::uint32_t type, std::uint64_t addr, std::uint64_t len) const {
    auto access = access_of(type);
    if (!access) {
        return access.error();
    }
    if (auto pieces = x86::split_debug_request({*access, addr, len}); !pieces) {
        return pieces.error();
    }
    return ok_status();
}

Result<x86::DebugRegPlan> X86DebugHooks::plan_from(const x86::X86DebugRegs& guest,
                                                   const std::vector<HwRequest>& requests) const {
    if (requests.empty()) {
        return x86::DebugRegPlan{};
    }
    return x86::merge_debug_regs(guest, entries_of(requests));
}

Status X86DebugHooks::replan_all(const PlanInput& all) {
    // The guest's own registers are read on each vCPU's thread, without the lock.
    std::vector<x86::X86DebugRegs> guest(vm_.vcpu_count());
    for (std::uint32_t i = 0; i < vm_.vcpu_count(); ++i) {
        Status s = vm_.vcpu_at(i)->run_on_vcpu([&guest, i](KvmVcpu& self) {
            auto regs = read_guest_debug_regs(self.fd());
            if (!regs) {
                return Status(regs.error());
            }
            guest[i] = *regs;
            return ok_status();
        });
        if (!s) {
            return s;
        }
    }
    std::lock_guard lock(mu_);
    std::vector<x86::DebugRegPlan> plans;
    for (std::uint32_t i = 0; i < vcpus_.size() && i < guest.size(); ++i) {
        auto plan = plan_from(guest[i], all.requests_for(i));
        if (!plan) {
            return plan.error();
        }
        plans.push_back(*plan);
    }
    for (std::uint32_t i = 0; i < plans.size(); ++i) {
        vcpus_[i].plan = plans[i];
    }
    return ok_status();
}

Status X86DebugHooks::plan_insert(const HwRequest& added, const PlanInput& all) {
    if (auto s = replan_all(all); !s) {
        auto access = access_of(added.type);
        std::string what = added.serves_sw
                               ? "software breakpoint (served by a hardware slot: this host cannot intercept int3)"
                               : x86::debug_access_name(*access);
        return make_error(s.error().code, "cannot insert " + what + ": " + s.error().message);
    }
    return ok_status();
}

Status X86DebugHooks::plan_remove(std::uint32_t, const PlanInput& all) { return replan_all(all); }

void X86DebugHooks::plan_clear() {
    std::lock_guard lock(mu_);
    for (auto& v : vcpus_) {
        v.plan = x86::DebugRegPlan{};
        v.step_over_guest.reset();
    }
}

Status X86DebugHooks::plan_step_over(KvmVcpu& vcpu, const PlanInput& all) {
    auto guest = read_guest_debug_regs(vcpu.fd());  // this is the vCPU's thread
    if (!guest) {
        return guest.error();
    }
    auto plan = plan_from(*guest, all.requests_for(vcpu.index()));
    if (!plan) {
        return plan.error();
    }
    std::lock_guard lock(mu_);
    VcpuPlan& v = vcpus_.at(vcpu.index());
    v.step_over_guest = *guest;
    v.plan = *plan;
    return ok_status();
}

Status X86DebugHooks::plan_finish_step_over(KvmVcpu& vcpu, const PlanInput& all, bool lifted_hw) {
    std::lock_guard lock(mu_);
    VcpuPlan& v = vcpus_.at(vcpu.index());
    std::optional<x86::X86DebugRegs> guest;
    guest.swap(v.step_over_guest);
    if (!lifted_hw) {
        return ok_status();
    }
    // Re-arm the lifted slot from the guest DRs as read for the step-over
    // (one instruction ran since; an emulated MOV DR kept them current),
    // without reading them again (an ioctl per hit).
    Status status = ok_status();
    if (!guest) {
        auto read = read_guest_debug_regs(vcpu.fd());
        status = read ? ok_status() : Status(read.error());
        guest = read ? *read : x86::X86DebugRegs{};
    }
    v.plan = x86::merge_debug_regs_evicting(*guest, entries_of(all.requests_for(vcpu.index()))).plan;
    return status;
}

// ---- the push

std::uint32_t X86DebugHooks::fill(std::uint32_t cpu, std::optional<std::uint32_t>, kvm_guest_debug& dbg) const {
    // The vCPU's plan already leaves out its suppressed request.
    std::lock_guard lock(mu_);
    const x86::DebugRegPlan& plan = vcpus_.at(cpu).plan;
    const bool any_hw = std::any_of(plan.owners.begin(), plan.owners.end(), [](const x86::SlotOwner& owner) {
        return owner.kind == x86::SlotOwner::Kind::debugger;
    });
    if (!any_hw) {
        return 0;
    }
    for (unsigned n = 0; n < x86::kNumDebugRegs; ++n) {
        dbg.arch.debugreg[n] = plan.regs.dr[n];
    }
    dbg.arch.debugreg[7] = plan.regs.dr7;
    return KVM_GUESTDBG_USE_HW_BP;
}

std::uint32_t X86DebugHooks::step_control(bool internal_step_over, bool step_blocks_irq) const {
    return host_.block_irq && (step_blocks_irq || internal_step_over) ? KVM_GUESTDBG_BLOCKIRQ : 0;
}

// ---- continue from a hardware breakpoint

Result<bool> X86DebugHooks::resume_with_flag(KvmVcpu& vcpu, std::uint64_t addr) {
    // On the vCPU's thread, right before KVM_RUN (x86_debug_hooks.h, top).
    kvm_regs regs{};
    if (auto s = ioctl_status(xioctl(vcpu.fd(), KVM_GET_REGS, &regs), "KVM_GET_REGS"); !s) {
        return s.error();
    }
    auto guest = read_guest_debug_regs(vcpu.fd());
    if (!guest) {
        return guest.error();
    }
    // RIP equals the linear breakpoint address in 64-bit mode and in flat
    // code; otherwise (RIP moved by the debugger, a CS base) RF is not
    // known to land on the breakpoint's instruction.
    if (!x86::resume_flag_fits(regs.rip, addr, *guest)) {
        std::lock_guard lock(mu_);
        vcpus_.at(vcpu.index()).rf_pending_rip.reset();
        return false;
    }
    regs.rflags |= kRflagsRf;
    if (auto s = ioctl_status(xioctl(vcpu.fd(), KVM_SET_REGS, &regs), "KVM_SET_REGS"); !s) {
        return s.error();
    }
    std::lock_guard lock(mu_);
    vcpus_.at(vcpu.index()).rf_pending_rip = regs.rip;
    ++rf_resumes_;
    return true;
}

Status X86DebugHooks::before_run(KvmVcpu& vcpu, const RunSetup&) {
    std::optional<std::uint64_t> pending;
    {
        std::lock_guard lock(mu_);
        pending.swap(vcpus_.at(vcpu.index()).rf_pending_rip);
    }
    if (!pending) {
        return ok_status();
    }
    kvm_regs regs{};
    if (auto s = ioctl_status(xioctl(vcpu.fd(), KVM_GET_REGS, &regs), "KVM_GET_REGS"); !s) {
        return s;
    }
    if (!x86::must_clear_stale_resume_flag(regs.rflags, regs.rip, *pending)) {
        return ok_status();
    }
    regs.rflags &= ~kRflagsRf;
    return ioctl_status(xioctl(vcpu.fd(), KVM_SET_REGS, &regs), "KVM_SET_REGS (clearing a stale RFLAGS.RF)");
}

// ---- exits

DebugExitOutcome X86DebugHooks::classify(KvmVcpu& vcpu, const ExitContext& ctx) {
    const kvm_run& run = *vcpu.run();
    x86::DebugExitInfo info;
    info.vector = run.debug.arch.exception;
    info.dr6 = run.debug.arch.dr6;
    info.pc = run.debug.arch.pc;
    info.debugger_stepping = ctx.debugger_stepping;
    info.sw_breakpoint_at_pc = ctx.sw_breakpoint_at(info.pc);
    x86::DebugEvent event;
    {
        std::lock_guard lock(mu_);
        VcpuPlan& v = vcpus_.at(vcpu.index());
        // Any debug exit means an instruction completed or a breakpoint
        // fired: either way an RF set for a continue is clear by now.
        v.rf_pending_rip.reset();
        event = x86::classify_debug_exit(info, v.plan);
    }
    return outcome_of(event, info.pc, ctx.plan, vcpu.index());
}

DebugExitOutcome X86DebugHooks::outcome_of(const x86::DebugEvent& event, std::uint64_t pc, const PlanInput& all,
                                           std::uint32_t cpu) {
    using Kind = DebugExitOutcome::Kind;
    DebugExitOutcome out;
    out.pc = pc;
    if (const auto* step = std::get_if<x86::StepDone>(&event)) {
        out.kind = Kind::step_done;
        if (step->also_watchpoint) {
            out.also_watchpoint = true;
            out.watch_type = watch_type(step->also_watchpoint->kind);
            out.addr = step->also_watchpoint->hit_addr;
            out.len = step->also_watchpoint->len;
        }
    } else if (const auto* sw = std::get_if<x86::SoftwareBreakpoint>(&event)) {
        out.kind = Kind::sw_breakpoint;
        out.addr = sw->addr;
    } else if (const auto* hw = std::get_if<x86::HardwareBreakpoint>(&event)) {
        out.kind = Kind::hw_breakpoint;
        out.request_id = hw->request_id;
        out.addr = hw->addr;
    } else if (const auto* wp = std::get_if<x86::Watchpoint>(&event)) {
        out.kind = Kind::watchpoint;
        out.request_id = wp->request_id;
        out.watch_type = watch_type(wp->kind);
        out.addr = wp->hit_addr;
        out.len = wp->len;
    } else if (std::holds_alternative<x86::GuestDebugRegAccess>(event)) {
        out.kind = Kind::handled;
        out.what = "cannot emulate the guest's MOV to or from a debug register";
        out.emulate = [this, requests = all.requests_for(cpu)](KvmVcpu& self) {
            return emulate_dr_access(self, requests);
        };
    } else if (const auto* guest = std::get_if<x86::NotOurs>(&event)) {
        out.kind = Kind::guest_event;
        out.what = "debug exception (vector " + std::to_string(guest->vector) + ")";
        out.action = [this, vector = guest->vector, dr6 = guest->dr6](KvmVcpu& self) {
            return reflect(self, vector, dr6);
        };
    }
    return out;
}

Status X86DebugHooks::reflect(KvmVcpu& vcpu, std::uint32_t vector, std::uint64_t dr6) {
    kvm_vcpu_events ev{};
    if (auto s = ioctl_status(xioctl(vcpu.fd(), KVM_GET_VCPU_EVENTS, &ev), "KVM_GET_VCPU_EVENTS"); !s) {
        return s;
    }
    ev.flags = 0;
    ev.exception.nr = static_cast<__u8>(vector);
    ev.exception.has_error_code = 0;
    ev.exception.error_code = 0;
    if (vector == x86::kVectorDB && host_.exception_payload) {
        // The DR6 payload is delivered by KVM as the processor would (api.rst
        // KVM_CAP_EXCEPTION_PAYLOAD): the guest's handler reads exactly dr6.
        ev.exception.pending = 1;
        ev.exception.injected = 0;
        ev.exception_has_payload = 1;
        ev.exception_payload = dr6 ^ x86::dr6::kInit;  // payload uses the positive-polarity form
        ev.flags |= KVM_VCPUEVENT_VALID_PAYLOAD;
    } else {
        if (vector == x86::kVectorDB) {
            kvm_debugregs d{};
            if (auto s = ioctl_status(xioctl(vcpu.fd(), KVM_GET_DEBUGREGS, &d), "KVM_GET_DEBUGREGS"); !s) {
                return s;
            }
            d.dr6 = dr6;
            if (auto s = ioctl_status(xioctl(vcpu.fd(), KVM_SET_DEBUGREGS, &d), "KVM_SET_DEBUGREGS"); !s) {
                return s;
            }
        }
        ev.exception.injected = 1;
        ev.exception.pending = 0;
    }
    return ioctl_status(xioctl(vcpu.fd(), KVM_SET_VCPU_EVENTS, &ev), "KVM_SET_VCPU_EVENTS");
}

Result<bool> X86DebugHooks::emulate_dr_access(KvmVcpu& vcpu, const std::vector<HwRequest>& requests) {
    KvmdbgX86State st{};
    if (auto s = load_x86_state(vcpu.fd(), st); !s) {
        return s.error();
    }
    std::uint8_t insn[15] = {};
    GuestMemory mem = x86_guest_memory(vm_, st);
    std::uint64_t pc = x86_pc_linear(st);
    std::size_t got = 0;
    for (; got < sizeof insn; ++got) {
        if (!mem.read(pc + got, {insn + got, 1})) {
            break;
        }
    }
    x86::MovDrContext ctx;
    std::copy(std::begin(st.dr), std::begin(st.dr) + 4, ctx.regs.dr);
    ctx.regs.dr6 = st.dr6;
    ctx.regs.dr7 = st.dr7;
    std::copy(std::begin(st.gpr), std::end(st.gpr), ctx.gpr.begin());
    ctx.cr4_de = (st.cr4 & (1ull << 3)) != 0;
    ctx.long_mode = st.cs.l != 0;
    auto out = x86::emulate_mov_dr({insn, got}, ctx);
    if (!out) {
        return out.error();
    }
    switch (out->action) {
    case x86::MovDrAction::done: break;
    case x86::MovDrAction::raise_ud: return raised(reflect(vcpu, 6, 0));
    case x86::MovDrAction::raise_gp: return raised(reflect(vcpu, 13, 0));
    case x86::MovDrAction::raise_db: return raised(reflect(vcpu, x86::kVectorDB, out->regs.dr6));
    }
    std::copy(out->gpr.begin(), out->gpr.end(), std::begin(st.gpr));
    st.rip += out->length;
    st.rflags &= ~kRflagsRf;  // the MOV completed: the processor clears RF (17.3.1.1)
    std::copy(out->regs.dr, out->regs.dr + 4, std::begin(st.dr));
    st.dr6 = out->regs.dr6;
    st.dr7 = out->regs.dr7;
    if (auto s = store_x86_state(vcpu.fd(), st); !s) {
        return s.error();
    }
    if (out->to_dr) {
        x86::X86DebugRegs guest{};
        std::memcpy(guest.dr, st.dr, sizeof guest.dr);
        guest.dr7 = st.dr7;
        std::lock_guard lock(mu_);
        VcpuPlan& v = vcpus_.at(vcpu.index());
        v.plan = x86::merge_debug_regs_evicting(guest, entries_of(requests)).plan;
        if (v.step_over_guest) {
            v.step_over_guest = guest;  // the re-arm after the step-over plans from these
        }
    }
    return true;  // the core pushes the new plan
}

// ---- monitor info breakpoints

std::string X86DebugHooks::describe_sw_service() const {
    if (host_.sw_breakpoints_intercepted) {
        return "";
    }
    return host_.plant_int3_in_kernel_code
               ? "; this host cannot intercept int3: gdb's in kernel code (upper half) are planted as int3, "
                 "which stops there as an emulation failure; the others are served by hardware slots"
               : "; this host cannot intercept int3, gdb's are served by hardware slots";
}

std::string X86DebugHooks::describe_resume_policy(std::uint64_t hw_step_overs) const {
    std::lock_guard lock(mu_);
    char line[224];
    std::snprintf(line, sizeof line,
                  "continue from a hardware breakpoint: %s (RFLAGS.RF resumes: %llu, step-overs: %llu)\n",
                  rf_resume_ && host_.resume_flag ? "resume with RFLAGS.RF"
                  : rf_resume_ ? "resume with RFLAGS.RF (KVMDBG_X86_RF_RESUME=force; this host does not honour it)"
                  : host_.resume_flag ? "step-over (KVMDBG_X86_RF_RESUME forbids RFLAGS.RF)"
                                      : "step-over (this host does not honour RFLAGS.RF)",
                  static_cast<unsigned long long>(rf_resumes_), static_cast<unsigned long long>(hw_step_overs));
    return line;
}

std::string X86DebugHooks::describe_request(const HwRequest& request) const {
    auto access = access_of(request.type);
    return request.serves_sw ? "software breakpoint (hardware slot)"
           : access          ? x86::debug_access_name(*access)
                             : "breakpoint";
}

std::string X86DebugHooks::describe_slots() const {
    std::lock_guard lock(mu_);
    char line[224];
    std::string out;
    for (std::size_t cpu = 0; cpu < vcpus_.size(); ++cpu) {
        const auto& plan = vcpus_[cpu].plan;
        std::snprintf(line, sizeof line, "vCPU %zu debug registers (DR7=0x%llx):\n", cpu,
                      static_cast<unsigned long long>(plan.regs.dr7));
        out += line;
        for (unsigned n = 0; n < x86::kNumDebugRegs; ++n) {
            const auto& owner = plan.owners[n];
            switch (owner.kind) {
            case x86::SlotOwner::Kind::free: std::snprintf(line, sizeof line, "  DR%u free\n", n); break;
            case x86::SlotOwner::Kind::guest:
                std::snprintf(line, sizeof line, "  DR%u the guest's own DR%u at 0x%llx\n", n, owner.guest_slot,
                              static_cast<unsigned long long>(plan.regs.dr[n]));
                break;
            case x86::SlotOwner::Kind::debugger:
                std::snprintf(line, sizeof line, "  DR%u debugger %s at 0x%llx\n", n,
                              x86::debug_access_name(owner.request.kind),
                              static_cast<unsigned long long>(plan.regs.dr[n]));
                break;
            }
            out += line;
        }
    }
    return out;
}

}  // namespace kvmdbg::accel::kvm
