// Reading and writing one x86 vCPU's whole state with the KVM ioctls
// KVM_GET/SET_REGS, _SREGS, _FPU, _DEBUGREGS and _MSRS (KERNEL_GS_BASE).
// Must run on the vCPU's own thread (inside a KvmVcpu job).
#pragma once

#include "arch/x86/cpu_state.h"
#include "common/result.h"

namespace kvmdbg::accel::kvm {

Status load_x86_state(int vcpu_fd, KvmdbgX86State& out);
Status store_x86_state(int vcpu_fd, const KvmdbgX86State& in);

}  // namespace kvmdbg::accel::kvm
