#include "accel/kvm/x86_guest_debug.h"

#include <linux/kvm.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <variant>

#include "accel/kvm/guest_memory.h"
#include "accel/kvm/kvm_system.h"
#include "accel/kvm/kvm_vcpu.h"
#include "accel/kvm/kvm_vm.h"
#include "accel/kvm/vcpu_exit_report.h"
#include "accel/kvm/x86_vcpu_state.h"
#include "arch/x86/debug_exit.h"
#include "arch/x86/resume_flag.h"

namespace kvmdbg::accel::kvm {

namespace {

namespace x86 = arch::x86;

constexpr std::uint8_t kInt3 = 0xcc;
constexpr std::uint64_t kRflagsRf = x86::kRflagsRf;

SwBreakpointTable make_int3_table() {
    const std::uint8_t opcode[] = {kInt3};
    return std::move(SwBreakpointTable::create(opcode)).value();
}

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

Status check(long rc, const char* what) {
    if (rc < 0) {
        return make_error(static_cast<int>(-rc), std::string(what) + " failed: " + std::strerror(static_cast<int>(-rc)));
    }
    return ok_status();
}

Result<x86::X86DebugRegs> guest_debug_regs(KvmVcpu& vcpu) {
    x86::X86DebugRegs regs;
    Status s = vcpu.run_on_vcpu([&regs](KvmVcpu& self) {
        kvm_debugregs d{};
        if (auto st = check(xioctl(self.fd(), KVM_GET_DEBUGREGS, &d), "KVM_GET_DEBUGREGS"); !st) {
            return st;
        }
        std::memcpy(regs.dr, d.db, sizeof regs.dr);
        regs.dr7 = d.dr7;
        return ok_status();
    });
    if (!s) {
        return s.error();
    }
    return regs;
}

}  // namespace

X86GuestDebug::X86GuestDebug(KvmVm& vm, GuestDebugHost host)
    : vm_(vm),
      host_(host),
      step_blocks_irq_(host.block_irq),
      sw_(make_int3_table()),
      rf_resume_(x86::resume_flag_enabled(host.resume_flag, std::getenv("KVMDBG_X86_RF_RESUME"))) {}

Status X86GuestDebug::set_step_blocks_irq(bool enable) {
    if (enable && !host_.block_irq) {
        return make_error(ENOTSUP, "this host's KVM has no KVM_GUESTDBG_BLOCKIRQ: steps cannot mask interrupts");
    }
    std::lock_guard lock(mu_);
    step_blocks_irq_ = enable;
    return ok_status();
}

void X86GuestDebug::set_vcpu_count(std::uint32_t count) {
    std::lock_guard lock(mu_);
    vcpus_.assign(count, VcpuState{});
}

bool X86GuestDebug::stepping(std::uint32_t cpu) const {
    std::lock_guard lock(mu_);
    return cpu < vcpus_.size() && (vcpus_[cpu].step || vcpus_[cpu].stepping_over);
}

std::optional<KvmdbgDebugStop> X86GuestDebug::on_step_completed(KvmVcpu& vcpu) {
    KvmdbgX86State state{};
    std::uint64_t pc = 0;
    if (load_x86_state(vcpu.fd(), state)) {
        pc = x86_pc_linear(state);
    }
    std::unique_lock lock(mu_);
    VcpuState& st = vcpus_.at(vcpu.index());
    std::optional<KvmdbgDebugStop> stop;
    if (st.stepping_over) {
        stop = finish_step_over(vcpu, st);
    } else {
        st.step = false;
        stop = KvmdbgDebugStop{};
        stop->reason = KVMDBG_STOP_STEP;
    }
    if (stop) {
        stop->pc = pc;
        st.last_stop = stop;
    }
    lock.unlock();
    (void)push_on_vcpu(vcpu);
    return stop;
}

std::vector<x86::DebuggerRequestEntry> X86GuestDebug::requests_locked(std::optional<std::uint32_t> skip) const {
    std::vector<x86::DebuggerRequestEntry> out;
    for (const auto& e : hw_) {
        if (skip && *skip == e.id) {
            continue;
        }
        auto access = access_of(e.type);
        out.push_back({e.id, x86::DebugRequest{*access, e.addr, e.type <= KVMDBG_BP_HARDWARE ? 1 : e.len}});
    }
    return out;
}

Status X86GuestDebug::replan_all() {
    // The guest's own registers are read on each vCPU's thread, without the lock.
    std::vector<x86::X86DebugRegs> guest(vm_.vcpu_count());
    for (std::uint32_t i = 0; i < vm_.vcpu_count(); ++i) {
        auto regs = guest_debug_regs(*vm_.vcpu_at(i));
        if (!regs) {
            return regs.error();
        }
        guest[i] = *regs;
    }
    std::lock_guard lock(mu_);
    std::vector<x86::DebugRegPlan> plans;
    for (std::uint32_t i = 0; i < vcpus_.size(); ++i) {
        auto requests = requests_locked(vcpus_[i].suppressed_hw);
        if (requests.empty()) {
            plans.push_back(x86::DebugRegPlan{});
            continue;
        }
        auto plan = x86::merge_debug_regs(guest[i], requests);
        if (!plan) {
            return plan.error();
        }
        plans.push_back(*plan);
    }
    for (std::uint32_t i = 0; i < vcpus_.size(); ++i) {
        vcpus_[i].plan = plans[i];
    }
    return ok_status();
}

Status X86GuestDebug::push_on_vcpu(KvmVcpu& vcpu) {
    kvm_guest_debug dbg{};
    {
        std::lock_guard lock(mu_);
        const VcpuState& st = vcpus_.at(vcpu.index());
        bool stepping = st.step || st.stepping_over;
        bool any_hw = false;
        for (const auto& owner : st.plan.owners) {
            any_hw = any_hw || owner.kind == x86::SlotOwner::Kind::debugger;
        }
        bool any_sw = sw_.size() != 0;
        if (stepping || any_hw || any_sw) {
            dbg.control = KVM_GUESTDBG_ENABLE;
            if (stepping) {
                dbg.control |= KVM_GUESTDBG_SINGLESTEP;
                // The internal step-over of a continue always keeps interrupts
                // out where it can: the breakpoint must be re-armed at once.
                if (host_.block_irq && (step_blocks_irq_ || st.stepping_over)) {
                    dbg.control |= KVM_GUESTDBG_BLOCKIRQ;
                }
            }
            if (any_sw) {
                dbg.control |= KVM_GUESTDBG_USE_SW_BP;
            }
            if (any_hw) {
                dbg.control |= KVM_GUESTDBG_USE_HW_BP;
                for (unsigned n = 0; n < x86::kNumDebugRegs; ++n) {
                    dbg.arch.debugreg[n] = st.plan.regs.dr[n];
                }
                dbg.arch.debugreg[7] = st.plan.regs.dr7;
            }
        }
    }
    // This vCPU's pushes all run on its own thread, one at a time: `pushed`
    // is what its kernel state holds. Loading the same value again without
    // SINGLESTEP changes nothing in KVM (with SINGLESTEP it would re-arm the
    // step at the current RIP), so it is skipped: the stop's push and the
    // next continue's are then free.
    const std::array<std::uint64_t, 6> key = {dbg.control,         dbg.arch.debugreg[0], dbg.arch.debugreg[1],
                                              dbg.arch.debugreg[2], dbg.arch.debugreg[3], dbg.arch.debugreg[7]};
    {
        std::lock_guard lock(mu_);
        VcpuState& st = vcpus_.at(vcpu.index());
        if ((dbg.control & KVM_GUESTDBG_SINGLESTEP) == 0 && st.pushed == key) {
            return ok_status();
        }
    }
    Status s = check(xioctl(vcpu.fd(), KVM_SET_GUEST_DEBUG, &dbg), "KVM_SET_GUEST_DEBUG");
    std::lock_guard lock(mu_);
    VcpuState& st = vcpus_.at(vcpu.index());
    if (s) {
        st.pushed = key;
    } else {
        st.pushed.reset();
    }
    return s;
}

Status X86GuestDebug::update(std::uint32_t cpu) {
    KvmVcpu* v = vm_.vcpu_at(cpu);
    if (v == nullptr) {
        return make_error(EINVAL, "no vCPU " + std::to_string(cpu));
    }
    return v->run_on_vcpu([this](KvmVcpu& self) { return push_on_vcpu(self); });
}

Status X86GuestDebug::push_all() {
    for (std::uint32_t i = 0; i < vm_.vcpu_count(); ++i) {
        if (auto s = update(i); !s) {
            return s;
        }
    }
    return ok_status();
}

Status X86GuestDebug::insert_hw(std::uint32_t type, std::uint64_t addr, std::uint64_t len, bool serves_sw) {
    std::uint64_t eff_len = type <= KVMDBG_BP_HARDWARE ? 1 : len;
    auto access = access_of(type);
    if (!access) {
        return access.error();
    }
    // Reject what can never be encoded before touching any state.
    if (auto pieces = x86::split_debug_request({*access, addr, eff_len}); !pieces) {
        return pieces.error();
    }
    {
        std::lock_guard lock(mu_);
        for (auto& e : hw_) {
            if (e.type == type && e.addr == addr && e.len == eff_len && e.serves_sw == serves_sw) {
                ++e.refs;
                return ok_status();
            }
        }
        hw_.push_back(HwEntry{next_id_++, type, addr, eff_len, 1, serves_sw});
    }
    if (auto s = replan_all(); !s) {
        std::lock_guard lock(mu_);
        hw_.pop_back();
        std::string what = serves_sw ? "software breakpoint (served by a hardware slot: this host cannot intercept int3)"
                                     : x86::debug_access_name(*access);
        return make_error(s.error().code, "cannot insert " + what + ": " + s.error().message);
    }
    return push_all();
}

Status X86GuestDebug::remove_hw(std::uint32_t type, std::uint64_t addr, std::uint64_t len, bool serves_sw) {
    std::uint64_t eff_len = type <= KVMDBG_BP_HARDWARE ? 1 : len;
    {
        std::lock_guard lock(mu_);
        auto it = std::find_if(hw_.begin(), hw_.end(), [&](const HwEntry& e) {
            return e.type == type && e.addr == addr && e.len == eff_len && e.serves_sw == serves_sw;
        });
        if (it == hw_.end()) {
            return make_error(ENOENT, "no such breakpoint or watchpoint");
        }
        if (--it->refs > 0) {
            return ok_status();
        }
        for (auto& v : vcpus_) {
            if (v.suppressed_hw == it->id) {
                v.suppressed_hw.reset();
            }
        }
        hw_.erase(it);
    }
    if (auto s = replan_all(); !s) {
        return s;
    }
    return push_all();
}

Status X86GuestDebug::insert(std::uint32_t type, std::uint64_t addr, std::uint64_t len) {
    if (type != KVMDBG_BP_SOFTWARE) {
        return insert_hw(type, addr, len, false);
    }
    if (!host_.sw_breakpoints_intercepted) {
        return insert_hw(KVMDBG_BP_HARDWARE, addr, 1, true);
    }
    auto state = x86_vcpu_state(vm_, 0);
    if (!state) {
        return state.error();
    }
    GuestMemory mem = x86_guest_memory(vm_, *state);
    {
        std::lock_guard lock(mu_);
        if (auto s = sw_.insert(addr, mem); !s) {
            return s;
        }
    }
    return push_all();
}

Status X86GuestDebug::remove(std::uint32_t type, std::uint64_t addr, std::uint64_t len) {
    if (type != KVMDBG_BP_SOFTWARE) {
        return remove_hw(type, addr, len, false);
    }
    if (!host_.sw_breakpoints_intercepted) {
        return remove_hw(KVMDBG_BP_HARDWARE, addr, 1, true);
    }
    auto state = x86_vcpu_state(vm_, 0);
    if (!state) {
        return state.error();
    }
    GuestMemory mem = x86_guest_memory(vm_, *state);
    {
        std::lock_guard lock(mu_);
        if (auto s = sw_.remove(addr, mem); !s) {
            return s;
        }
    }
    return push_all();
}

Status X86GuestDebug::remove_all() {
    Status first = ok_status();
    if (sw_.size() != 0) {
        auto state = x86_vcpu_state(vm_, 0);
        if (!state) {
            return state.error();
        }
        GuestMemory mem = x86_guest_memory(vm_, *state);
        std::lock_guard lock(mu_);
        first = sw_.remove_all(mem);
    }
    {
        std::lock_guard lock(mu_);
        hw_.clear();
        for (auto& v : vcpus_) {
            v.plan = x86::DebugRegPlan{};
            v.suppressed_hw.reset();
            v.suppressed_sw.reset();
            v.step_over_guest.reset();
            v.step = false;
            v.stepping_over = false;
        }
    }
    if (auto s = push_all(); !s) {
        return s;
    }
    return first;
}

Result<GuestDebug::PreRunJob> X86GuestDebug::prepare_resume(std::uint32_t cpu, bool single_step) {
    KvmVcpu* v = vm_.vcpu_at(cpu);
    if (v == nullptr) {
        return make_error(EINVAL, "no vCPU " + std::to_string(cpu));
    }
    std::optional<KvmdbgDebugStop> at;
    bool replan = false;
    std::optional<std::uint64_t> lift_sw;
    std::optional<std::uint32_t> rf_request;  // continue from this hw request: RF or step-over (vCPU thread)
    bool rf_stale = false;
    {
        std::lock_guard lock(mu_);
        VcpuState& st = vcpus_.at(cpu);
        st.step = single_step;
        at = st.last_stop;
        st.last_stop.reset();
        if (at && (at->reason == KVMDBG_STOP_SW_BREAK || at->reason == KVMDBG_STOP_HW_BREAK)) {
            // Step over the breakpoint this vCPU sits on, with only that one lifted.
            const auto how = x86::leave_breakpoint(sw_.contains(at->addr), single_step, rf_resume_);
            if (how == x86::LeaveBreakpoint::lift_int3) {
                lift_sw = at->addr;
            } else {
                for (const auto& e : hw_) {
                    if (e.addr == at->addr && e.type <= KVMDBG_BP_HARDWARE) {
                        if (how == x86::LeaveBreakpoint::resume_flag) {
                            rf_request = e.id;
                        } else {
                            st.suppressed_hw = e.id;
                            replan = true;
                            hw_step_overs_ += single_step ? 0 : 1;
                        }
                        break;
                    }
                }
            }
            st.stepping_over = lift_sw.has_value() || replan;
            st.continue_after_step_over = !single_step;
            if (st.stepping_over) {
                st.step = false;
            }
        } else if (st.stepping_over) {
            // A step-over prepared but not run yet (a false conditional hit
            // passed over on the vCPU thread, then a pause came first): it
            // is still this resume's first instruction; what follows it is
            // what this resume asks for.
            st.continue_after_step_over = !single_step;
            st.step = false;
        }
        rf_stale = !rf_request && st.rf_pending_rip.has_value();
    }
    if (lift_sw) {
        auto state = x86_vcpu_state(vm_, cpu);
        if (!state) {
            return state.error();
        }
        GuestMemory mem = x86_guest_memory(vm_, *state);
        auto saved = sw_.saved_bytes(*lift_sw);
        if (saved) {
            // Put the original instruction back for one step; re-armed in finish_step_over.
            if (auto s = mem.write(*lift_sw, *saved); !s) {
                return s.error();
            }
            std::lock_guard lock(mu_);
            vcpus_.at(cpu).suppressed_sw = lift_sw;
        }
    }
    // On the vCPU's thread right before KVM_RUN: only this vCPU's plan
    // changes for its step-over (suppressed_hw is per vCPU), so it is
    // rebuilt there from its own guest DRs, then pushed.
    //
    // Safe on the vCPU's own thread too (a false target-side condition
    // continues the vCPU from there): nothing above waits for the vCPU
    // (x86_vcpu_state runs inline there), and the job is run by the caller.
    if (rf_request) {
        const std::uint64_t addr = at->addr;
        return PreRunJob([this, id = *rf_request, addr](KvmVcpu& self) -> Status {
            return resume_over_hw_breakpoint(self, id, addr);
        });
    }
    return PreRunJob([this, replan, rf_stale](KvmVcpu& self) -> Status {
        if (rf_stale) {
            if (auto s = drop_stale_resume_flag(self); !s) {
                return s;
            }
        }
        if (replan) {
            if (auto s = replan_on_vcpu(self); !s) {
                return s;
            }
        }
        return push_on_vcpu(self);
    });
}

Status X86GuestDebug::resume_over_hw_breakpoint(KvmVcpu& vcpu, std::uint32_t request_id, std::uint64_t addr) {
    // On the vCPU's thread, right before KVM_RUN (x86_guest_debug.h, top).
    kvm_regs regs{};
    if (auto s = check(xioctl(vcpu.fd(), KVM_GET_REGS, &regs), "KVM_GET_REGS"); !s) {
        return s;
    }
    kvm_debugregs d{};
    if (auto s = check(xioctl(vcpu.fd(), KVM_GET_DEBUGREGS, &d), "KVM_GET_DEBUGREGS"); !s) {
        return s;
    }
    x86::X86DebugRegs guest{};
    std::memcpy(guest.dr, d.db, sizeof guest.dr);
    guest.dr7 = d.dr7;
    // RIP equals the linear breakpoint address in 64-bit mode and in flat
    // code; otherwise (RIP moved by the debugger, a CS base) RF is not
    // known to land on the breakpoint's instruction.
    if (x86::resume_flag_fits(regs.rip, addr, guest)) {
        regs.rflags |= kRflagsRf;
        if (auto s = check(xioctl(vcpu.fd(), KVM_SET_REGS, &regs), "KVM_SET_REGS"); !s) {
            return s;
        }
        {
            std::lock_guard lock(mu_);
            vcpus_.at(vcpu.index()).rf_pending_rip = regs.rip;
            ++rf_resumes_;
        }
        return push_on_vcpu(vcpu);  // normally unchanged since the stop: no ioctl
    }
    {
        // The step-over, planned from the guest's registers just read.
        std::lock_guard lock(mu_);
        VcpuState& st = vcpus_.at(vcpu.index());
        st.suppressed_hw = request_id;
        st.stepping_over = true;
        st.continue_after_step_over = true;
        st.step = false;
        st.rf_pending_rip.reset();
        st.step_over_guest = guest;
        ++hw_step_overs_;
        auto requests = requests_locked(st.suppressed_hw);
        if (requests.empty()) {
            st.plan = x86::DebugRegPlan{};
        } else {
            auto plan = x86::merge_debug_regs(guest, requests);
            if (!plan) {
                return plan.error();
            }
            st.plan = *plan;
        }
    }
    return push_on_vcpu(vcpu);
}

Status X86GuestDebug::drop_stale_resume_flag(KvmVcpu& vcpu) {
    std::optional<std::uint64_t> pending;
    {
        std::lock_guard lock(mu_);
        pending.swap(vcpus_.at(vcpu.index()).rf_pending_rip);
    }
    if (!pending) {
        return ok_status();
    }
    kvm_regs regs{};
    if (auto s = check(xioctl(vcpu.fd(), KVM_GET_REGS, &regs), "KVM_GET_REGS"); !s) {
        return s;
    }
    if (!x86::must_clear_stale_resume_flag(regs.rflags, regs.rip, *pending)) {
        return ok_status();
    }
    regs.rflags &= ~kRflagsRf;
    return check(xioctl(vcpu.fd(), KVM_SET_REGS, &regs), "KVM_SET_REGS");
}

Status X86GuestDebug::replan_on_vcpu(KvmVcpu& vcpu) {
    auto guest = guest_debug_regs(vcpu);  // inline: this is the vCPU's thread
    if (!guest) {
        return guest.error();
    }
    std::lock_guard lock(mu_);
    VcpuState& st = vcpus_.at(vcpu.index());
    st.step_over_guest = *guest;
    auto requests = requests_locked(st.suppressed_hw);
    if (requests.empty()) {
        st.plan = x86::DebugRegPlan{};
        return ok_status();
    }
    auto plan = x86::merge_debug_regs(*guest, requests);
    if (!plan) {
        return plan.error();
    }
    st.plan = *plan;
    return ok_status();
}

std::optional<KvmdbgDebugStop> X86GuestDebug::finish_step_over(KvmVcpu& vcpu, VcpuState& st) {
    // Called with mu_ held.
    if (st.suppressed_sw) {
        auto state = x86_vcpu_state(vm_, vcpu.index());
        if (state) {
            GuestMemory mem = x86_guest_memory(vm_, *state);
            std::uint8_t op = kInt3;
            (void)mem.write(*st.suppressed_sw, {&op, 1});
        }
        st.suppressed_sw.reset();
    }
    bool had_hw = st.suppressed_hw.has_value();
    st.suppressed_hw.reset();
    st.stepping_over = false;
    if (had_hw) {
        // Re-arm the lifted slot for this vCPU from its guest DRs as read for
        // the step-over (one instruction ran since; an emulated MOV DR kept
        // them current), without reading them again (an ioctl per hit).
        x86::X86DebugRegs guest{};
        if (st.step_over_guest) {
            guest = *st.step_over_guest;
        } else {
            kvm_debugregs d{};
            if (xioctl(vcpu.fd(), KVM_GET_DEBUGREGS, &d) >= 0) {
                std::memcpy(guest.dr, d.db, sizeof guest.dr);
                guest.dr7 = d.dr7;
            }
        }
        auto merged = x86::merge_debug_regs_evicting(guest, requests_locked(std::nullopt));
        st.plan = merged.plan;
    }
    st.step_over_guest.reset();
    if (st.continue_after_step_over) {
        return std::nullopt;
    }
    KvmdbgDebugStop stop{};
    stop.reason = KVMDBG_STOP_STEP;
    return stop;
}

Status X86GuestDebug::reflect(KvmVcpu& vcpu, std::uint32_t vector, std::uint64_t dr6) {
    kvm_vcpu_events ev{};
    if (auto s = check(xioctl(vcpu.fd(), KVM_GET_VCPU_EVENTS, &ev), "KVM_GET_VCPU_EVENTS"); !s) {
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
            if (auto s = check(xioctl(vcpu.fd(), KVM_GET_DEBUGREGS, &d), "KVM_GET_DEBUGREGS"); !s) {
                return s;
            }
            d.dr6 = dr6;
            if (auto s = check(xioctl(vcpu.fd(), KVM_SET_DEBUGREGS, &d), "KVM_SET_DEBUGREGS"); !s) {
                return s;
            }
        }
        ev.exception.injected = 1;
        ev.exception.pending = 0;
    }
    return check(xioctl(vcpu.fd(), KVM_SET_VCPU_EVENTS, &ev), "KVM_SET_VCPU_EVENTS");
}

