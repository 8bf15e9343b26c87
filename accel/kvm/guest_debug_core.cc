#include "accel/kvm/guest_debug_core.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "accel/kvm/kvm_system.h"
#include "accel/kvm/kvm_vcpu.h"
#include "accel/kvm/kvm_vm.h"
#include "common/hex_string.h"
#include "common/ioctl_status.h"

namespace kvmdbg::accel::kvm {

namespace {

bool is_exec(std::uint32_t type) { return type == KVMDBG_BP_SOFTWARE || type == KVMDBG_BP_HARDWARE; }

KvmdbgDebugStop step_stop(std::uint64_t pc) {
    KvmdbgDebugStop stop{};
    stop.reason = KVMDBG_STOP_STEP;
    stop.pc = pc;
    return stop;
}

}  // namespace

void log_vcpu_failure(std::uint32_t cpu, const std::string& what, const Error& error) {
    std::fprintf(stderr, "kvmdbg: vCPU %u: %s: %s\n", cpu, what.c_str(), error.message.c_str());
}

std::vector<HwRequest> PlanInput::requests_for(std::uint32_t cpu) const {
    const bool skips = cpu < suppressed.size() && suppressed[cpu].has_value();
    const std::uint32_t skip = skips ? *suppressed[cpu] : 0;
    std::vector<HwRequest> out;
    for (const auto& r : requests) {
        if (!skips || skip != r.id) {
            out.push_back(r);
        }
    }
    return out;
}

Result<std::unique_ptr<GuestDebugCore>> GuestDebugCore::create(KvmVm& vm, std::unique_ptr<GuestDebugIsa> isa) {
    auto table = SwBreakpointTable::create(isa->breakpoint_instruction());
    if (!table) {
        return table.error();
    }
    return std::unique_ptr<GuestDebugCore>(new GuestDebugCore(vm, std::move(isa), std::move(*table)));
}

GuestDebugCore::GuestDebugCore(KvmVm& vm, std::unique_ptr<GuestDebugIsa> isa, SwBreakpointTable table)
    : vm_(vm), isa_(std::move(isa)), step_blocks_irq_(isa_->default_step_blocks_irq()), sw_(std::move(table)) {}

void GuestDebugCore::set_vcpu_count(std::uint32_t count) {
    std::lock_guard lock(mu_);
    vcpus_.assign(count, VcpuState{});
    plan_.suppressed.assign(count, std::nullopt);
    isa_->set_vcpu_count(count);
}

Status GuestDebugCore::set_step_blocks_irq(bool enable) {
    if (auto s = isa_->check_step_blocks_irq(enable); !s) {
        return s;
    }
    std::lock_guard lock(mu_);
    step_blocks_irq_ = enable;
    return ok_status();
}

bool GuestDebugCore::stepping(std::uint32_t cpu) const {
    std::lock_guard lock(mu_);
    return cpu < vcpus_.size() && (vcpus_[cpu].step || vcpus_[cpu].stepping_over);
}

// ---- requests

const HwRequest* GuestDebugCore::request_locked(std::uint32_t id) const {
    auto it = std::find_if(plan_.requests.begin(), plan_.requests.end(),
                           [id](const HwRequest& e) { return e.id == id; });
    return it == plan_.requests.end() ? nullptr : &*it;
}

std::uint64_t GuestDebugCore::effective_length(std::uint32_t type, std::uint64_t len) const {
    return is_exec(type) ? isa_->execute_length() : len;
}

Status GuestDebugCore::insert_hw(std::uint32_t type, std::uint64_t addr, std::uint64_t len, bool serves_sw) {
    const std::uint64_t eff_len = effective_length(type, len);
    // Reject what can never be encoded before touching any state.
    if (auto s = isa_->validate_request(type, addr, eff_len); !s) {
        return s;
    }
    HwRequest added;
    PlanInput input;
    {
        std::lock_guard lock(mu_);
        for (auto& e : plan_.requests) {
            if (e.type == type && e.addr == addr && e.len == eff_len && e.serves_sw == serves_sw) {
                ++e.refs;
                return ok_status();
            }
        }
        added = HwRequest{next_id_++, type, addr, eff_len, 1, serves_sw};
        plan_.requests.push_back(added);
        input = plan_;  // the hooks plan without the lock (they wait for vCPU threads)
    }
    if (auto s = isa_->plan_insert(added, input); !s) {
        std::lock_guard lock(mu_);
        std::erase_if(plan_.requests, [&](const HwRequest& e) { return e.id == added.id; });
        return s;
    }
    return push_all();
}

Status GuestDebugCore::remove_hw(std::uint32_t type, std::uint64_t addr, std::uint64_t len, bool serves_sw) {
    const std::uint64_t eff_len = effective_length(type, len);
    std::uint32_t id = 0;
    PlanInput input;
    {
        std::lock_guard lock(mu_);
        auto& requests = plan_.requests;
        auto it = std::find_if(requests.begin(), requests.end(), [&](const HwRequest& e) {
            return e.type == type && e.addr == addr && e.len == eff_len && e.serves_sw == serves_sw;
        });
        if (it == requests.end()) {
            return make_error(ENOENT, "no such breakpoint or watchpoint at " + hex_string(addr));
        }
        if (--it->refs > 0) {
            return ok_status();
        }
        id = it->id;
        for (auto& suppressed : plan_.suppressed) {
            if (suppressed == id) {
                suppressed.reset();  // a step-over in flight re-arms nothing
            }
        }
        requests.erase(it);
        input = plan_;
    }
    if (auto s = isa_->plan_remove(id, input); !s) {
        return s;
    }
    return push_all();
}

Status GuestDebugCore::insert_sw(std::uint64_t addr) {
    auto mem = isa_->guest_memory(0);
    if (!mem) {
        return mem.error();
    }
    {
        std::lock_guard lock(mu_);
        if (auto s = sw_.insert(addr, *mem); !s) {
            return s;
        }
    }
    return push_all();
}

Status GuestDebugCore::remove_sw(std::uint64_t addr) {
    auto mem = isa_->guest_memory(0);
    if (!mem) {
        return mem.error();
    }
    {
        std::lock_guard lock(mu_);
        if (sw_.refcount(addr) == 1) {
            for (auto& v : vcpus_) {
                if (v.suppressed_sw == addr) {
                    // Lifted for a step-over: memory already holds the original
                    // bytes, and the step-over's finish must not re-arm it.
                    v.suppressed_sw.reset();
                }
            }
        }
        if (auto s = sw_.remove(addr, *mem); !s) {
            return s;
        }
    }
    return push_all();
}

Status GuestDebugCore::insert(std::uint32_t type, std::uint64_t addr, std::uint64_t len) {
    if (type != KVMDBG_BP_SOFTWARE) {
        return insert_hw(type, addr, len, false);
    }
    if (auto s = isa_->check_breakpoint_address(addr); !s) {
        return s;
    }
    if (!isa_->sw_breakpoints_intercepted() && !isa_->plants_uncaught_breakpoint(addr)) {
        return insert_hw(KVMDBG_BP_HARDWARE, addr, len, true);
    }
    return insert_sw(addr);
}

Status GuestDebugCore::remove(std::uint32_t type, std::uint64_t addr, std::uint64_t len) {
    if (type != KVMDBG_BP_SOFTWARE) {
        return remove_hw(type, addr, len, false);
    }
    if (!isa_->sw_breakpoints_intercepted() && !in_memory(addr)) {
        return remove_hw(KVMDBG_BP_HARDWARE, addr, len, true);
    }
    return remove_sw(addr);
}

bool GuestDebugCore::in_memory(std::uint64_t addr) const {
    std::lock_guard lock(mu_);
    return sw_.contains(addr);
}

Status GuestDebugCore::remove_all() {
    Status first = ok_status();
    bool any_sw = false;
    {
        std::lock_guard lock(mu_);
        any_sw = sw_.size() != 0;
    }
    if (any_sw) {
        auto mem = isa_->guest_memory(0);
        if (!mem) {
            return mem.error();
        }
        std::lock_guard lock(mu_);
        first = sw_.remove_all(*mem);
    }
    {
        std::lock_guard lock(mu_);
        plan_.requests.clear();
        plan_.suppressed.assign(plan_.suppressed.size(), std::nullopt);
        isa_->plan_clear();
        for (auto& v : vcpus_) {
            v.suppressed_sw.reset();
            v.step = false;
            v.stepping_over = false;
        }
    }
    if (auto s = push_all(); !s) {
        return s;
    }
    return first;
}

// ---- the push

kvm_guest_debug GuestDebugCore::build_guest_debug_locked(std::uint32_t cpu) const {
    kvm_guest_debug dbg{};
    const VcpuState& st = vcpus_.at(cpu);
    const bool stepping = st.step || st.stepping_over;
    const std::uint32_t hw_bits = isa_->fill(cpu, plan_.suppressed.at(cpu), dbg);
    const bool any_sw = sw_.size() != 0;
    if (!stepping && hw_bits == 0 && !any_sw) {
        return kvm_guest_debug{};
    }
    dbg.control = KVM_GUESTDBG_ENABLE | hw_bits;
    if (stepping) {
        dbg.control |= KVM_GUESTDBG_SINGLESTEP | isa_->step_control(st.stepping_over, step_blocks_irq_);
    }
    if (any_sw) {
        dbg.control |= isa_->sw_breakpoint_control();
    }
    return dbg;
}

Status GuestDebugCore::push_on_vcpu(KvmVcpu& vcpu) {
    kvm_guest_debug dbg{};
    {
        std::lock_guard lock(mu_);
        dbg = build_guest_debug_locked(vcpu.index());
        // This vCPU's pushes all run on its own thread, one at a time:
        // `pushed` is what its kernel state holds. The same value again
        // without SINGLESTEP changes nothing in KVM (with SINGLESTEP it
        // re-arms the step at the current PC), so it is skipped.
        const auto& pushed = vcpus_.at(vcpu.index()).pushed;
        if ((dbg.control & KVM_GUESTDBG_SINGLESTEP) == 0 && pushed && std::memcmp(&*pushed, &dbg, sizeof dbg) == 0) {
            return ok_status();
        }
    }
    Status s = ioctl_status(xioctl(vcpu.fd(), isa_->set_guest_debug_request(), &dbg), "KVM_SET_GUEST_DEBUG");
    std::lock_guard lock(mu_);
    auto& pushed = vcpus_.at(vcpu.index()).pushed;
    if (s) {
        pushed = dbg;
    } else {
        pushed.reset();
    }
    return s;
}

void GuestDebugCore::push_or_log(KvmVcpu& vcpu, const char* after) {
    if (auto s = push_on_vcpu(vcpu); !s) {
        log_vcpu_failure(vcpu.index(), std::string("cannot load its guest-debug state after ") + after, s.error());
    }
}

Status GuestDebugCore::update(std::uint32_t cpu) {
    KvmVcpu* v = vm_.vcpu_at(cpu);
    if (v == nullptr) {
        return make_error(EINVAL, "no vCPU " + std::to_string(cpu));
    }
    return v->run_on_vcpu([this](KvmVcpu& self) { return push_on_vcpu(self); });
}

Status GuestDebugCore::push_all() {
    for (std::uint32_t i = 0; i < vm_.vcpu_count(); ++i) {
        if (auto s = update(i); !s) {
            return s;
        }
    }
    return ok_status();
}

// ---- memory

Status GuestDebugCore::read_memory(std::uint32_t cpu, std::uint64_t addr, std::span<std::uint8_t> out, bool physical) {
    if (physical) {
        GuestMemory mem(vm_);
        return mem.read(addr, out);
    }
    auto mem = isa_->guest_memory(cpu);
    if (!mem) {
        return mem.error();
    }
    if (auto s = mem->read(addr, out); !s) {
        return s;
    }
    std::lock_guard lock(mu_);
    sw_.shadow_read(addr, out);
    return ok_status();
}

Result<std::uint64_t> GuestDebugCore::translate(std::uint32_t cpu, std::uint64_t addr) {
    auto mem = isa_->guest_memory(cpu);
    if (!mem) {
        return mem.error();
    }
    if (auto gpa = mem->translate(addr)) {
        return *gpa;
    }
    return make_error(EFAULT, "virtual address " + hex_string(addr) + " is not mapped");
}

Status GuestDebugCore::write_memory(std::uint32_t cpu, std::uint64_t addr, std::span<const std::uint8_t> in,
                                    bool physical) {
    if (physical) {
        GuestMemory mem(vm_);
        return mem.write(addr, in);
    }
    auto mem = isa_->guest_memory(cpu);
    if (!mem) {
        return mem.error();
    }
    std::vector<std::uint8_t> buf(in.begin(), in.end());
    // Fail before touching the breakpoint table when the range is not mapped.
    if (auto probe = mem->read(addr, buf); !probe) {
        return probe;
    }
    std::copy(in.begin(), in.end(), buf.begin());
    std::lock_guard lock(mu_);
    sw_.note_debugger_write(addr, buf);
    return mem->write(addr, buf);
}

// ---- exits

std::optional<KvmdbgDebugStop> GuestDebugCore::stop_for_locked(const DebugExitOutcome& outcome) const {
    KvmdbgDebugStop stop{};
    stop.pc = outcome.pc;
    const HwRequest* request = request_locked(outcome.request_id);
    switch (outcome.kind) {
    case DebugExitOutcome::Kind::sw_breakpoint:
        stop.reason = KVMDBG_STOP_SW_BREAK;
        stop.type = KVMDBG_BP_SOFTWARE;
        stop.addr = outcome.addr;
        return stop;
    case DebugExitOutcome::Kind::hw_breakpoint: {
        const bool serves_sw = request != nullptr && request->serves_sw;
        stop.reason = serves_sw ? KVMDBG_STOP_SW_BREAK : KVMDBG_STOP_HW_BREAK;
        stop.type = serves_sw ? KVMDBG_BP_SOFTWARE : KVMDBG_BP_HARDWARE;
        stop.addr = outcome.addr;
        return stop;
    }
    case DebugExitOutcome::Kind::watchpoint:
        stop.reason = KVMDBG_STOP_WATCH;
        stop.type = outcome.watch_type != 0 ? outcome.watch_type
                    : request != nullptr    ? request->type
                                            : static_cast<std::uint32_t>(KVMDBG_WP_ACCESS);
        stop.addr = outcome.addr;
        stop.len = outcome.len;
        return stop;
    case DebugExitOutcome::Kind::unknown: return step_stop(outcome.pc);
    default: return std::nullopt;
    }
}

std::optional<KvmdbgDebugStop> GuestDebugCore::run_guest_event(KvmVcpu& vcpu, const DebugExitOutcome& outcome,
                                                               bool stepping) {
    Status reflected = outcome.action(vcpu);
    if (!reflected) {
        log_vcpu_failure(vcpu.index(), "cannot reflect the guest's " + outcome.what, reflected.error());
    }
    if (!outcome.stop_after_reflection || (reflected && !stepping)) {
        return std::nullopt;  // the guest's handler runs
    }
    // The debugger's step ended in the guest's exception entry (or the
    // event could not be reflected): stop where the vCPU now is.
    return step_finished(vcpu, isa_->current_pc(vcpu), nullptr, true);
}

std::optional<KvmdbgDebugStop> GuestDebugCore::run_handled(KvmVcpu& vcpu, const DebugExitOutcome& outcome) {
    auto completed = outcome.emulate(vcpu);
    if (!completed) {
        log_vcpu_failure(vcpu.index(), outcome.what, completed.error());
        return std::nullopt;
    }
    if (!*completed) {
        return std::nullopt;  // it raised a guest exception: the step goes on into the handler
    }
    push_or_log(vcpu, "an emulated instruction");
    std::lock_guard lock(mu_);
    VcpuState& st = vcpus_.at(vcpu.index());
    if (!st.step) {
        return std::nullopt;
    }
    // The emulated instruction was the debugger's step: reported at the
    // exit's PC, as before the emulation.
    st.step = false;
    return step_stop(outcome.pc);
}

std::optional<KvmdbgDebugStop> GuestDebugCore::on_debug_exit(KvmVcpu& vcpu) {
    std::unique_lock lock(mu_);
    VcpuState& st = vcpus_.at(vcpu.index());
    const bool stepping = st.step || st.stepping_over;
    const ExitContext ctx{stepping, [this](std::uint64_t pc) { return sw_.contains(pc); }, plan_};
    DebugExitOutcome outcome = isa_->classify(vcpu, ctx);

    switch (outcome.kind) {
    case DebugExitOutcome::Kind::step_done: lock.unlock(); return step_finished(vcpu, outcome.pc, &outcome, false);
    case DebugExitOutcome::Kind::guest_event: lock.unlock(); return run_guest_event(vcpu, outcome, stepping);
    case DebugExitOutcome::Kind::handled: lock.unlock(); return run_handled(vcpu, outcome);
    case DebugExitOutcome::Kind::unknown:
        std::fprintf(stderr, "kvmdbg: vCPU %u: %s; stopping it\n", vcpu.index(), outcome.what.c_str());
        break;
    default: break;
    }
    return report_stop(vcpu, lock, outcome);
}

std::optional<KvmdbgDebugStop> GuestDebugCore::on_uncaught_breakpoint(KvmVcpu& vcpu) {
    auto pc = isa_->uncaught_breakpoint_pc(vcpu);
    if (!pc) {
        return std::nullopt;
    }
    std::unique_lock lock(mu_);
    if (!sw_.contains(*pc)) {
        return std::nullopt;  // not the debugger's: a real failure, the backend's to report
    }
    DebugExitOutcome outcome;
    outcome.kind = DebugExitOutcome::Kind::sw_breakpoint;
    outcome.pc = *pc;
    outcome.addr = *pc;
    return report_stop(vcpu, lock, outcome);
}

std::optional<KvmdbgDebugStop> GuestDebugCore::report_stop(KvmVcpu& vcpu, std::unique_lock<std::mutex>& lock,
                                                           const DebugExitOutcome& outcome) {
    VcpuState& st = vcpus_.at(vcpu.index());
    auto stop = stop_for_locked(outcome);
    st.step = false;
    st.last_stop = stop;
    lock.unlock();
    if (auto s = isa_->undo_step_setup(vcpu); !s) {
        log_vcpu_failure(vcpu.index(), "after its stop", s.error());
    }
    // Where the ISA leaves it to the next resume, no push here: KVM keeps
    // SINGLESTEP armed while the vCPU is parked and the resume's pre-run
    // push decides anew (a push costs ~8 us a stop on some hosts).
    if (isa_->push_after_stop()) {
        push_or_log(vcpu, "a stop");
    }
    return stop;
}

std::string GuestDebugCore::describe_breakpoints() const {
    std::lock_guard lock(mu_);
    std::string out = "software breakpoints: " + std::to_string(sw_.size()) + " in memory (" +
                      isa_->breakpoint_instruction_name() + ")" + isa_->describe_sw_service() + "\n";
    out += isa_->describe_resume_policy(hw_step_overs_);
    for (const auto& e : plan_.requests) {
        char line[200];
        std::snprintf(line, sizeof line, "  %s at 0x%llx len %llu (inserted %u time%s)\n",
                      isa_->describe_request(e).c_str(), static_cast<unsigned long long>(e.addr),
                      static_cast<unsigned long long>(e.len), e.refs, e.refs == 1 ? "" : "s");
        out += line;
    }
    out += isa_->describe_slots();
    return out;
}

}  // namespace kvmdbg::accel::kvm
