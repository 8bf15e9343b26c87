// Adaptor between KvmdbgX86State and the kernel's x86 KVM register structs.
//
// Compiled only into the KVM module (accel/kvm); the only arch/x86 file that
// includes <linux/kvm.h>. See Documentation/virt/kvm/api.rst sections
// KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_FPU, KVM_GET_DEBUGREGS.
#pragma once

#include <linux/kvm.h>

#include "arch/x86/cpu_state.h"

namespace kvmdbg::arch::x86 {

/// The kernel structs that together hold one vCPU's state.
struct KvmX86Regs {
    kvm_regs regs{};
    kvm_sregs sregs{};
    kvm_fpu fpu{};
    kvm_debugregs debugregs{};
    __u64 kernel_gs_base = 0;  // MSR 0xc0000102
};

/// MSR number of KERNEL_GS_BASE (Intel SDM Vol. 4, table 2-2).
inline constexpr __u32 kMsrKernelGsBase = 0xc0000102;

/// Fills `out` from the kernel structs.
void from_kvm(const KvmX86Regs& in, KvmdbgX86State& out);

/// Fills the kernel structs from `in`. `out.sregs.interrupt_bitmap` is kept
/// as it was (pending interrupts are not part of KvmdbgX86State).
void to_kvm(const KvmdbgX86State& in, KvmX86Regs& out);

}  // namespace kvmdbg::arch::x86