Status X86GuestDebug::emulate_dr_access(KvmVcpu& vcpu, bool& was_step) {
    KvmdbgX86State st{};
    if (auto s = load_x86_state(vcpu.fd(), st); !s) {
        return s;
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
    ctx.regs.dr[0] = st.dr[0];
    ctx.regs.dr[1] = st.dr[1];
    ctx.regs.dr[2] = st.dr[2];
    ctx.regs.dr[3] = st.dr[3];
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
    case x86::MovDrAction::done: {
        std::copy(out->gpr.begin(), out->gpr.end(), std::begin(st.gpr));
        st.rip += out->length;
        st.rflags &= ~kRflagsRf;  // the MOV completed: the processor clears RF (17.3.1.1)
        for (unsigned n = 0; n < 4; ++n) {
            st.dr[n] = out->regs.dr[n];
        }
        st.dr6 = out->regs.dr6;
        st.dr7 = out->regs.dr7;
        if (auto s = store_x86_state(vcpu.fd(), st); !s) {
            return s;
        }
        if (out->to_dr) {
            std::lock_guard lock(mu_);
            x86::X86DebugRegs guest{};
            std::memcpy(guest.dr, st.dr, sizeof guest.dr);
            guest.dr7 = st.dr7;
            VcpuState& vs = vcpus_.at(vcpu.index());
            vs.plan = x86::merge_debug_regs_evicting(guest, requests_locked(vs.suppressed_hw)).plan;
            if (vs.step_over_guest) {
                vs.step_over_guest = guest;  // the re-arm after the step-over plans from these
            }
        }
        {
            std::lock_guard lock(mu_);
            was_step = vcpus_.at(vcpu.index()).step;
        }
        return push_on_vcpu(vcpu);
    }
    case x86::MovDrAction::raise_ud: return reflect(vcpu, 6, 0);
    case x86::MovDrAction::raise_gp: return reflect(vcpu, 13, 0);
    case x86::MovDrAction::raise_db: return reflect(vcpu, x86::kVectorDB, out->regs.dr6);
    }
    return ok_status();
}

