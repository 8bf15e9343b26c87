// Adaptor between arch/s390x's plain structs and the s390 kernel ABI
// (arch/s390/include/uapi/asm/kvm.h, include/uapi/linux/kvm.h):
// kvm_guest_debug + its kvm_hw_breakpoint array, kvm_debug_exit_arch,
// kvm_run's s390_sieic and PSW, the KVM_S390_PROGRAM_INT interrupt, and the
// register structs. Documentation/virt/kvm/api.rst "KVM_SET_GUEST_DEBUG",
// "KVM_S390_IRQ", "KVM_CAP_S390_USER_INSTR0".
//
// Compiled where <linux/kvm.h> is the s390 one: the s390x cross build of
// the cross suite (and tests/unit/arch/test_s390x_kvm.cc run under
// qemu-s390x), with static_asserts pinning every field it fills.
// Threads: pure copies; the ioctls are the caller's (vCPU thread).
#pragma once

#include <linux/kvm.h>

#include <span>
#include <vector>

#include "arch/s390x/debug.h"
#include "arch/s390x/gdb_registers.h"

namespace kvmdbg::arch::s390x {

/// kvm_guest_debug plus the array its arch.hw_bp points to. Move-only
/// would be wrong after a move (the pointer), so it is neither copied nor
/// moved: build it in place and pass &dbg to KVM_SET_GUEST_DEBUG.
struct KvmS390GuestDebug {
    KvmS390GuestDebug() = default;
    KvmS390GuestDebug(const KvmS390GuestDebug&) = delete;
    KvmS390GuestDebug& operator=(const KvmS390GuestDebug&) = delete;

    kvm_guest_debug dbg{};
    std::vector<kvm_hw_breakpoint> hw_bp;
};

/// Fills `out` whole: control, nr_hw_bp, hw_bp -> out.hw_bp.data() (null
/// when empty), every pad zeroed.
void to_kvm(std::span<const S390HwBp> bps, std::uint32_t control, KvmS390GuestDebug& out);

DebugExit from_kvm(const kvm_debug_exit_arch& in);

/// The s390_sieic part of a KVM_EXIT_S390_SIEIC run.
SieicExit sieic_from_run(const kvm_run& run);

/// The KVM_S390_IRQ payload for a program interruption with `code` and
/// instruction length `ilen` (2, 4 or 6): ILC marked valid, no rewind
/// request (a suppressing exception: the PSW already points past it).
kvm_s390_irq program_irq(std::uint16_t code, unsigned ilen);

/// Registers: gprs from kvm_regs, acrs from kvm_sregs, fpc/fprs from
/// kvm_fpu, the PSW from kvm_run (psw_mask/psw_addr, synced on every exit).
void from_kvm(const kvm_regs& regs, const kvm_sregs& sregs, const kvm_fpu& fpu, const kvm_run& run, S390State& out);
/// The reverse; crs and other kvm_sregs fields are kept.
void to_kvm(const S390State& in, kvm_regs& regs, kvm_sregs& sregs, kvm_fpu& fpu, kvm_run& run);

}  // namespace kvmdbg::arch::s390x
