#include "arch/ppc/booke_kvm.h"

#include <cstddef>
#include <cstring>

namespace kvmdbg::arch::ppc {

namespace {

// The ABI this file fills, pinned against the real powerpc uapi headers.
static_assert(sizeof(kvm_guest_debug_arch) == kNumBpEntries * 16, "bp[16] of {u64 addr, u32 type, u32 reserved}");
static_assert(sizeof(kvm_guest_debug_arch::bp) / sizeof(kvm_guest_debug_arch::bp[0]) == kNumBpEntries);
static_assert(offsetof(kvm_guest_debug_arch, bp[0].addr) == 0);
static_assert(offsetof(kvm_guest_debug_arch, bp[0].type) == 8);
static_assert(offsetof(kvm_guest_debug_arch, bp[0].reserved) == 12);
static_assert(offsetof(kvm_guest_debug_arch, bp[1].addr) == 16);
static_assert(offsetof(kvm_guest_debug, control) == 0);
static_assert(offsetof(kvm_guest_debug, pad) == 4);
static_assert(offsetof(kvm_guest_debug, arch) == 8);
static_assert(sizeof(kvm_guest_debug) == 8 + kNumBpEntries * 16);
static_assert(sizeof(kvm_debug_exit_arch) == 16);
static_assert(offsetof(kvm_debug_exit_arch, address) == 0);
static_assert(offsetof(kvm_debug_exit_arch, status) == 8);
static_assert(KVMPPC_DEBUG_NONE == kDebugNone);
static_assert(KVMPPC_DEBUG_BREAKPOINT == kDebugBreakpoint);
static_assert(KVMPPC_DEBUG_WATCH_WRITE == kDebugWatchWrite);
static_assert(KVMPPC_DEBUG_WATCH_READ == kDebugWatchRead);
static_assert(KVM_GUESTDBG_ENABLE == kGuestDbgEnable);
static_assert(KVM_GUESTDBG_SINGLESTEP == kGuestDbgSingleStep);
static_assert(KVM_GUESTDBG_USE_SW_BP == kGuestDbgUseSwBp);
static_assert(KVM_GUESTDBG_USE_HW_BP == kGuestDbgUseHwBp);
static_assert(KVM_REG_PPC_DEBUG_INST == kRegDebugInst);
static_assert(KVM_CAP_PPC_GUEST_DEBUG_SSTEP == 176);
static_assert(sizeof(kvm_regs) == (9 + 8 + 32) * 8);
static_assert(offsetof(kvm_regs, pc) == 0 && offsetof(kvm_regs, cr) == 8 && offsetof(kvm_regs, ctr) == 16 &&
              offsetof(kvm_regs, lr) == 24 && offsetof(kvm_regs, xer) == 32 && offsetof(kvm_regs, msr) == 40 &&
              offsetof(kvm_regs, srr0) == 48 && offsetof(kvm_regs, srr1) == 56 && offsetof(kvm_regs, gpr) == 136);
static_assert(sizeof(kvm_sregs::u.e.esr) == 4 && sizeof(kvm_sregs::u.e.ivpr) == 8);
static_assert(sizeof(kvm_sregs::u.e.ivor_low) == 16 * 4, "IVOR0-15");

}  // namespace

kvm_one_reg debug_inst_one_reg(__u32* value) {
    kvm_one_reg reg{};
    reg.id = KVM_REG_PPC_DEBUG_INST;
    reg.addr = reinterpret_cast<std::uintptr_t>(value);
    return reg;
}

void to_kvm(const PpcDebugRegs& regs, std::uint32_t control, kvm_guest_debug& out) {
    std::memset(&out, 0, sizeof out);
    out.control = control;
    for (unsigned i = 0; i < kNumBpEntries; ++i) {
        out.arch.bp[i].addr = regs.bp[i].addr;
        out.arch.bp[i].type = regs.bp[i].type;
    }
}

void from_kvm(const kvm_debug_exit_arch& in, DebugExitInfo& out) {
    out.status = in.status;
    out.address = in.address;
}

void from_kvm(const kvm_regs& in, PpcE500State& out) {
    for (unsigned i = 0; i < 32; ++i) {
        out.gpr[i] = in.gpr[i];
    }
    out.pc = in.pc;
    out.msr = in.msr;
    out.cr = in.cr;
    out.lr = in.lr;
    out.ctr = in.ctr;
    out.xer = in.xer;
}

void to_kvm(const PpcE500State& in, kvm_regs& out) {
    for (unsigned i = 0; i < 32; ++i) {
        out.gpr[i] = in.gpr[i];
    }
    out.pc = in.pc;
    out.msr = in.msr;
    out.cr = in.cr;
    out.lr = in.lr;
    out.ctr = in.ctr;
    out.xer = in.xer;
}

BookeInterruptState interrupt_state_from_kvm(const kvm_regs& regs, const kvm_sregs& sregs) {
    BookeInterruptState s;
    s.pc = regs.pc;
    s.msr = regs.msr;
    s.srr0 = regs.srr0;
    s.srr1 = regs.srr1;
    s.esr = sregs.u.e.esr;
    s.ivpr = sregs.u.e.ivpr;
    s.ivor6 = sregs.u.e.ivor_low[6];
    return s;
}

void interrupt_state_to_kvm(const BookeInterruptState& in, kvm_regs& regs, kvm_sregs& sregs) {
    regs.pc = in.pc;
    regs.msr = in.msr;
    regs.srr0 = in.srr0;
    regs.srr1 = in.srr1;
    sregs.u.e.esr = in.esr;
}

}  // namespace kvmdbg::arch::ppc