std::optional<KvmdbgDebugStop> X86GuestDebug::on_debug_exit(KvmVcpu& vcpu) {
    const kvm_run& run = *vcpu.run();
    x86::DebugExitInfo info;
    info.vector = run.debug.arch.exception;
    info.dr6 = run.debug.arch.dr6;
    info.pc = run.debug.arch.pc;

    std::unique_lock lock(mu_);
    VcpuState& st = vcpus_.at(vcpu.index());
    // Any debug exit means an instruction completed or a breakpoint fired:
    // either way an RF set for a continue is clear by now.
    st.rf_pending_rip.reset();
    info.debugger_stepping = st.step || st.stepping_over;
    info.sw_breakpoint_at_pc = sw_.contains(info.pc);
    x86::DebugEvent event = x86::classify_debug_exit(info, st.plan);

    KvmdbgDebugStop stop{};
    stop.pc = info.pc;
    if (auto* step = std::get_if<x86::StepDone>(&event)) {
        if (st.stepping_over) {
            auto r = finish_step_over(vcpu, st);
            lock.unlock();
            (void)push_on_vcpu(vcpu);
            if (r) {
                r->pc = info.pc;
            }
            return r;
        }
        st.step = false;
        stop.reason = KVMDBG_STOP_STEP;
        if (step->also_watchpoint) {
            stop.reason = KVMDBG_STOP_WATCH;
            stop.type = watch_type(step->also_watchpoint->kind);
            stop.addr = step->also_watchpoint->hit_addr;
            stop.len = step->also_watchpoint->len;
        }
    } else if (auto* sw = std::get_if<x86::SoftwareBreakpoint>(&event)) {
        stop.reason = KVMDBG_STOP_SW_BREAK;
        stop.type = KVMDBG_BP_SOFTWARE;
        stop.addr = sw->addr;
    } else if (auto* hw = std::get_if<x86::HardwareBreakpoint>(&event)) {
        bool serves_sw = false;
        for (const auto& e : hw_) {
            serves_sw = serves_sw || (e.id == hw->request_id && e.serves_sw);
        }
        stop.reason = serves_sw ? KVMDBG_STOP_SW_BREAK : KVMDBG_STOP_HW_BREAK;
        stop.type = serves_sw ? KVMDBG_BP_SOFTWARE : KVMDBG_BP_HARDWARE;
        stop.addr = hw->addr;
    } else if (auto* wp = std::get_if<x86::Watchpoint>(&event)) {
        stop.reason = KVMDBG_STOP_WATCH;
        stop.type = watch_type(wp->kind);
        stop.addr = wp->hit_addr;
        stop.len = wp->len;
    } else if (std::holds_alternative<x86::GuestDebugRegAccess>(event)) {
        lock.unlock();
        bool was_step = false;
        if (auto s = emulate_dr_access(vcpu, was_step); !s || !was_step) {
            return std::nullopt;
        }
        stop.reason = KVMDBG_STOP_STEP;
        std::lock_guard relock(mu_);
        vcpus_.at(vcpu.index()).step = false;
        return stop;
    } else if (auto* guest = std::get_if<x86::NotOurs>(&event)) {
        lock.unlock();
        (void)reflect(vcpu, guest->vector, guest->dr6);
        return std::nullopt;
    }
    st.step = false;
    st.last_stop = stop;
    // KVM keeps SINGLESTEP armed while the vCPU is parked: no push here. The
    // vCPU enters the guest again only through a resume, whose pre-run push
    // (prepare_resume) decides anew; a push without it costs ~8 us a stop here.
    return stop;
}

