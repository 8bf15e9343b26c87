#include "accel/kvm/s390x_debug_hooks.h"

#include <linux/kvm.h>

#include <cstdio>
#include <variant>

#include "accel/kvm/kvm_system.h"
#include "accel/kvm/kvm_vcpu.h"
#include "accel/kvm/kvm_vm.h"
#include "accel/plugin_abi.h"
#include "arch/s390x/prefixing.h"
#include "arch/s390x/s390x_kvm.h"
#include "common/hex_string.h"
#include "common/ioctl_status.h"

namespace kvmdbg::accel::kvm {

namespace s390x = arch::s390x;

/// Two adaptor structs per vCPU (the header's "hw_bp[] lifetime").
struct S390xDebugHooks::PushArrays {
    s390x::KvmS390GuestDebug db[2];
    std::vector<s390x::S390HwBp> entries[2];
    unsigned current = 0;
    bool handed_out = false;
};

namespace {

Result<s390x::DebugAccess> access_of(std::uint32_t type) {
    switch (type) {
    case KVMDBG_BP_SOFTWARE:
    case KVMDBG_BP_HARDWARE: return s390x::DebugAccess::exec;
    case KVMDBG_WP_WRITE: return s390x::DebugAccess::write;
    case KVMDBG_WP_READ: return s390x::DebugAccess::read;
    case KVMDBG_WP_ACCESS: return s390x::DebugAccess::access;
    default: return make_error(EINVAL, "unknown breakpoint type " + std::to_string(type));
    }
}

struct Addressing {
    std::uint64_t psw_mask = 0;
    std::uint64_t prefix = 0;
};

/// The PSW mask and prefix KVM syncs into kvm_run on every exit. vCPU thread.
Result<Addressing> addressing_of(KvmVcpu& vcpu) {
    const kvm_run& run = *vcpu.run();
    if ((run.kvm_valid_regs & KVM_SYNC_PREFIX) == 0) {
        return make_error(EIO, "KVM did not sync the prefix register (KVM_SYNC_PREFIX) into kvm_run");
    }
    return Addressing{run.psw_mask, run.s.regs.prefix};
}

Result<std::uint64_t> identity(std::uint64_t v) { return v; }

}  // namespace

S390xDebugHooks::S390xDebugHooks(KvmVm& vm, S390xDebugHost host)
    : vm_(vm), host_(host), insn_(s390x::sw_breakpoint_insn(host.user_instr0)) {}

S390xDebugHooks::~S390xDebugHooks() = default;

std::span<const std::uint8_t> S390xDebugHooks::breakpoint_instruction() const {
    return std::span<const std::uint8_t>(insn_.bytes.data(), insn_.length);
}

const char* S390xDebugHooks::breakpoint_instruction_name() const { return host_.user_instr0 ? "0x0000" : "DIAG 0x501"; }

Status S390xDebugHooks::check_breakpoint_address(std::uint64_t addr) const {
    if ((addr & 1) != 0) {
        return make_error(EINVAL,
                          "breakpoint address " + hex_string(addr) + " is odd: s390 instructions are 2-byte aligned");
    }
    return ok_status();
}

void S390xDebugHooks::set_vcpu_count(std::uint32_t count) {
    std::lock_guard lock(mu_);
    vcpus_.assign(count, VcpuPlan{});
    push_.clear();
    for (std::uint32_t i = 0; i < count; ++i) {
        push_.push_back(std::make_unique<PushArrays>());
    }
}

Result<GuestMemory> S390xDebugHooks::guest_memory(std::uint32_t cpu) {
    KvmVcpu* vcpu = vm_.vcpu_at(cpu);
    if (vcpu == nullptr) {
        return make_error(EINVAL, "no vCPU " + std::to_string(cpu));
    }
    Addressing a;
    Status s = vcpu->run_on_vcpu([&a](KvmVcpu& self) {
        auto got = addressing_of(self);
        a = got ? *got : Addressing{};
        return got ? ok_status() : Status(got.error());
    });
    if (!s) {
        return s.error();
    }
    if (auto checked = s390x::absolute_without_dat(a.psw_mask, a.prefix, 0); !checked) {
        return checked.error();
    }
    return GuestMemory(vm_, [prefix = a.prefix](std::uint64_t va) -> std::optional<std::uint64_t> {
        return s390x::real_to_absolute(va, prefix);
    });
}

std::uint64_t S390xDebugHooks::current_pc(KvmVcpu& vcpu) { return vcpu.run()->psw_addr; }

// ---- slot planning: hw_bp[] per vCPU

Status S390xDebugHooks::validate_request(std::uint32_t type, std::uint64_t addr, std::uint64_t len) const {
    auto access = access_of(type);
    if (!access) {
        return access.error();
    }
    const s390x::DebugRequest one[] = {{*access, addr, len}};
    auto bps = s390x::build_hw_bps(one, identity);
    return bps ? ok_status() : Status(bps.error());
}

Result<S390xDebugHooks::VcpuPlan> S390xDebugHooks::plan_for(const std::vector<HwRequest>& requests,
                                                            std::uint64_t psw_mask, std::uint64_t prefix) {
    std::vector<s390x::DebugRequest> all;
    for (const auto& r : requests) {
        auto access = access_of(r.type);
        if (!access) {
            return access.error();
        }
        all.push_back({*access, r.addr, r.len});
    }
    if (auto checked = s390x::build_hw_bps(all, identity); !checked) {
        return checked.error();  // count, length and kind, before any translation
    }
    // guestdbg.c reads phys_addr only for watchpoints (the copy of the
    // watched bytes): a breakpoint needs no translation.
    const s390x::TranslateFn absolute = [&](std::uint64_t v) {
        return s390x::absolute_without_dat(psw_mask, prefix, v);
    };
    VcpuPlan plan;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const bool exec = all[i].kind == s390x::DebugAccess::exec;
        auto one = s390x::build_hw_bps({&all[i], 1}, exec ? s390x::TranslateFn(identity) : absolute);
        if (!one) {
            return one.error();
        }
        plan.ids.push_back(requests[i].id);
        plan.bps.push_back(one->front());
    }
    return plan;
}

