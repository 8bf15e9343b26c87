#include "accel/kvm/arm64_guest_debug.h"

#include <linux/kvm.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <variant>

#include "accel/kvm/arm64_vcpu_state.h"
#include "accel/kvm/guest_memory.h"
#include "accel/kvm/kvm_system.h"
#include "accel/kvm/kvm_vcpu.h"
#include "accel/kvm/kvm_vm.h"
#include "arch/arm64/reflect.h"
#include "arch/arm64/regs_kvm.h"

namespace kvmdbg::accel::kvm {

namespace {

namespace a64 = arch::arm64;

// BRK #0 (ARM ARM C6.2 "BRK"): 0xd4200000, little-endian in memory.
constexpr std::uint8_t kBrk0[] = {0x00, 0x00, 0x20, 0xd4};
constexpr std::uint64_t kInsnLen = 4;

SwBreakpointTable make_brk_table() { return std::move(SwBreakpointTable::create(kBrk0)).value(); }

bool is_exec(std::uint32_t type) { return type == KVMDBG_BP_SOFTWARE || type == KVMDBG_BP_HARDWARE; }

Result<a64::DebugAccess> access_of(std::uint32_t type) {
    switch (type) {
    case KVMDBG_BP_SOFTWARE:
    case KVMDBG_BP_HARDWARE: return a64::DebugAccess::exec;
    case KVMDBG_WP_WRITE: return a64::DebugAccess::write;
    case KVMDBG_WP_READ: return a64::DebugAccess::read;
    case KVMDBG_WP_ACCESS: return a64::DebugAccess::access;
    default: return make_error(EINVAL, "unknown breakpoint type " + std::to_string(type));
    }
}

Status check(long rc, const char* what) {
    if (rc < 0) {
        return make_error(static_cast<int>(-rc), std::string(what) + " failed: " + std::strerror(static_cast<int>(-rc)));
    }
    return ok_status();
}

std::string hex(std::uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return buf;
}

KvmdbgDebugStop step_stop() {
    KvmdbgDebugStop stop{};
    stop.reason = KVMDBG_STOP_STEP;
    return stop;
}

}  // namespace

Arm64GuestDebug::Arm64GuestDebug(KvmVm& vm, Arm64GuestDebugHost host)
    : vm_(vm), host_(host), sw_(make_brk_table()), plan_(a64::make_debug_reg_plan(host.counts)) {}

void Arm64GuestDebug::set_vcpu_count(std::uint32_t count) {
    std::lock_guard lock(mu_);
    vcpus_.resize(count);
}

Status Arm64GuestDebug::set_step_blocks_irq(bool enable) {
    std::lock_guard lock(mu_);
    step_blocks_irq_ = enable;
    return ok_status();
}

bool Arm64GuestDebug::stepping(std::uint32_t cpu) const {
    std::lock_guard lock(mu_);
    return cpu < vcpus_.size() && (vcpus_[cpu].step || vcpus_[cpu].stepping_over);
}

std::uint64_t Arm64GuestDebug::reflected_events() const {
    std::lock_guard lock(mu_);
    return reflected_;
}

a64::DebugRegPlan Arm64GuestDebug::plan_for_locked(std::uint32_t cpu) const {
    a64::DebugRegPlan plan = plan_;
    if (cpu < vcpus_.size() && vcpus_[cpu].suppressed_hw) {
        a64::remove_debug_request(plan, *vcpus_[cpu].suppressed_hw);
    }
    return plan;
}

Status Arm64GuestDebug::push_on_vcpu(KvmVcpu& vcpu) {
    kvm_guest_debug dbg{};
    {
        std::lock_guard lock(mu_);
        const VcpuState& st = vcpus_.at(vcpu.index());
        bool stepping = st.step || st.stepping_over;
        a64::DebugRegPlan plan = plan_for_locked(vcpu.index());
        bool any_hw = a64::plan_uses_hw(plan);
        bool any_sw = sw_.size() != 0;
        if (stepping || any_hw || any_sw) {
            // ENABLE alone already routes the guest's own debug exceptions
            // to us (MDCR_EL2.TDE): they are reflected in on_debug_exit.
            dbg.control = KVM_GUESTDBG_ENABLE;
            if (stepping) {
                dbg.control |= KVM_GUESTDBG_SINGLESTEP;
            }
            if (any_sw) {
                dbg.control |= KVM_GUESTDBG_USE_SW_BP;
            }
            if (any_hw) {
                dbg.control |= KVM_GUESTDBG_USE_HW;
                for (unsigned n = 0; n < a64::kMaxDebugRegs; ++n) {
                    dbg.arch.dbg_bcr[n] = plan.regs.bcr[n];
                    dbg.arch.dbg_bvr[n] = plan.regs.bvr[n];
                    dbg.arch.dbg_wcr[n] = plan.regs.wcr[n];
                    dbg.arch.dbg_wvr[n] = plan.regs.wvr[n];
                }
            }
        }
    }
    return check(xioctl(vcpu.fd(), KVM_SET_GUEST_DEBUG, &dbg), "KVM_SET_GUEST_DEBUG");
}

Status Arm64GuestDebug::update(std::uint32_t cpu) {
    KvmVcpu* v = vm_.vcpu_at(cpu);
    if (v == nullptr) {
        return make_error(EINVAL, "no vCPU " + std::to_string(cpu));
    }
    return v->run_on_vcpu([this](KvmVcpu& self) { return push_on_vcpu(self); });
}

Status Arm64GuestDebug::push_all() {
    for (std::uint32_t i = 0; i < vm_.vcpu_count(); ++i) {
        if (auto s = update(i); !s) {
            return s;
        }
    }
    return ok_status();
}

Status Arm64GuestDebug::insert_hw(std::uint32_t type, std::uint64_t addr, std::uint64_t len, bool serves_sw) {
    auto access = access_of(type);
    if (!access) {
        return access.error();
    }
    std::uint64_t eff_len = is_exec(type) ? kInsnLen : len;
    {
        std::lock_guard lock(mu_);
        for (auto& e : hw_) {
            if (e.type == type && e.addr == addr && e.len == eff_len && e.serves_sw == serves_sw) {
                ++e.refs;
                return ok_status();
            }
        }
        std::uint32_t id = next_id_++;
        auto placed = a64::place_debug_request(plan_, id, a64::DebugRequest{*access, addr, eff_len});
        if (!placed) {
            if (serves_sw) {
                return make_error(placed.error().code,
                                  "software breakpoint (served by a hardware breakpoint register: this host's KVM "
                                  "has no KVM_GUESTDBG_USE_SW_BP): " + placed.error().message);
            }
            return placed.error();
        }
        hw_.push_back(HwEntry{id, type, addr, eff_len, 1, serves_sw});
    }
    return push_all();
}

Status Arm64GuestDebug::remove_hw(std::uint32_t type, std::uint64_t addr, std::uint64_t len, bool serves_sw) {
    std::uint64_t eff_len = is_exec(type) ? kInsnLen : len;
    {
        std::lock_guard lock(mu_);
        auto it = std::find_if(hw_.begin(), hw_.end(), [&](const HwEntry& e) {
            return e.type == type && e.addr == addr && e.len == eff_len && e.serves_sw == serves_sw;
        });
        if (it == hw_.end()) {
            return make_error(ENOENT, "no such breakpoint or watchpoint at " + hex(addr));
        }
        if (--it->refs > 0) {
            return ok_status();
        }
        a64::remove_debug_request(plan_, it->id);
        for (auto& v : vcpus_) {
            if (v.suppressed_hw == it->id) {
                v.suppressed_hw.reset();
            }
        }
        hw_.erase(it);
    }
    return push_all();
}

Status Arm64GuestDebug::insert(std::uint32_t type, std::uint64_t addr, std::uint64_t len) {
    if (type != KVMDBG_BP_SOFTWARE) {
        return insert_hw(type, addr, len, false);
    }
    if ((addr & (kInsnLen - 1)) != 0) {
        return make_error(EINVAL, "breakpoint address " + hex(addr) + " is not 4-byte aligned: A64 instructions are");
    }
    if (!host_.sw_breakpoints_intercepted) {
        return insert_hw(KVMDBG_BP_HARDWARE, addr, kInsnLen, true);
    }
    auto state = arm64_vcpu_state(vm_, 0);
    if (!state) {
        return state.error();
    }
    GuestMemory mem = arm64_guest_memory(vm_, *state);
    {
        std::lock_guard lock(mu_);
        if (auto s = sw_.insert(addr, mem); !s) {
            return s;
        }
    }
    return push_all();
}

Status Arm64GuestDebug::remove(std::uint32_t type, std::uint64_t addr, std::uint64_t len) {
    if (type != KVMDBG_BP_SOFTWARE) {
        return remove_hw(type, addr, len, false);
    }
    if (!host_.sw_breakpoints_intercepted) {
        return remove_hw(KVMDBG_BP_HARDWARE, addr, kInsnLen, true);
    }
    auto state = arm64_vcpu_state(vm_, 0);
    if (!state) {
        return state.error();
    }
    GuestMemory mem = arm64_guest_memory(vm_, *state);
    {
        std::lock_guard lock(mu_);
        for (auto& v : vcpus_) {
            if (v.suppressed_sw == addr && sw_.refcount(addr) == 1) {
                v.suppressed_sw.reset();  // lifted for a step-over: memory already holds the original
            }
        }
        if (auto s = sw_.remove(addr, mem); !s) {
            return s;
        }
    }
    return push_all();
}

Status Arm64GuestDebug::remove_all() {
    Status first = ok_status();
    if (sw_.size() != 0) {
        auto state = arm64_vcpu_state(vm_, 0);
        if (!state) {
            return state.error();
        }
        GuestMemory mem = arm64_guest_memory(vm_, *state);
        std::lock_guard lock(mu_);
        first = sw_.remove_all(mem);
    }
    {
        std::lock_guard lock(mu_);
        hw_.clear();
        plan_ = a64::make_debug_reg_plan(host_.counts);
        for (auto& v : vcpus_) {
            v.suppressed_hw.reset();
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

Status Arm64GuestDebug::mask_daif_for_step(KvmVcpu& vcpu) {
    KvmdbgArm64State st{};
    if (auto s = load_arm64_state(vcpu.fd(), st); !s) {
        return s;
    }
    std::optional<std::uint32_t> insn;
    std::uint8_t bytes[kInsnLen] = {};
    GuestMemory mem = arm64_guest_memory(vm_, st);
    if (mem.read(st.pc, bytes)) {
        {
            std::lock_guard lock(mu_);
            sw_.shadow_read(st.pc, bytes);  // the original instruction, not our BRK
        }
        std::uint32_t word = 0;
        std::memcpy(&word, bytes, sizeof word);
        insn = word;
    }
    a64::StepDaifPlan plan = a64::plan_step_daif(st.pstate, st.pc, st.vbar_el1, insn);
    if (auto s = set_one_reg(vcpu.fd(), a64::reg_id::pstate(), plan.step_pstate, "pstate"); !s) {
        return s;
    }
    std::lock_guard lock(mu_);
    vcpus_.at(vcpu.index()).daif = plan;
    return ok_status();
}

void Arm64GuestDebug::restore_daif(KvmVcpu& vcpu) {
    std::optional<a64::StepDaifPlan> plan;
    {
        std::lock_guard lock(mu_);
        plan.swap(vcpus_.at(vcpu.index()).daif);
    }
    if (!plan) {
        return;
    }
    auto pstate = get_one_reg(vcpu.fd(), a64::reg_id::pstate(), "pstate");
    auto pc = get_one_reg(vcpu.fd(), a64::reg_id::pc(), "pc");
    auto spsr = get_one_reg(vcpu.fd(), a64::reg_id::spsr_el1(), "spsr_el1");
    if (!pstate || !pc || !spsr) {
        return;
    }
    a64::StepDaifRestore r = a64::restore_step_daif(*plan, *pstate, *pc, *spsr);
    (void)set_one_reg(vcpu.fd(), a64::reg_id::pstate(), r.pstate, "pstate");
    if (r.spsr_el1) {
        (void)set_one_reg(vcpu.fd(), a64::reg_id::spsr_el1(), *r.spsr_el1, "spsr_el1");
    }
}

Result<GuestDebug::PreRunJob> Arm64GuestDebug::prepare_resume(std::uint32_t cpu, bool single_step) {
    KvmVcpu* v = vm_.vcpu_at(cpu);
    if (v == nullptr) {
        return make_error(EINVAL, "no vCPU " + std::to_string(cpu));
    }
    std::optional<std::uint64_t> lift_sw;
    bool mask = false;
    {
        std::lock_guard lock(mu_);
        VcpuState& st = vcpus_.at(cpu);
        st.step = single_step;
        std::optional<KvmdbgDebugStop> at = st.last_stop;
        st.last_stop.reset();
        if (at && (at->reason == KVMDBG_STOP_SW_BREAK || at->reason == KVMDBG_STOP_HW_BREAK)) {
            // Step over the breakpoint this vCPU sits on, with only that one lifted.
            bool lift_hw = false;
            if (sw_.contains(at->addr)) {
                lift_sw = at->addr;
            } else {
                for (const auto& e : hw_) {
                    if (e.addr == at->addr && is_exec(e.type)) {
                        st.suppressed_hw = e.id;
                        lift_hw = true;
                        break;
                    }
                }
            }
            st.stepping_over = lift_sw.has_value() || lift_hw;
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
        // A continue's internal step-over always keeps interrupts out: the
        // breakpoint must be re-armed at once. A normal run never touches DAIF.
        mask = st.stepping_over || (st.step && step_blocks_irq_);
    }
    if (lift_sw) {
        auto state = arm64_vcpu_state(vm_, cpu);
        if (!state) {
            return state.error();
        }
        GuestMemory mem = arm64_guest_memory(vm_, *state);
        if (auto saved = sw_.saved_bytes(*lift_sw)) {
            // The original instruction goes back for one step; finish_step_over re-arms it.
            if (auto s = mem.write(*lift_sw, *saved); !s) {
                return s.error();
            }
            std::lock_guard lock(mu_);
            vcpus_.at(cpu).suppressed_sw = lift_sw;
        }
    }
    // Run by the vCPU's thread right before KVM_RUN (KvmVcpu::resume).
    return PreRunJob([this, mask](KvmVcpu& self) -> Status {
        if (mask) {
            if (auto s = mask_daif_for_step(self); !s) {
                return s;
            }
        }
        return push_on_vcpu(self);
    });
}

std::optional<KvmdbgDebugStop> Arm64GuestDebug::finish_step_over(KvmVcpu& vcpu, VcpuState& st) {
    // mu_ held; on the vCPU's thread (the state read runs inline).
    if (st.suppressed_sw) {
        auto state = arm64_vcpu_state(vm_, vcpu.index());
        if (state && sw_.contains(*st.suppressed_sw)) {
            GuestMemory mem = arm64_guest_memory(vm_, *state);
            (void)mem.write(*st.suppressed_sw, kBrk0);
        }
        st.suppressed_sw.reset();
    }
    st.suppressed_hw.reset();
    st.stepping_over = false;
    if (st.continue_after_step_over) {
        return std::nullopt;
    }
    return step_stop();
}

std::optional<KvmdbgDebugStop> Arm64GuestDebug::step_finished(KvmVcpu& vcpu, std::uint64_t pc) {
    restore_daif(vcpu);
    std::unique_lock lock(mu_);
    VcpuState& st = vcpus_.at(vcpu.index());
    std::optional<KvmdbgDebugStop> stop;
    if (st.stepping_over) {
        stop = finish_step_over(vcpu, st);
    } else {
        st.step = false;
        stop = step_stop();
    }
    if (stop) {
        stop->pc = pc;
        st.last_stop = stop;
    }
    lock.unlock();
    (void)push_on_vcpu(vcpu);
    return stop;
}

std::optional<KvmdbgDebugStop> Arm64GuestDebug::on_step_completed(KvmVcpu& vcpu) {
    auto pc = get_one_reg(vcpu.fd(), a64::reg_id::pc(), "pc");
    return step_finished(vcpu, pc ? *pc : 0);
}

Status Arm64GuestDebug::reflect(KvmVcpu& vcpu, const a64::DecodedDebugExit& event) {
    const int fd = vcpu.fd();
    a64::ReflectInput in;
    in.event = event;
    auto pstate = get_one_reg(fd, a64::reg_id::pstate(), "pstate");
    auto pc = get_one_reg(fd, a64::reg_id::pc(), "pc");
    auto vbar = get_one_reg(fd, a64::reg_id::vbar_el1(), "vbar_el1");
    auto sctlr = get_one_reg(fd, a64::reg_id::sctlr_el1(), "sctlr_el1");
    for (const auto* r : {&pstate, &pc, &vbar, &sctlr}) {
        if (!*r) {
            return r->error();
        }
    }
    in.pstate = *pstate;
    in.pc = *pc;
    in.vbar_el1 = *vbar;
    in.sctlr_el1 = *sctlr;
    // The guest CPU's features that change PSTATE on exception entry
    // (ID_AA64MMFR1_EL1.PAN [23:20], ID_AA64MMFR2_EL1.UAO [7:4],
    // ID_AA64PFR1_EL1.SSBS [7:4] and .MTE [11:8]; MTE >= 2 has TCO).
    if (auto v = get_one_reg(fd, a64::reg_id::id_aa64mmfr1_el1(), "id_aa64mmfr1_el1")) {
        in.features.pan = ((*v >> 20) & 0xf) != 0;
    }
    if (auto v = get_one_reg(fd, a64::reg_id::id_aa64mmfr2_el1(), "id_aa64mmfr2_el1")) {
        in.features.uao = ((*v >> 4) & 0xf) != 0;
    }
    if (auto v = get_one_reg(fd, a64::reg_id::id_aa64pfr1_el1(), "id_aa64pfr1_el1")) {
        in.features.ssbs = ((*v >> 4) & 0xf) != 0;
        in.features.mte = ((*v >> 8) & 0xf) >= 2;
    }
    auto plan = a64::plan_reflection(in);
    if (!plan) {
        return plan.error();
    }
    struct Write {
        std::uint64_t id;
        std::uint64_t value;
        const char* name;
    };
    const Write writes[] = {
        {a64::reg_id::esr_el1(), plan->esr_el1, "esr_el1"},
        {a64::reg_id::elr_el1(), plan->elr_el1, "elr_el1"},
        {a64::reg_id::spsr_el1(), plan->spsr_el1, "spsr_el1"},
        {a64::reg_id::pstate(), plan->pstate, "pstate"},
        {a64::reg_id::pc(), plan->pc, "pc"},
    };
    if (plan->writes_far) {
        if (auto s = set_one_reg(fd, a64::reg_id::far_el1(), plan->far_el1, "far_el1"); !s) {
            return s;
        }
    }
    for (const auto& w : writes) {
        if (auto s = set_one_reg(fd, w.id, w.value, w.name); !s) {
            return s;
        }
    }
    std::lock_guard lock(mu_);
    ++reflected_;
    return ok_status();
}

std::uint32_t Arm64GuestDebug::stop_type_of(std::uint32_t request_id) const {
    for (const auto& e : hw_) {
        if (e.id == request_id) {
            return e.type;
        }
    }
    return KVMDBG_WP_ACCESS;
}

std::optional<KvmdbgDebugStop> Arm64GuestDebug::on_debug_exit(KvmVcpu& vcpu) {
    const kvm_run& run = *vcpu.run();
    a64::DebugExitInfo info;
    info.hsr = run.debug.arch.hsr;
    info.hsr_high = run.debug.arch.hsr_high;
    info.far = run.debug.arch.far;
    auto pc = get_one_reg(vcpu.fd(), a64::reg_id::pc(), "pc");
    info.pc = pc ? *pc : 0;

    std::unique_lock lock(mu_);
    VcpuState& st = vcpus_.at(vcpu.index());
    const bool stepping = st.step || st.stepping_over;
    info.debugger_stepping = stepping;
    info.sw_breakpoint_at_pc = sw_.contains(info.pc);
    a64::DebugEvent event = a64::classify_debug_exit(info, plan_for_locked(vcpu.index()));

    KvmdbgDebugStop stop{};
    stop.pc = info.pc;
    if (std::holds_alternative<a64::StepDone>(event)) {
        lock.unlock();
        return step_finished(vcpu, info.pc);
    }
    if (auto* sw = std::get_if<a64::SoftwareBreakpoint>(&event)) {
        stop.reason = KVMDBG_STOP_SW_BREAK;
        stop.type = KVMDBG_BP_SOFTWARE;
        stop.addr = sw->addr;
    } else if (auto* hw = std::get_if<a64::HardwareBreakpoint>(&event)) {
        bool serves_sw = false;
        for (const auto& e : hw_) {
            serves_sw = serves_sw || (e.id == hw->request_id && e.serves_sw);
        }
        stop.reason = serves_sw ? KVMDBG_STOP_SW_BREAK : KVMDBG_STOP_HW_BREAK;
        stop.type = serves_sw ? KVMDBG_BP_SOFTWARE : KVMDBG_BP_HARDWARE;
        stop.addr = hw->addr;
    } else if (auto* wp = std::get_if<a64::Watchpoint>(&event)) {
        stop.reason = KVMDBG_STOP_WATCH;
        stop.type = stop_type_of(wp->request_id);
        stop.addr = wp->hit_addr;
        stop.len = wp->len;
    } else if (auto* guest = std::get_if<a64::NotOurs>(&event)) {
        lock.unlock();
        Status reflected = reflect(vcpu, guest->exception);
        if (!reflected) {
            std::fprintf(stderr, "kvmdbg: vCPU %u: cannot reflect the guest's %s: %s\n", vcpu.index(),
                         guest->exception.description.c_str(), reflected.error().message.c_str());
        } else if (!stepping) {
            return std::nullopt;  // the guest's handler runs
        }
        // The debugger's step ended in the guest's exception entry (or the
        // event could not be reflected): stop where the vCPU now is.
        auto now = get_one_reg(vcpu.fd(), a64::reg_id::pc(), "pc");
        return step_finished(vcpu, now ? *now : info.pc);
    } else if (auto* unknown = std::get_if<a64::UnknownDebugExit>(&event)) {
        std::fprintf(stderr, "kvmdbg: vCPU %u: %s; stopping it\n", vcpu.index(),
                     unknown->exception.description.c_str());
        stop = step_stop();
        stop.pc = info.pc;
    }
    st.step = false;
    st.last_stop = stop;
    lock.unlock();
    restore_daif(vcpu);
    (void)push_on_vcpu(vcpu);  // drop SINGLESTEP: the next resume decides again
    return stop;
}

Status Arm64GuestDebug::read_memory(std::uint32_t cpu, std::uint64_t addr, std::span<std::uint8_t> out,
                                    bool physical) {
    if (physical) {
        GuestMemory mem(vm_);
        return mem.read(addr, out);
    }
    auto state = arm64_vcpu_state(vm_, cpu);
    if (!state) {
        return state.error();
    }
    GuestMemory mem = arm64_guest_memory(vm_, *state);
    if (auto s = mem.read(addr, out); !s) {
        return s;
    }
    std::lock_guard lock(mu_);
    sw_.shadow_read(addr, out);
    return ok_status();
}

Status Arm64GuestDebug::write_memory(std::uint32_t cpu, std::uint64_t addr, std::span<const std::uint8_t> in,
                                     bool physical) {
    if (physical) {
        GuestMemory mem(vm_);
        return mem.write(addr, in);
    }
    auto state = arm64_vcpu_state(vm_, cpu);
    if (!state) {
        return state.error();
    }
    GuestMemory mem = arm64_guest_memory(vm_, *state);
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

std::string Arm64GuestDebug::describe_breakpoints() const {
    std::lock_guard lock(mu_);
    char line[200];
    std::string out;
    std::snprintf(line, sizeof line, "software breakpoints: %zu in memory (BRK #0)%s\n", sw_.size(),
                  host_.sw_breakpoints_intercepted ? "" : "; this host has no KVM_GUESTDBG_USE_SW_BP, gdb's are served by breakpoint registers");
    out += line;
    for (const auto& e : hw_) {
        auto access = access_of(e.type);
        const char* what = e.serves_sw ? "software breakpoint (breakpoint register)"
                           : access    ? a64::debug_access_name(access.value())
                                       : "breakpoint";
        std::snprintf(line, sizeof line, "  %s at 0x%llx len %llu (inserted %u time%s)\n", what,
                      static_cast<unsigned long long>(e.addr), static_cast<unsigned long long>(e.len), e.refs,
                      e.refs == 1 ? "" : "s");
        out += line;
    }
    std::snprintf(line, sizeof line, "breakpoint registers (%u, KVM_CAP_GUEST_DEBUG_HW_BPS):\n",
                  plan_.counts.breakpoints);
    out += line;
    for (unsigned n = 0; n < plan_.counts.breakpoints; ++n) {
        if (!plan_.breakpoints[n].used) {
            std::snprintf(line, sizeof line, "  DBGBVR%u free\n", n);
        } else {
            std::snprintf(line, sizeof line, "  DBGBVR%u=0x%llx DBGBCR%u=0x%llx\n", n,
                          static_cast<unsigned long long>(plan_.regs.bvr[n]), n,
                          static_cast<unsigned long long>(plan_.regs.bcr[n]));
        }
        out += line;
    }
    std::snprintf(line, sizeof line, "watchpoint registers (%u, KVM_CAP_GUEST_DEBUG_HW_WPS):\n",
                  plan_.counts.watchpoints);
    out += line;
    for (unsigned n = 0; n < plan_.counts.watchpoints; ++n) {
        const auto& o = plan_.watchpoints[n];
        if (!o.used) {
            std::snprintf(line, sizeof line, "  DBGWVR%u free\n", n);
        } else {
            std::snprintf(line, sizeof line, "  DBGWVR%u=0x%llx DBGWCR%u=0x%llx: %s of [0x%llx, +%llu)\n", n,
                          static_cast<unsigned long long>(plan_.regs.wvr[n]), n,
                          static_cast<unsigned long long>(plan_.regs.wcr[n]), a64::debug_access_name(o.request.kind),
                          static_cast<unsigned long long>(o.piece_addr), static_cast<unsigned long long>(o.piece_len));
        }
        out += line;
    }
    std::snprintf(line, sizeof line, "guest debug events reflected into the guest: %llu\n",
                  static_cast<unsigned long long>(reflected_));
    out += line;
    return out;
}

}  // namespace kvmdbg::accel::kvm