Status X86GuestDebug::read_memory(std::uint32_t cpu, std::uint64_t addr, std::span<std::uint8_t> out, bool physical) {
    Status s = ok_status();
    if (physical) {
        GuestMemory mem(vm_);
        s = mem.read(addr, out);
    } else {
        auto state = x86_vcpu_state(vm_, cpu);
        if (!state) {
            return state.error();
        }
        GuestMemory mem = x86_guest_memory(vm_, *state);
        s = mem.read(addr, out);
        if (s) {
            std::lock_guard lock(mu_);
            sw_.shadow_read(addr, out);
        }
    }
    return s;
}

Status X86GuestDebug::write_memory(std::uint32_t cpu, std::uint64_t addr, std::span<const std::uint8_t> in,
                                bool physical) {
    if (physical) {
        GuestMemory mem(vm_);
        return mem.write(addr, in);
    }
    auto state = x86_vcpu_state(vm_, cpu);
    if (!state) {
        return state.error();
    }
    GuestMemory mem = x86_guest_memory(vm_, *state);
    std::vector<std::uint8_t> buf(in.begin(), in.end());
    // Fail before touching the breakpoint table when the range is not mapped.
    if (auto probe = mem.read(addr, buf); !probe) {
        return probe;
    }
    std::copy(in.begin(), in.end(), buf.begin());
    std::lock_guard lock(mu_);
    sw_.note_debugger_write(addr, buf);
    return mem.write(addr, buf);
}

