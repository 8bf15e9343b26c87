#include "arch/riscv64/riscv64_kvm.h"

#include <cstddef>
#include <cstring>

namespace kvmdbg::arch::riscv64 {

namespace {

// The empty arch part: C size 0, C++ size 1 (see the header).
static_assert(sizeof(kvm_guest_debug_arch) == 1, "empty struct: C++ gives it size 1, C size 0");
static_assert(offsetof(kvm_guest_debug, control) == 0 && offsetof(kvm_guest_debug, arch) == 8);
static_assert(sizeof(kvm_guest_debug) == 12, "C++ pads the empty arch part: the C struct is 8 bytes");
static_assert(KVM_SET_GUEST_DEBUG != kSetGuestDebugIoctl, "the C++ macro encodes the wrong size");
static_assert(_IOC_SIZE(kSetGuestDebugIoctl) == 8 && _IOC_NR(kSetGuestDebugIoctl) == 0x9b &&
              _IOC_TYPE(kSetGuestDebugIoctl) == KVMIO && _IOC_DIR(kSetGuestDebugIoctl) == _IOC_WRITE);
static_assert(KVM_GUESTDBG_ENABLE == kGuestDbgEnable);

// ONE_REG ids.
static_assert(KVM_REG_RISCV == kRegRiscv && KVM_REG_SIZE_U64 == kRegSizeU64);
static_assert(KVM_REG_RISCV_CORE == kRegTypeCore && KVM_REG_RISCV_CSR == kRegTypeCsr &&
              KVM_REG_RISCV_FP_D == kRegTypeFpD);
static_assert(KVM_REG_RISCV_CORE_REG(regs.pc) == kCoreRegPc && KVM_REG_RISCV_CORE_REG(regs.ra) == 1 &&
              KVM_REG_RISCV_CORE_REG(regs.t6) == 31 && KVM_REG_RISCV_CORE_REG(mode) == kCoreRegMode);
static_assert(KVM_REG_RISCV_CSR_REG(sstatus) == kCsrSstatus && KVM_REG_RISCV_CSR_REG(stvec) == kCsrStvec &&
              KVM_REG_RISCV_CSR_REG(sepc) == kCsrSepc && KVM_REG_RISCV_CSR_REG(scause) == kCsrScause &&
              KVM_REG_RISCV_CSR_REG(stval) == kCsrStval && KVM_REG_RISCV_CSR_REG(satp) == 8);
static_assert(KVM_REG_RISCV_FP_D_REG(f[0]) == 0 && KVM_REG_RISCV_FP_D_REG(fcsr) == 32);
static_assert(KVM_RISCV_MODE_S == 1 && KVM_RISCV_MODE_U == 0);
static_assert(sizeof(kvm_riscv_core) == 33 * 8 && offsetof(kvm_riscv_core, mode) == 32 * 8);
static_assert(sizeof(kvm_riscv_csr) == 10 * 8 && offsetof(kvm_riscv_csr, satp) == 8 * 8);
static_assert(sizeof(__riscv_d_ext_state) == 33 * 8 && offsetof(__riscv_d_ext_state, fcsr) == 32 * 8);

// kvm_riscv_core.regs is pc, ra, sp, ... t6: x1-x31 follow pc.
const unsigned long* core_slot(const kvm_riscv_core& core, unsigned index) {
    return reinterpret_cast<const unsigned long*>(&core.regs) + index;
}

}  // namespace

void to_kvm(std::uint32_t control, kvm_guest_debug& out) {
    std::memset(&out, 0, sizeof out);
    out.control = control;
}

TrapState trap_state_from_kvm(const kvm_riscv_core& core, const kvm_riscv_csr& csr) {
    TrapState s;
    s.pc = core.regs.pc;
    s.mode = core.mode;
    s.sstatus = csr.sstatus;
    s.stvec = csr.stvec;
    s.sepc = csr.sepc;
    s.scause = csr.scause;
    s.stval = csr.stval;
    return s;
}

void trap_state_to_kvm(const TrapState& in, kvm_riscv_core& core, kvm_riscv_csr& csr) {
    core.regs.pc = in.pc;
    core.mode = in.mode;
    csr.sstatus = in.sstatus;
    csr.sepc = in.sepc;
    csr.scause = in.scause;
    csr.stval = in.stval;
}

void from_kvm(const kvm_riscv_core& core, const kvm_riscv_csr& csr, const __riscv_d_ext_state& fp, Riscv64State& out) {
    out.x[0] = 0;
    for (unsigned i = 1; i < 32; ++i) {
        out.x[i] = *core_slot(core, i);
    }
    out.pc = core.regs.pc;
    for (unsigned i = 0; i < 32; ++i) {
        out.f[i] = fp.f[i];
    }
    out.fcsr = fp.fcsr;
    out.csr = Riscv64Csrs{csr.sstatus, csr.sie,   csr.stvec, csr.sscratch, csr.sepc,
                          csr.scause,  csr.stval, csr.sip,   csr.satp};
}

}  // namespace kvmdbg::arch::riscv64