Status S390xDebugHooks::replan_all(const PlanInput& all) {
    // Each vCPU's PSW and prefix are read on its own thread, without the lock.
    std::vector<VcpuPlan> plans;
    for (std::uint32_t i = 0; i < vm_.vcpu_count(); ++i) {
        Result<VcpuPlan> plan = VcpuPlan{};
        Status s = vm_.vcpu_at(i)->run_on_vcpu([&](KvmVcpu& self) {
            auto a = addressing_of(self);
            if (!a) {
                return Status(a.error());
            }
            plan = plan_for(all.requests, a->psw_mask, a->prefix);
            return plan ? ok_status() : Status(plan.error());
        });
        if (!s) {
            return make_error(s.error().code, "vCPU " + std::to_string(i) + ": " + s.error().message);
        }
        plans.push_back(std::move(*plan));
    }
    std::lock_guard lock(mu_);
    for (std::uint32_t i = 0; i < plans.size() && i < vcpus_.size(); ++i) {
        vcpus_[i] = std::move(plans[i]);
    }
    return ok_status();
}

Status S390xDebugHooks::plan_insert(const HwRequest&, const PlanInput& all) { return replan_all(all); }

Status S390xDebugHooks::plan_remove(std::uint32_t, const PlanInput& all) { return replan_all(all); }

void S390xDebugHooks::plan_clear() {
    std::lock_guard lock(mu_);
    for (auto& v : vcpus_) {
        v = VcpuPlan{};
    }
}

Status S390xDebugHooks::plan_step_over(KvmVcpu& vcpu, const PlanInput& all) {
    // On the vCPU's thread. fill() leaves the suppressed request out; this
    // only refreshes the translation (the guest may have set a new prefix).
    // If it fails now the plan stays as it was: the step-over still runs.
    auto a = addressing_of(vcpu);
    auto plan = a ? plan_for(all.requests, a->psw_mask, a->prefix) : Result<VcpuPlan>(a.error());
    if (plan) {
        std::lock_guard lock(mu_);
        vcpus_.at(vcpu.index()) = std::move(*plan);
    }
    return ok_status();
}

// ---- the push

std::uint32_t S390xDebugHooks::fill(std::uint32_t cpu, std::optional<std::uint32_t> suppressed,
                                    kvm_guest_debug& dbg) const {
    std::lock_guard lock(mu_);
    const VcpuPlan& plan = vcpus_.at(cpu);
    std::vector<s390x::S390HwBp> entries;
    for (std::size_t i = 0; i < plan.bps.size(); ++i) {
        if (!suppressed || plan.ids[i] != *suppressed) {
            entries.push_back(plan.bps[i]);
        }
    }
    if (entries.empty()) {
        return 0;
    }
    PushArrays& p = *push_.at(cpu);
    if (!p.handed_out || p.entries[p.current] != entries) {
        // Never rewrite the array the last push points to (header).
        p.current = p.handed_out ? 1 - p.current : 0;
        s390x::to_kvm(entries, 0, p.db[p.current]);
        p.entries[p.current] = entries;
        p.handed_out = true;
    }
    dbg.arch = p.db[p.current].dbg.arch;
    return KVM_GUESTDBG_USE_HW_BP;
}

unsigned long S390xDebugHooks::set_guest_debug_request() const { return KVM_SET_GUEST_DEBUG; }

Status S390xDebugHooks::check_step_blocks_irq(bool enable) const {
    if (enable) {
        return make_error(ENOTSUP, "s390 KVM has no KVM_GUESTDBG_BLOCKIRQ: steps cannot mask interrupts");
    }
    return ok_status();
}

// ---- exits