std::string X86GuestDebug::describe_breakpoints() const {
    std::lock_guard lock(mu_);
    char line[224];
    std::string out;
    std::snprintf(line, sizeof line, "software breakpoints: %zu in memory (int3)%s\n", sw_.size(),
                  host_.sw_breakpoints_intercepted ? "" : "; this host cannot intercept int3, gdb's are served by hardware slots");
    out += line;
    std::snprintf(line, sizeof line,
                  "continue from a hardware breakpoint: %s (RFLAGS.RF resumes: %llu, step-overs: %llu)\n",
                  rf_resume_ && host_.resume_flag ? "resume with RFLAGS.RF"
                  : rf_resume_ ? "resume with RFLAGS.RF (KVMDBG_X86_RF_RESUME=force; this host does not honour it)"
                  : host_.resume_flag ? "step-over (KVMDBG_X86_RF_RESUME forbids RFLAGS.RF)"
                                      : "step-over (this host does not honour RFLAGS.RF)",
                  static_cast<unsigned long long>(rf_resumes_), static_cast<unsigned long long>(hw_step_overs_));
    out += line;
    for (const auto& e : hw_) {
        auto access = access_of(e.type);
        const char* what = e.serves_sw ? "software breakpoint (hardware slot)"
                           : access    ? x86::debug_access_name(access.value())
                                       : "breakpoint";
        std::snprintf(line, sizeof line, "  %s at 0x%llx len %llu (inserted %u time%s)\n", what,
                      static_cast<unsigned long long>(e.addr), static_cast<unsigned long long>(e.len), e.refs,
                      e.refs == 1 ? "" : "s");
        out += line;
    }
    for (std::size_t cpu = 0; cpu < vcpus_.size(); ++cpu) {
        const auto& plan = vcpus_[cpu].plan;
        std::snprintf(line, sizeof line, "vCPU %zu debug registers (DR7=0x%llx):\n", cpu,
                      static_cast<unsigned long long>(plan.regs.dr7));
        out += line;
        for (unsigned n = 0; n < x86::kNumDebugRegs; ++n) {
            const auto& owner = plan.owners[n];
            switch (owner.kind) {
            case x86::SlotOwner::Kind::free:
                std::snprintf(line, sizeof line, "  DR%u free\n", n);
                break;
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
