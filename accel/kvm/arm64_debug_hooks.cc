#include "accel/kvm/arm64_debug_hooks.h"

#include <linux/kvm.h>

#include <cstdio>
#include <cstring>
#include <variant>

#include "accel/kvm/arm64_vcpu_state.h"
#include "accel/kvm/kvm_vcpu.h"
#include "accel/kvm/kvm_vm.h"
#include "accel/kvm/one_reg.h"
#include "accel/plugin_abi.h"
#include "arch/arm64/reflect.h"
#include "arch/arm64/regs_kvm.h"
#include "common/hex_string.h"

namespace kvmdbg::accel::kvm {

namespace {

namespace a64 = arch::arm64;

// BRK #0 (ARM ARM C6.2 "BRK"): 0xd4200000, little-endian in memory.
constexpr std::uint8_t kBrk0[] = {0x00, 0x00, 0x20, 0xd4};
constexpr std::uint64_t kInsnLen = 4;

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

}  // namespace

Arm64DebugHooks::Arm64DebugHooks(KvmVm& vm, Arm64DebugHost host)
    : vm_(vm), host_(host), plan_(a64::make_debug_reg_plan(host.counts)) {}

std::span<const std::uint8_t> Arm64DebugHooks::breakpoint_instruction() const { return kBrk0; }

Status Arm64DebugHooks::check_breakpoint_address(std::uint64_t addr) const {
    if ((addr & (kInsnLen - 1)) != 0) {
        return make_error(EINVAL,
                          "breakpoint address " + hex_string(addr) + " is not 4-byte aligned: A64 instructions are");
    }
    return ok_status();
}

void Arm64DebugHooks::set_vcpu_count(std::uint32_t count) {
    std::lock_guard lock(mu_);
    daif_.resize(count);
}

Result<GuestMemory> Arm64DebugHooks::guest_memory(std::uint32_t cpu) {
    auto state = arm64_vcpu_state(vm_, cpu);
    if (!state) {
        return state.error();
    }
    return arm64_guest_memory(vm_, *state);
}

std::uint64_t Arm64DebugHooks::current_pc(KvmVcpu& vcpu) {
    auto pc = read_one_reg(vcpu.fd(), a64::reg_id::pc(), "pc");
    return pc ? *pc : 0;
}

// ---- slot planning: one global plan

Status Arm64DebugHooks::validate_request(std::uint32_t type, std::uint64_t, std::uint64_t) const {
    auto access = access_of(type);
    return access ? ok_status() : Status(access.error());
}

Status Arm64DebugHooks::plan_insert(const HwRequest& added, const PlanInput&) {
    auto access = access_of(added.type);
    if (!access) {
        return access.error();
    }
    std::lock_guard lock(mu_);
    auto placed = a64::place_debug_request(plan_, added.id, a64::DebugRequest{*access, added.addr, added.len});
    if (!placed) {
        if (added.serves_sw) {
            return make_error(placed.error().code,
                              "software breakpoint (served by a hardware breakpoint register: this host's KVM "
                              "has no KVM_GUESTDBG_USE_SW_BP): " +
                                  placed.error().message);
        }
        return placed.error();
    }
    return ok_status();
}

Status Arm64DebugHooks::plan_remove(std::uint32_t id, const PlanInput&) {
    std::lock_guard lock(mu_);
    a64::remove_debug_request(plan_, id);
    return ok_status();
}

void Arm64DebugHooks::plan_clear() {
    std::lock_guard lock(mu_);
    plan_ = a64::make_debug_reg_plan(host_.counts);
}

std::uint32_t Arm64DebugHooks::fill(std::uint32_t, std::optional<std::uint32_t> suppressed,
                                    kvm_guest_debug& dbg) const {
    std::lock_guard lock(mu_);
    a64::DebugRegPlan plan = plan_;
    if (suppressed) {
        a64::remove_debug_request(plan, *suppressed);
    }
    if (!a64::plan_uses_hw(plan)) {
        return 0;
    }
    for (unsigned n = 0; n < a64::kMaxDebugRegs; ++n) {
        dbg.arch.dbg_bcr[n] = plan.regs.bcr[n];
        dbg.arch.dbg_bvr[n] = plan.regs.bvr[n];
        dbg.arch.dbg_wcr[n] = plan.regs.wcr[n];
        dbg.arch.dbg_wvr[n] = plan.regs.wvr[n];
    }
    // ENABLE alone already routes the guest's own debug exceptions to us
    // (MDCR_EL2.TDE): they are reflected (classify).
    return KVM_GUESTDBG_USE_HW;
}

// ---- step quirks: DAIF

Status Arm64DebugHooks::before_run(KvmVcpu& vcpu, const RunSetup& setup) {
    // A continue's internal step-over always keeps interrupts out: the
    // breakpoint must be re-armed at once. A normal run never touches DAIF.
    if (setup.step_over || (setup.debugger_step && setup.step_blocks_irq)) {
        return mask_daif_for_step(vcpu, setup);
    }
    return ok_status();
}

Status Arm64DebugHooks::mask_daif_for_step(KvmVcpu& vcpu, const RunSetup& setup) {
    KvmdbgArm64State st{};
    if (auto s = load_arm64_state(vcpu.fd(), st); !s) {
        return s;
    }
    std::optional<std::uint32_t> insn;
    std::uint8_t bytes[kInsnLen] = {};
    GuestMemory mem = arm64_guest_memory(vm_, st);
    if (mem.read(st.pc, bytes)) {
        if (setup.show_original) {
            setup.show_original(st.pc, bytes);  // the original instruction, not our BRK
        }
        std::uint32_t word = 0;
        std::memcpy(&word, bytes, sizeof word);
        insn = word;
    }
    a64::StepDaifPlan plan = a64::plan_step_daif(st.pstate, st.pc, st.vbar_el1, insn);
    if (auto s = write_one_reg(vcpu.fd(), a64::reg_id::pstate(), plan.step_pstate, "pstate"); !s) {
        return s;
    }
    std::lock_guard lock(mu_);
    daif_.at(vcpu.index()) = plan;
    return ok_status();
}

Status Arm64DebugHooks::undo_step_setup(KvmVcpu& vcpu) {
    std::optional<a64::StepDaifPlan> plan;
    {
        std::lock_guard lock(mu_);
        plan.swap(daif_.at(vcpu.index()));
    }
    if (!plan) {
        return ok_status();
    }
    auto pstate = read_one_reg(vcpu.fd(), a64::reg_id::pstate(), "pstate");
    auto pc = read_one_reg(vcpu.fd(), a64::reg_id::pc(), "pc");
    auto spsr = read_one_reg(vcpu.fd(), a64::reg_id::spsr_el1(), "spsr_el1");
    for (const auto* r : {&pstate, &pc, &spsr}) {
        if (!*r) {
            return make_error(r->error().code, "cannot restore PSTATE.DAIF after the step: " + r->error().message);
        }
    }
    a64::StepDaifRestore r = a64::restore_step_daif(*plan, *pstate, *pc, *spsr);
    if (auto s = write_one_reg(vcpu.fd(), a64::reg_id::pstate(), r.pstate, "pstate"); !s) {
        return make_error(s.error().code, "cannot restore PSTATE.DAIF after the step: " + s.error().message);
    }
    if (r.spsr_el1) {
        if (auto s = write_one_reg(vcpu.fd(), a64::reg_id::spsr_el1(), *r.spsr_el1, "spsr_el1"); !s) {
            return make_error(s.error().code, "cannot restore SPSR_EL1.DAIF after the step: " + s.error().message);
        }
    }
    return ok_status();
}

// ---- exits

DebugExitOutcome Arm64DebugHooks::classify(KvmVcpu& vcpu, const ExitContext& ctx) {
    const kvm_run& run = *vcpu.run();
    a64::DebugExitInfo info;
    info.hsr = run.debug.arch.hsr;
    info.hsr_high = run.debug.arch.hsr_high;
    info.far = run.debug.arch.far;
    info.pc = current_pc(vcpu);
    info.debugger_stepping = ctx.debugger_stepping;
    info.sw_breakpoint_at_pc = ctx.sw_breakpoint_at(info.pc);
    a64::DebugEvent event;
    {
        std::lock_guard lock(mu_);
        a64::DebugRegPlan plan = plan_;
        const auto& suppressed = ctx.plan.suppressed;
        if (vcpu.index() < suppressed.size() && suppressed[vcpu.index()]) {
            a64::remove_debug_request(plan, *suppressed[vcpu.index()]);
        }
        event = a64::classify_debug_exit(info, plan);
    }
    return outcome_of(event, info.pc);
}

DebugExitOutcome Arm64DebugHooks::outcome_of(const a64::DebugEvent& event, std::uint64_t pc) {
    using Kind = DebugExitOutcome::Kind;
    DebugExitOutcome out;
    out.pc = pc;
    if (std::holds_alternative<a64::StepDone>(event)) {
        out.kind = Kind::step_done;
    } else if (const auto* sw = std::get_if<a64::SoftwareBreakpoint>(&event)) {
        out.kind = Kind::sw_breakpoint;
        out.addr = sw->addr;
    } else if (const auto* hw = std::get_if<a64::HardwareBreakpoint>(&event)) {
        out.kind = Kind::hw_breakpoint;
        out.request_id = hw->request_id;
        out.addr = hw->addr;
    } else if (const auto* wp = std::get_if<a64::Watchpoint>(&event)) {
        out.kind = Kind::watchpoint;
        out.request_id = wp->request_id;  // the core reports the request's type
        out.addr = wp->hit_addr;
        out.len = wp->len;
    } else if (const auto* guest = std::get_if<a64::NotOurs>(&event)) {
        out.kind = Kind::guest_event;
        out.what = guest->exception.description;
        out.stop_after_reflection = true;
        out.action = [this, exception = guest->exception](KvmVcpu& self) { return reflect(self, exception); };
    } else if (const auto* unknown = std::get_if<a64::UnknownDebugExit>(&event)) {
        out.kind = Kind::unknown;
        out.what = unknown->exception.description;
    }
    return out;
}

Status Arm64DebugHooks::reflect(KvmVcpu& vcpu, const a64::DecodedDebugExit& event) {
    const int fd = vcpu.fd();
    a64::ReflectInput in;
    in.event = event;
    auto pstate = read_one_reg(fd, a64::reg_id::pstate(), "pstate");
    auto pc = read_one_reg(fd, a64::reg_id::pc(), "pc");
    auto vbar = read_one_reg(fd, a64::reg_id::vbar_el1(), "vbar_el1");
    auto sctlr = read_one_reg(fd, a64::reg_id::sctlr_el1(), "sctlr_el1");
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
    if (auto v = read_one_reg(fd, a64::reg_id::id_aa64mmfr1_el1(), "id_aa64mmfr1_el1")) {
        in.features.pan = ((*v >> 20) & 0xf) != 0;
    }
    if (auto v = read_one_reg(fd, a64::reg_id::id_aa64mmfr2_el1(), "id_aa64mmfr2_el1")) {
        in.features.uao = ((*v >> 4) & 0xf) != 0;
    }
    if (auto v = read_one_reg(fd, a64::reg_id::id_aa64pfr1_el1(), "id_aa64pfr1_el1")) {
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
        if (auto s = write_one_reg(fd, a64::reg_id::far_el1(), plan->far_el1, "far_el1"); !s) {
            return s;
        }
    }
    for (const auto& w : writes) {
        if (auto s = write_one_reg(fd, w.id, w.value, w.name); !s) {
            return s;
        }
    }
    std::lock_guard lock(mu_);
    ++reflected_;
    return ok_status();
}

// ---- monitor info breakpoints

std::string Arm64DebugHooks::describe_sw_service() const {
    return host_.sw_breakpoints_intercepted
               ? ""
               : "; this host has no KVM_GUESTDBG_USE_SW_BP, gdb's are served by breakpoint registers";
}

std::string Arm64DebugHooks::describe_request(const HwRequest& request) const {
    auto access = access_of(request.type);
    return request.serves_sw ? "software breakpoint (breakpoint register)"
           : access          ? a64::debug_access_name(*access)
                             : "breakpoint";
}

std::string Arm64DebugHooks::describe_slots() const {
    std::lock_guard lock(mu_);
    char line[200];
    std::string out;
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
