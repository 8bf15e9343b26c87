#include "arch/s390x/s390x_kvm.h"

#include <cstddef>
#include <cstring>

namespace kvmdbg::arch::s390x {

namespace {

static_assert(sizeof(kvm_hw_breakpoint) == 32);
static_assert(offsetof(kvm_hw_breakpoint, addr) == 0 && offsetof(kvm_hw_breakpoint, phys_addr) == 8 &&
              offsetof(kvm_hw_breakpoint, len) == 16 && offsetof(kvm_hw_breakpoint, type) == 24 &&
              offsetof(kvm_hw_breakpoint, pad) == 25);
static_assert(sizeof(kvm_guest_debug_arch) == 16);
static_assert(offsetof(kvm_guest_debug_arch, nr_hw_bp) == 0 && offsetof(kvm_guest_debug_arch, pad) == 4 &&
              offsetof(kvm_guest_debug_arch, hw_bp) == 8);
static_assert(offsetof(kvm_guest_debug, control) == 0 && offsetof(kvm_guest_debug, arch) == 8);
static_assert(sizeof(kvm_guest_debug) == 24);
static_assert(sizeof(kvm_debug_exit_arch) == 16);
static_assert(offsetof(kvm_debug_exit_arch, addr) == 0 && offsetof(kvm_debug_exit_arch, type) == 8);
static_assert(KVM_HW_BP == kHwBp && KVM_HW_WP_WRITE == kHwWpWrite && KVM_SINGLESTEP == kSingleStep);
static_assert(KVM_GUESTDBG_ENABLE == kGuestDbgEnable && KVM_GUESTDBG_SINGLESTEP == kGuestDbgSingleStep &&
              KVM_GUESTDBG_USE_HW_BP == kGuestDbgUseHwBp);
static_assert(KVM_CAP_S390_USER_INSTR0 == 130);
static_assert(offsetof(kvm_run, s390_sieic.icptcode) == 48 && offsetof(kvm_run, s390_sieic.ipa) == 50 &&
                  offsetof(kvm_run, s390_sieic.ipb) == 52,
              "s390_sieic sits in the exit union at offset 48");
static_assert(offsetof(kvm_run, psw_mask) == 32 && offsetof(kvm_run, psw_addr) == 40);
static_assert(sizeof(kvm_s390_irq) == 72 && offsetof(kvm_s390_irq, u) == 8);
static_assert(sizeof(kvm_s390_pgm_info) == 40 && offsetof(kvm_s390_pgm_info, code) == 28 &&
              offsetof(kvm_s390_pgm_info, flags) == 37);
static_assert(KVM_S390_PROGRAM_INT == 0xfffe0001u);
static_assert(KVM_S390_PGM_FLAGS_ILC_VALID == 0x01 && KVM_S390_PGM_FLAGS_ILC_MASK == 0x06 &&
              KVM_S390_PGM_FLAGS_ILC_0 == 0x02);
static_assert(sizeof(kvm_regs) == 128 && sizeof(kvm_sregs) == 192);
static_assert(offsetof(kvm_fpu, fpc) == 0 && offsetof(kvm_fpu, fprs) == 8 && sizeof(kvm_fpu) == 136);

}  // namespace

void to_kvm(std::span<const S390HwBp> bps, std::uint32_t control, KvmS390GuestDebug& out) {
    out.hw_bp.assign(bps.size(), kvm_hw_breakpoint{});
    for (std::size_t i = 0; i < bps.size(); ++i) {
        kvm_hw_breakpoint& k = out.hw_bp[i];
        std::memset(&k, 0, sizeof k);
        k.addr = bps[i].addr;
        k.phys_addr = bps[i].phys_addr;
        k.len = bps[i].len;
        k.type = bps[i].type;
    }
    std::memset(&out.dbg, 0, sizeof out.dbg);
    out.dbg.control = control;
    out.dbg.arch.nr_hw_bp = static_cast<__u32>(bps.size());
    out.dbg.arch.hw_bp = out.hw_bp.empty() ? nullptr : out.hw_bp.data();
}

DebugExit from_kvm(const kvm_debug_exit_arch& in) { return DebugExit{in.addr, in.type}; }

SieicExit sieic_from_run(const kvm_run& run) {
    return SieicExit{run.s390_sieic.icptcode, run.s390_sieic.ipa, run.s390_sieic.ipb};
}

kvm_s390_irq program_irq(std::uint16_t code, unsigned ilen) {
    kvm_s390_irq irq;
    std::memset(&irq, 0, sizeof irq);
    irq.type = KVM_S390_PROGRAM_INT;
    irq.u.pgm.code = code;
    irq.u.pgm.flags = static_cast<__u8>(KVM_S390_PGM_FLAGS_ILC_VALID |
                                        (((ilen / 2) << 1) & KVM_S390_PGM_FLAGS_ILC_MASK));
    return irq;
}

void from_kvm(const kvm_regs& regs, const kvm_sregs& sregs, const kvm_fpu& fpu, const kvm_run& run, S390State& out) {
    out.psw_mask = run.psw_mask;
    out.psw_addr = run.psw_addr;
    for (unsigned i = 0; i < 16; ++i) {
        out.gprs[i] = regs.gprs[i];
        out.acrs[i] = sregs.acrs[i];
        out.fprs[i] = fpu.fprs[i];
    }
    out.fpc = fpu.fpc;
}

void to_kvm(const S390State& in, kvm_regs& regs, kvm_sregs& sregs, kvm_fpu& fpu, kvm_run& run) {
    run.psw_mask = in.psw_mask;
    run.psw_addr = in.psw_addr;
    for (unsigned i = 0; i < 16; ++i) {
        regs.gprs[i] = in.gprs[i];
        sregs.acrs[i] = in.acrs[i];
        fpu.fprs[i] = in.fprs[i];
    }
    fpu.fpc = in.fpc;
}

}  // namespace kvmdbg::arch::s390x
