// KVM_GET_ONE_REG / KVM_SET_ONE_REG of one 32- or 64-bit register by id, on
// any ISA (Documentation/virt/kvm/api.rst "KVM_GET_ONE_REG"): the register's
// size is the id's KVM_REG_SIZE field. Used by the ppc and riscv64
// guest-debug hooks; arm64 keeps its own helpers (arm64_vcpu_state.h).
//
// Threads: the vCPU's own thread (inside a KvmVcpu job or the run loop).
#pragma once

#include <cstdint>

#include "common/result.h"

namespace kvmdbg::accel::kvm {

/// The register's value, zero-extended. Errors: of the ioctl, naming
/// `name`; EINVAL for an id whose size is neither 4 nor 8 bytes.
Result<std::uint64_t> read_one_reg(int vcpu_fd, std::uint64_t id, const char* name);
/// Writes `value` (truncated to the register's size). Errors: as read_one_reg.
Status write_one_reg(int vcpu_fd, std::uint64_t id, std::uint64_t value, const char* name);

}  // namespace kvmdbg::accel::kvm
