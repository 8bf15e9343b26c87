// Reading and writing one arm64 vCPU's state with KVM_GET/SET_ONE_REG
// (api.rst 4.68/4.69; the register ids: arch/arm64/regs_kvm.h), and guest
// memory through its stage-1 translation (arch/arm64/page_walk.h).
// load/store and the one-register helpers must run on the vCPU's own thread
// (inside a KvmVcpu job or the run loop).
#pragma once

#include <cstdint>

#include "accel/kvm/guest_memory.h"
#include "arch/arm64/cpu_state.h"
#include "common/result.h"

namespace kvmdbg::accel::kvm {

class KvmVm;

/// Every register of KvmdbgArm64State. Errors name the register.
Status load_arm64_state(int vcpu_fd, KvmdbgArm64State& out);
/// Writes every register of `in`.
Status store_arm64_state(int vcpu_fd, const KvmdbgArm64State& in);

/// The state of vCPU `cpu` of an arm64 VM (any thread, including the vCPU's own).
Result<KvmdbgArm64State> arm64_vcpu_state(KvmVm& vm, std::uint32_t cpu);

/// Guest memory at virtual addresses through the EL1&0 stage-1 regime of
/// `state` (identity with the MMU off).
GuestMemory arm64_guest_memory(const KvmVm& vm, const KvmdbgArm64State& state);

}  // namespace kvmdbg::accel::kvm