DebugExitOutcome S390xDebugHooks::classify(KvmVcpu& vcpu, const ExitContext& ctx) {
    const kvm_run& run = *vcpu.run();
    s390x::ExitInfo info;
    if (run.exit_reason == KVM_EXIT_DEBUG) {
        info.exit = s390x::from_kvm(run.debug.arch);
    } else if (run.exit_reason == KVM_EXIT_S390_SIEIC) {
        info.exit = s390x::sieic_from_run(run);
    } else {
        DebugExitOutcome out;
        out.pc = run.psw_addr;
        out.what = "exit " + std::to_string(run.exit_reason) + " is not a debug event";
        return out;
    }
    info.psw_addr = run.psw_addr;
    info.user_instr0 = host_.user_instr0;
    info.debugger_stepping = ctx.debugger_stepping;
    info.sw_breakpoint_at = ctx.sw_breakpoint_at;
    return outcome_of(s390x::classify_exit(info), vcpu, ctx);
}

DebugExitOutcome S390xDebugHooks::outcome_of(const s390x::DebugEvent& event, KvmVcpu& vcpu, const ExitContext& ctx) {
    using Kind = DebugExitOutcome::Kind;
    DebugExitOutcome out;
    out.pc = vcpu.run()->psw_addr;
    const std::vector<HwRequest> loaded = ctx.plan.requests_for(vcpu.index());
    auto find = [&](std::uint64_t addr, bool exec) -> const HwRequest* {
        for (const auto& r : loaded) {
            const bool r_exec = r.type == KVMDBG_BP_HARDWARE || r.type == KVMDBG_BP_SOFTWARE;
            if (r_exec == exec && addr >= r.addr && addr - r.addr < (exec ? 1 : r.len)) {
                return &r;
            }
        }
        return nullptr;
    };
    if (std::holds_alternative<s390x::StepDone>(event)) {
        out.kind = Kind::step_done;
    } else if (const auto* sw = std::get_if<s390x::SoftwareBreakpoint>(&event)) {
        vcpu.run()->psw_addr = sw->addr;  // the PSW was past it; KVM loads kvm_run's PSW at the next KVM_RUN
        out.kind = Kind::sw_breakpoint;
        out.pc = out.addr = sw->addr;
    } else if (const auto* hw = std::get_if<s390x::HardwareBreakpoint>(&event); hw && find(hw->addr, true)) {
        out.kind = Kind::hw_breakpoint;
        out.request_id = find(hw->addr, true)->id;
        out.addr = hw->addr;
    } else if (const auto* wp = std::get_if<s390x::Watchpoint>(&event); wp && find(wp->addr, false)) {
        const HwRequest* r = find(wp->addr, false);
        out.kind = Kind::watchpoint;
        out.request_id = r->id;
        out.watch_type = KVMDBG_WP_WRITE;
        out.addr = r->addr;
        out.len = r->len;
    } else if (const auto* guest = std::get_if<s390x::ReflectOperation>(&event)) {
        out.kind = Kind::guest_event;
        out.what = "breakpoint instruction at " + hex_string(guest->addr) + " (operation exception)";
        out.action = [this, ilen = guest->ilen](KvmVcpu& self) {
            kvm_s390_irq irq = s390x::program_irq(s390x::kPgmOperation, ilen);
            if (auto s = ioctl_status(xioctl(self.fd(), KVM_S390_IRQ, &irq), "KVM_S390_IRQ"); !s) {
                return s;
            }
            std::lock_guard lock(mu_);
            ++reflected_;
            return ok_status();
        };
    } else {
        out.what = "a debug exit or intercept that matches no breakpoint of this vCPU";
    }
    return out;
}

// ---- monitor info breakpoints

std::string S390xDebugHooks::describe_sw_service() const {
    return host_.user_instr0 ? "; 2 bytes, KVM_CAP_S390_USER_INSTR0 enabled"
                             : "; 4 bytes (83 24 05 01): KVM_CAP_S390_USER_INSTR0 could not be enabled";
}

std::string S390xDebugHooks::describe_request(const HwRequest& request) const {
    auto access = access_of(request.type);
    if (access && *access == s390x::DebugAccess::exec) {
        return "hardware breakpoint (PER instruction fetch)";
    }
    return access && *access == s390x::DebugAccess::write ? "write watchpoint (PER storage alteration)" : "breakpoint";
}

std::string S390xDebugHooks::describe_slots() const {
    std::lock_guard lock(mu_);
    std::string out;
    char line[200];
    for (std::size_t cpu = 0; cpu < vcpus_.size(); ++cpu) {
        const VcpuPlan& plan = vcpus_[cpu];
        std::snprintf(line, sizeof line, "vCPU %zu hw_bp[] (%zu of %u):\n", cpu, plan.bps.size(), s390x::kMaxHwBp);
        out += line;
        for (const auto& bp : plan.bps) {
            std::snprintf(line, sizeof line, "  %s addr=0x%llx phys_addr=0x%llx len=%llu\n",
                          bp.type == s390x::kHwBp ? "KVM_HW_BP" : "KVM_HW_WP_WRITE",
                          static_cast<unsigned long long>(bp.addr), static_cast<unsigned long long>(bp.phys_addr),
                          static_cast<unsigned long long>(bp.len));
            out += line;
        }
    }
    std::snprintf(line, sizeof line,
                  "operation exceptions injected for the guest's own breakpoint instructions: %llu\n",
                  static_cast<unsigned long long>(reflected_));
    return out + line;
}

}  // namespace kvmdbg::accel::kvm
