#include "accel/kvm/riscv64_debug_hooks.h"

#include <linux/kvm.h>

#include <variant>

#include "accel/kvm/kvm_vcpu.h"
#include "accel/kvm/kvm_vm.h"
#include "accel/kvm/one_reg.h"
#include "accel/plugin_abi.h"
#include "arch/riscv64/bare_translation.h"
#include "arch/riscv64/debug.h"
#include "arch/riscv64/riscv64_kvm.h"
#include "common/hex_string.h"

namespace kvmdbg::accel::kvm {

namespace {

namespace rv = arch::riscv64;

// ebreak (0x00100073), little-endian in memory.
constexpr std::uint8_t kEbreak[] = {0x73, 0x00, 0x10, 0x00};
static_assert((kEbreak[0] | kEbreak[1] << 8 | kEbreak[2] << 16 | kEbreak[3] << 24) == rv::kEbreak);

Result<rv::DebugFeature> feature_of(std::uint32_t type) {
    switch (type) {
    case KVMDBG_BP_SOFTWARE: return rv::DebugFeature::sw_breakpoint;
    case KVMDBG_BP_HARDWARE: return rv::DebugFeature::hw_breakpoint;
    case KVMDBG_WP_WRITE:
    case KVMDBG_WP_READ:
    case KVMDBG_WP_ACCESS: return rv::DebugFeature::watchpoint;
    default: return make_error(EINVAL, "unknown breakpoint type " + std::to_string(type));
    }
}

/// The registers apply_breakpoint_trap reads, by ONE_REG.
Result<rv::TrapState> read_trap_state(int fd) {
    struct Read {
        std::uint64_t id;
        const char* name;
    };
    const Read reads[] = {
        {rv::core_reg_id(rv::kCoreRegPc), "pc"},      {rv::core_reg_id(rv::kCoreRegMode), "mode"},
        {rv::csr_reg_id(rv::kCsrSstatus), "sstatus"}, {rv::csr_reg_id(rv::kCsrStvec), "stvec"},
        {rv::csr_reg_id(rv::kCsrSepc), "sepc"},       {rv::csr_reg_id(rv::kCsrScause), "scause"},
        {rv::csr_reg_id(rv::kCsrStval), "stval"},
    };
    kvm_riscv_core core{};
    kvm_riscv_csr csr{};
    unsigned long* slots[] = {&core.regs.pc, &core.mode, &csr.sstatus, &csr.stvec, &csr.sepc, &csr.scause, &csr.stval};
    for (std::size_t i = 0; i < std::size(reads); ++i) {
        auto v = read_one_reg(fd, reads[i].id, reads[i].name);
        if (!v) {
            return v.error();
        }
        *slots[i] = *v;
    }
    return rv::trap_state_from_kvm(core, csr);
}

}  // namespace

Riscv64DebugHooks::Riscv64DebugHooks(KvmVm& vm) : vm_(vm) {}

std::span<const std::uint8_t> Riscv64DebugHooks::breakpoint_instruction() const { return kEbreak; }

Status Riscv64DebugHooks::check_breakpoint_address(std::uint64_t addr) const {
    if ((addr & 1) != 0) {
        return make_error(EINVAL, "breakpoint address " + hex_string(addr) +
                                      " is odd: RISC-V instructions are 2-byte aligned (4 without C)");
    }
    return ok_status();
}

Result<GuestMemory> Riscv64DebugHooks::guest_memory(std::uint32_t cpu) {
    KvmVcpu* vcpu = vm_.vcpu_at(cpu);
    if (vcpu == nullptr) {
        return make_error(EINVAL, "no vCPU " + std::to_string(cpu));
    }
    std::uint64_t satp = 0;
    Status s = vcpu->run_on_vcpu([&satp](KvmVcpu& self) {
        auto v = read_one_reg(self.fd(), rv::csr_reg_id(KVM_REG_RISCV_CSR_REG(satp)), "satp");
        satp = v ? *v : 0;
        return v ? ok_status() : Status(v.error());
    });
    if (!s) {
        return s.error();
    }
    // Bare is checked once here, for the whole access: refused with the
    // backend's sentence rather than reported as an unmapped address.
    if (auto bare = rv::physical_without_paging(satp, 0); !bare) {
        return bare.error();
    }
    return GuestMemory(vm_, [](std::uint64_t va) -> std::optional<std::uint64_t> { return va; });
}

std::uint64_t Riscv64DebugHooks::current_pc(KvmVcpu& vcpu) {
    auto pc = read_one_reg(vcpu.fd(), rv::core_reg_id(rv::kCoreRegPc), "pc");
    return pc ? *pc : 0;
}

Status Riscv64DebugHooks::validate_request(std::uint32_t type, std::uint64_t, std::uint64_t) const {
    auto feature = feature_of(type);
    return feature ? rv::check_supported(*feature) : Status(feature.error());
}

Status Riscv64DebugHooks::plan_insert(const HwRequest& added, const PlanInput&) {
    return validate_request(added.type, added.addr, added.len);
}

unsigned long Riscv64DebugHooks::set_guest_debug_request() const { return rv::kSetGuestDebugIoctl; }

Status Riscv64DebugHooks::check_step_blocks_irq(bool enable) const {
    if (enable) {
        return make_error(ENOTSUP, "riscv KVM does not single-step: there is no step whose interrupts to mask");
    }
    return ok_status();
}

Status Riscv64DebugHooks::before_run(KvmVcpu&, const RunSetup& setup) {
    if (setup.debugger_step || setup.step_over) {
        return rv::check_supported(rv::DebugFeature::single_step);
    }
    return ok_status();
}

DebugExitOutcome Riscv64DebugHooks::classify(KvmVcpu& vcpu, const ExitContext& ctx) {
    DebugExitOutcome out;
    out.pc = current_pc(vcpu);
    rv::DebugEvent event = rv::classify_debug_exit(out.pc, ctx.sw_breakpoint_at(out.pc));
    if (const auto* sw = std::get_if<rv::SoftwareBreakpoint>(&event)) {
        out.kind = DebugExitOutcome::Kind::sw_breakpoint;
        out.addr = sw->addr;
    } else if (const auto* guest = std::get_if<rv::ReflectBreakpoint>(&event)) {
        out.kind = DebugExitOutcome::Kind::guest_event;
        out.what = "ebreak at " + hex_string(guest->addr);
        out.stop_after_reflection = true;  // the trap entry is emulated: nothing runs in between
        out.action = [this, addr = guest->addr](KvmVcpu& self) { return reflect(self, addr); };
    }
    return out;
}

Status Riscv64DebugHooks::reflect(KvmVcpu& vcpu, std::uint64_t addr) {
    const int fd = vcpu.fd();
    auto state = read_trap_state(fd);
    if (!state) {
        return state.error();
    }
    rv::apply_breakpoint_trap(*state, addr);
    kvm_riscv_core core{};
    kvm_riscv_csr csr{};
    rv::trap_state_to_kvm(*state, core, csr);
    struct Write {
        std::uint64_t id;
        std::uint64_t value;
        const char* name;
    };
    // The CSRs first, pc and mode last: a failure leaves the vCPU where it was.
    const Write writes[] = {
        {rv::csr_reg_id(rv::kCsrSstatus), csr.sstatus, "sstatus"},
        {rv::csr_reg_id(rv::kCsrSepc), csr.sepc, "sepc"},
        {rv::csr_reg_id(rv::kCsrScause), csr.scause, "scause"},
        {rv::csr_reg_id(rv::kCsrStval), csr.stval, "stval"},
        {rv::core_reg_id(rv::kCoreRegMode), core.mode, "mode"},
        {rv::core_reg_id(rv::kCoreRegPc), core.regs.pc, "pc"},
    };
    for (const auto& w : writes) {
        if (auto s = write_one_reg(fd, w.id, w.value, w.name); !s) {
            return s;
        }
    }
    std::lock_guard lock(mu_);
    ++reflected_;
    return ok_status();
}

std::string Riscv64DebugHooks::describe_sw_service() const {
    return "; ebreak (4 bytes) at every address: over a compressed instruction it also covers the next one";
}

std::string Riscv64DebugHooks::describe_resume_policy(std::uint64_t) const {
    return "continue from a breakpoint still inserted: refused (riscv KVM does not single-step; gdb removes "
           "breakpoints and steps in software)\n";
}

std::string Riscv64DebugHooks::describe_slots() const {
    std::lock_guard lock(mu_);
    return "no hardware breakpoints or watchpoints on riscv KVM; guest ebreaks delivered to the guest: " +
           std::to_string(reflected_) + "\n";
}

}  // namespace kvmdbg::accel::kvm
