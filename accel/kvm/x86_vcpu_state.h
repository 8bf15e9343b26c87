// Reading and writing one x86 vCPU's whole state with the KVM ioctls
// KVM_GET/SET_REGS, _SREGS, _FPU, _DEBUGREGS and _MSRS (KERNEL_GS_BASE).
// load/store must run on the vCPU's own thread (inside a KvmVcpu job).
#pragma once

#include <cstdint>

#include "accel/kvm/guest_memory.h"
#include "arch/x86/cpu_state.h"
#include "common/result.h"

namespace kvmdbg::accel::kvm {

class KvmVm;

Status load_x86_state(int vcpu_fd, KvmdbgX86State& out);
Status store_x86_state(int vcpu_fd, const KvmdbgX86State& in);

/// The state of vCPU `cpu` of an x86 VM (any thread, including the vCPU's own).
Result<KvmdbgX86State> x86_vcpu_state(KvmVm& vm, std::uint32_t cpu);

/// Guest memory at virtual addresses through the paging state of `state`
/// (arch/x86/page_walk.h).
GuestMemory x86_guest_memory(const KvmVm& vm, const KvmdbgX86State& state);

}  // namespace kvmdbg::accel::kvm
