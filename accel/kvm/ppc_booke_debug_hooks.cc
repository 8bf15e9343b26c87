#include "accel/kvm/ppc_booke_debug_hooks.h"

#include <linux/kvm.h>

#include <bit>
#include <cstdio>
#include <variant>

#include "accel/kvm/kvm_system.h"
#include "accel/kvm/kvm_vcpu.h"
#include "accel/kvm/kvm_vm.h"
#include "accel/kvm/one_reg.h"
#include "accel/plugin_abi.h"
#include "arch/ppc/booke_kvm.h"
#include "arch/ppc/booke_translate.h"
#include "common/hex_string.h"
#include "common/ioctl_status.h"

namespace kvmdbg::accel::kvm {

namespace {

namespace ppc = arch::ppc;

Result<ppc::DebugAccess> access_of(std::uint32_t type) {
    switch (type) {
    case KVMDBG_BP_SOFTWARE:
    case KVMDBG_BP_HARDWARE: return ppc::DebugAccess::exec;
    case KVMDBG_WP_WRITE: return ppc::DebugAccess::write;
    case KVMDBG_WP_READ: return ppc::DebugAccess::read;
    case KVMDBG_WP_ACCESS: return ppc::DebugAccess::access;
    default: return make_error(EINVAL, "unknown breakpoint type " + std::to_string(type));
    }
}

std::uint32_t watch_type(ppc::DebugAccess kind) {
    switch (kind) {
    case ppc::DebugAccess::write: return KVMDBG_WP_WRITE;
    case ppc::DebugAccess::read: return KVMDBG_WP_READ;
    default: return KVMDBG_WP_ACCESS;
    }
}

/// bp[] for `requests`, in order (the core validated every type).
Result<ppc::PpcDebugRegs> regs_of(const std::vector<HwRequest>& requests) {
    std::vector<ppc::DebugRequest> out;
    for (const auto& r : requests) {
        auto access = access_of(r.type);
        if (!access) {
            return access.error();
        }
        out.push_back({*access, r.addr, r.len});
    }
    return ppc::build_debug_regs(out);
}

}  // namespace

Result<std::unique_ptr<PpcBookeDebugHooks>> PpcBookeDebugHooks::create(KvmVm& vm, PpcBookeDebugHost host) {
    // e500 guests are big-endian (docs/guest-debug.md "Byte order").
    auto insn = ppc::sw_breakpoint_bytes(host.debug_inst, std::endian::big);
    if (!insn) {
        return insn.error();
    }
    return std::unique_ptr<PpcBookeDebugHooks>(new PpcBookeDebugHooks(vm, host, *insn));
}

PpcBookeDebugHooks::PpcBookeDebugHooks(KvmVm& vm, PpcBookeDebugHost host, std::array<std::uint8_t, 4> insn)
    : vm_(vm), host_(host), insn_(insn) {}

Status PpcBookeDebugHooks::check_breakpoint_address(std::uint64_t addr) const {
    if ((addr & 3) != 0) {
        return make_error(EINVAL,
                          "breakpoint address " + hex_string(addr) + " is not 4-byte aligned: Power instructions are");
    }
    return ok_status();
}

Result<GuestMemory> PpcBookeDebugHooks::guest_memory(std::uint32_t cpu) {
    KvmVcpu* vcpu = vm_.vcpu_at(cpu);
    if (vcpu == nullptr) {
        return make_error(EINVAL, "no vCPU " + std::to_string(cpu));
    }
    std::uint64_t msr = 0;
    std::uint64_t pid = 0;
    Status s = vcpu->run_on_vcpu([&](KvmVcpu& self) {
        kvm_regs regs{};
        if (auto r = ioctl_status(xioctl(self.fd(), KVM_GET_REGS, &regs), "KVM_GET_REGS"); !r) {
            return r;
        }
        msr = regs.msr;
        auto p = read_one_reg(self.fd(), KVM_REG_PPC_PID, "pid");
        pid = p ? *p : 0;
        return p ? ok_status() : Status(p.error());
    });
    if (!s) {
        return s.error();
    }
    // See the header: KVM_TRANSLATE only where it cannot wait for the guest.
    return GuestMemory(vm_, [vcpu, pid, msr](std::uint64_t va) -> std::optional<std::uint64_t> {
        if (!vcpu->on_own_thread() && !vcpu->parked()) {
            return std::nullopt;
        }
        kvm_translation tr{};
        tr.linear_address = ppc::translate_request(va, pid, msr);
        if (xioctl(vcpu->fd(), KVM_TRANSLATE, &tr) < 0 || tr.valid == 0) {
            return std::nullopt;
        }
        return tr.physical_address;
    });
}

std::uint64_t PpcBookeDebugHooks::current_pc(KvmVcpu& vcpu) {
    kvm_regs regs{};
    return xioctl(vcpu.fd(), KVM_GET_REGS, &regs) < 0 ? 0 : regs.pc;
}

// ---- slot planning: one global bp[] plan

Status PpcBookeDebugHooks::validate_request(std::uint32_t type, std::uint64_t addr, std::uint64_t len) const {
    auto access = access_of(type);
    if (!access) {
        return access.error();
    }
    const ppc::DebugRequest one[] = {{*access, addr, len}};
    auto regs = ppc::build_debug_regs(one);
    return regs ? ok_status() : Status(regs.error());
}

Status PpcBookeDebugHooks::plan_insert(const HwRequest&, const PlanInput& all) {
    auto regs = regs_of(all.requests);
    if (!regs) {
        return regs.error();  // the plan stays as it was
    }
    std::lock_guard lock(mu_);
    plan_ = all.requests;
    return ok_status();
}

Status PpcBookeDebugHooks::plan_remove(std::uint32_t, const PlanInput& all) {
    std::lock_guard lock(mu_);
    plan_ = all.requests;
    return ok_status();
}

void PpcBookeDebugHooks::plan_clear() {
    std::lock_guard lock(mu_);
    plan_.clear();
}

std::vector<HwRequest> PpcBookeDebugHooks::loaded_locked(std::optional<std::uint32_t> suppressed) const {
    std::vector<HwRequest> out;
    for (const auto& r : plan_) {
        if (!suppressed || r.id != *suppressed) {
            out.push_back(r);
        }
    }
    return out;
}

std::uint32_t PpcBookeDebugHooks::fill(std::uint32_t, std::optional<std::uint32_t> suppressed,
                                       kvm_guest_debug& dbg) const {
    std::lock_guard lock(mu_);
    const std::vector<HwRequest> loaded = loaded_locked(suppressed);
    auto regs = regs_of(loaded);  // a subset of a plan that packed: it packs
    if (loaded.empty() || !regs) {
        return 0;
    }
    ppc::to_kvm(*regs, 0, dbg);  // the core sets control
    return KVM_GUESTDBG_USE_HW_BP;
}

std::uint32_t PpcBookeDebugHooks::sw_breakpoint_control() const { return KVM_GUESTDBG_USE_SW_BP; }

unsigned long PpcBookeDebugHooks::set_guest_debug_request() const { return KVM_SET_GUEST_DEBUG; }

Status PpcBookeDebugHooks::check_step_blocks_irq(bool enable) const {
    if (enable) {
        return make_error(ENOTSUP, "BookE KVM has no KVM_GUESTDBG_BLOCKIRQ: steps cannot mask interrupts");
    }
    return ok_status();
}

Status PpcBookeDebugHooks::before_run(KvmVcpu&, const RunSetup& setup) {
    if (!setup.debugger_step && !setup.step_over) {
        return ok_status();
    }
    auto control = ppc::debug_control(false, false, true, host_.sstep);
    return control ? ok_status() : Status(control.error());
}

// ---- exits

DebugExitOutcome PpcBookeDebugHooks::classify(KvmVcpu& vcpu, const ExitContext& ctx) {
    ppc::DebugExitInfo info;
    ppc::from_kvm(vcpu.run()->debug.arch, info);
    info.pc = current_pc(vcpu);
    info.debugger_stepping = ctx.debugger_stepping;
    info.sw_breakpoint_at_pc = ctx.sw_breakpoint_at(info.pc);
    const auto& suppressed = ctx.plan.suppressed;
    const std::optional<std::uint32_t> skip = vcpu.index() < suppressed.size() ? suppressed[vcpu.index()]
                                                                               : std::nullopt;
    std::vector<HwRequest> loaded;
    ppc::DebugEvent event;
    {
        std::lock_guard lock(mu_);
        loaded = loaded_locked(skip);
        auto regs = regs_of(loaded);
        event = ppc::classify_debug_exit(info, regs ? *regs : ppc::PpcDebugRegs{});
    }
    return outcome_of(event, info.pc, loaded);
}

DebugExitOutcome PpcBookeDebugHooks::outcome_of(const ppc::DebugEvent& event, std::uint64_t pc,
                                                const std::vector<HwRequest>& loaded) {
    using Kind = DebugExitOutcome::Kind;
    DebugExitOutcome out;
    out.pc = pc;
    if (std::holds_alternative<ppc::StepDone>(event)) {
        out.kind = Kind::step_done;
    } else if (const auto* sw = std::get_if<ppc::SoftwareBreakpoint>(&event)) {
        out.kind = Kind::sw_breakpoint;
        out.addr = sw->addr;
    } else if (const auto* hw = std::get_if<ppc::HardwareBreakpoint>(&event)) {
        out.kind = Kind::hw_breakpoint;
        out.request_id = hw->entry < loaded.size() ? loaded[hw->entry].id : 0;
        out.addr = hw->addr;
    } else if (const auto* wp = std::get_if<ppc::Watchpoint>(&event)) {
        out.kind = Kind::watchpoint;
        out.request_id = wp->entry < loaded.size() ? loaded[wp->entry].id : 0;
        out.watch_type = watch_type(wp->kind);
        out.addr = wp->addr;
        out.len = wp->entry < loaded.size() ? loaded[wp->entry].len : 1;
    } else if (const auto* guest = std::get_if<ppc::ReflectProgram>(&event)) {
        out.kind = Kind::guest_event;
        out.what = "debug event at " + hex_string(guest->srr0) + " (program interrupt)";
        out.stop_after_reflection = true;  // the interrupt entry is emulated: nothing runs in between
        out.action = [this, reflect_to = *guest](KvmVcpu& self) { return reflect(self, reflect_to); };
    }
    return out;
}

Status PpcBookeDebugHooks::reflect(KvmVcpu& vcpu, const ppc::ReflectProgram& program) {
    const int fd = vcpu.fd();
    kvm_regs regs{};
    kvm_sregs sregs{};
    if (auto s = ioctl_status(xioctl(fd, KVM_GET_REGS, &regs), "KVM_GET_REGS"); !s) {
        return s;
    }
    // KVM_SET_SREGS writes back what KVM_GET_SREGS reported (its features
    // bits), update_special 0: only ESR changes.
    if (auto s = ioctl_status(xioctl(fd, KVM_GET_SREGS, &sregs), "KVM_GET_SREGS"); !s) {
        return s;
    }
    ppc::BookeInterruptState state = ppc::interrupt_state_from_kvm(regs, sregs);
    ppc::apply_program_interrupt(state, program);
    ppc::interrupt_state_to_kvm(state, regs, sregs);
    sregs.u.e.update_special = 0;
    if (auto s = ioctl_status(xioctl(fd, KVM_SET_SREGS, &sregs), "KVM_SET_SREGS"); !s) {
        return s;
    }
    if (auto s = ioctl_status(xioctl(fd, KVM_SET_REGS, &regs), "KVM_SET_REGS"); !s) {
        return s;
    }
    std::lock_guard lock(mu_);
    ++reflected_;
    return ok_status();
}

// ---- monitor info breakpoints

std::string PpcBookeDebugHooks::describe_sw_service() const {
    char line[96];
    std::snprintf(line, sizeof line, "; the word 0x%08x, big-endian", host_.debug_inst);
    return line;
}

std::string PpcBookeDebugHooks::describe_request(const HwRequest& request) const {
    auto access = access_of(request.type);
    if (!access) {
        return "breakpoint";
    }
    switch (*access) {
    case ppc::DebugAccess::exec: return "hardware breakpoint (IAC)";
    case ppc::DebugAccess::write: return "write watchpoint (DAC)";
    case ppc::DebugAccess::read: return "read watchpoint (DAC)";
    case ppc::DebugAccess::access: return "access watchpoint (DAC)";
    }
    return "breakpoint";
}

std::string PpcBookeDebugHooks::describe_slots() const {
    std::lock_guard lock(mu_);
    auto regs = regs_of(plan_);
    std::string out = "bp[] (2 IAC + 2 DAC read by BookE KVM):\n";
    char line[160];
    for (unsigned n = 0; n < ppc::kInstSlots + ppc::kDataSlots; ++n) {
        const ppc::PpcBp bp = regs ? regs->bp[n] : ppc::PpcBp{};
        if (bp.type == ppc::kDebugNone) {
            std::snprintf(line, sizeof line, "  bp[%u] free\n", n);
        } else {
            std::snprintf(line, sizeof line, "  bp[%u] addr=0x%llx type=0x%x\n", n,
                          static_cast<unsigned long long>(bp.addr), bp.type);
        }
        out += line;
    }
    std::snprintf(line, sizeof line, "program interrupts reflected into the guest: %llu\n",
                  static_cast<unsigned long long>(reflected_));
    return out + line;
}

}  // namespace kvmdbg::accel::kvm
