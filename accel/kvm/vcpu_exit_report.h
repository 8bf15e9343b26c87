// Messages for the vCPU exits that end or stop a guest: what the user sees on
// stderr (and, later, gdb in a stop reply). Built on the vCPU thread from the
// kvm_run page, the vCPU state and the code bytes at RIP.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <span>
#include <string>

#include "arch/x86/cpu_state.h"

namespace kvmdbg::accel::kvm {

/// "KVM_EXIT_IO", "KVM_EXIT_SHUTDOWN", ... or "exit reason N".
std::string exit_reason_name(std::uint32_t reason);

/// Linear address of the instruction pointer: CS.base + RIP outside long mode.
std::uint64_t x86_pc_linear(const KvmdbgX86State& state);

/// KVM_EXIT_INTERNAL_ERROR: suberror (with its name), RIP, the code bytes at
/// RIP (`code` may be empty when RIP is not mapped) and a register dump.
std::string describe_internal_error(const kvm_run& run, std::uint32_t cpu, const KvmdbgX86State& state,
                                    std::span<const std::uint8_t> code);

/// KVM_EXIT_SHUTDOWN (triple fault) with the code bytes at RIP and a register dump.
std::string describe_shutdown(std::uint32_t cpu, const KvmdbgX86State& state, std::span<const std::uint8_t> code);

/// KVM_EXIT_FAIL_ENTRY with the hardware reason.
std::string describe_fail_entry(const kvm_run& run, std::uint32_t cpu, const KvmdbgX86State& state);

}  // namespace kvmdbg::accel::kvm
