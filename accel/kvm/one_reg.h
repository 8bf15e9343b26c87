// KVM_GET_ONE_REG / KVM_SET_ONE_REG on any ISA (Documentation/virt/kvm/
// api.rst "KVM_GET_ONE_REG"): one register by id into or from a buffer, and
// one 32- or 64-bit register as a value (its size is the id's KVM_REG_SIZE
// field). Used by arm64's state and debug hooks and the ppc and riscv64
// guest-debug hooks.
//
// Threads: the vCPU's own thread (inside a KvmVcpu job or the run loop).
#pragma once

#include <cstdint>

#include "common/result.h"

namespace kvmdbg::accel::kvm {

/// One KVM_GET_ONE_REG or KVM_SET_ONE_REG (`request`) of register `id` at
/// `addr` (as many bytes as the id's size). Errors: of the ioctl, as
/// "KVM_GET_ONE_REG(name) failed: ...".
Status transfer_one_reg(int vcpu_fd, unsigned long request, std::uint64_t id, void* addr, const char* name);

/// The register's value, zero-extended. Errors: of the ioctl, naming
/// `name`; EINVAL for an id whose size is neither 4 nor 8 bytes.
Result<std::uint64_t> read_one_reg(int vcpu_fd, std::uint64_t id, const char* name);
/// Writes `value` (truncated to the register's size). Errors: as read_one_reg.
Status write_one_reg(int vcpu_fd, std::uint64_t id, std::uint64_t value, const char* name);

}  // namespace kvmdbg::accel::kvm
