// Adaptor between arch/ppc's plain structs and the powerpc kernel ABI
// (arch/powerpc/include/uapi/asm/kvm.h): kvm_guest_debug with its bp[16],
// kvm_debug_exit_arch, the KVM_REG_PPC_DEBUG_INST one_reg, kvm_regs and the
// BookE part of kvm_sregs (esr, ivpr, ivor_low[]). Documentation/virt/kvm/
// api.rst "KVM_SET_GUEST_DEBUG", "KVM_GET_ONE_REG" (PPC table), "KVM_GET_SREGS".
//
// Compiled only where <linux/kvm.h> is the powerpc one: by a powerpc build
// of the KVM module, and by the cross suite (tests/cross/) with Debian's
// powerpc-linux-gnu-g++ against linux-libc-dev-powerpc-cross, where the
// static_asserts in booke_kvm.cc pin every size, offset and constant used.
// Threads: pure copies, any thread; the ioctls are the caller's.
#pragma once

#include <linux/kvm.h>

#include "arch/ppc/booke_debug.h"
#include "arch/ppc/gdb_registers.h"

namespace kvmdbg::arch::ppc {

/// KVM_REG_PPC | KVM_REG_SIZE_U32 | 0x8b: the 32-bit instruction the kernel
/// treats as a software breakpoint. Read it with KVM_GET_ONE_REG.
inline constexpr std::uint64_t kRegDebugInst = 0x102000000000008bull;

/// The one_reg request that reads KVM_REG_PPC_DEBUG_INST into `*value`.
kvm_one_reg debug_inst_one_reg(__u32* value);

/// The whole kvm_guest_debug: `control` and bp[] (all 16 entries written).
void to_kvm(const PpcDebugRegs& regs, std::uint32_t control, kvm_guest_debug& out);

/// status and address of an exit; the caller adds pc and what it asked for.
void from_kvm(const kvm_debug_exit_arch& in, DebugExitInfo& out);

/// gdb-visible registers from / into kvm_regs (other fields kept).
void from_kvm(const kvm_regs& in, PpcE500State& out);
void to_kvm(const PpcE500State& in, kvm_regs& out);

/// The program-interrupt registers from kvm_regs and the BookE sregs
/// (the caller sets sregs.u.e.features as read by KVM_GET_SREGS).
BookeInterruptState interrupt_state_from_kvm(const kvm_regs& regs, const kvm_sregs& sregs);
void interrupt_state_to_kvm(const BookeInterruptState& in, kvm_regs& regs, kvm_sregs& sregs);

}  // namespace kvmdbg::arch::ppc
