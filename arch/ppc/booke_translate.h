// ppc BookE (e500) guest addresses: the request KVM_TRANSLATE takes on
// e500, whose KVM searches the guest's own TLB (Linux arch/powerpc/kvm/
// e500_mmu.c, kvmppc_core_vcpu_translate): kvm_translation.linear_address
// holds the effective address in bits 0-31, the PID to match in bits 32-39
// and the address space (AS) in bit 40. BookE always translates (there is no
// real mode), so every debugger access goes through this.
//
// Threads: pure, any thread.
#pragma once

#include <cstdint>

namespace kvmdbg::arch::ppc {

/// MSR[IS] and MSR[DS]: the instruction and data address spaces.
inline constexpr std::uint64_t kMsrIs = 0x20;
inline constexpr std::uint64_t kMsrDs = 0x10;

/// linear_address for KVM_TRANSLATE of effective address `ea` by a vCPU
/// with `pid` (PID0) and `msr`: a debugger access is a data access, so AS
/// is MSR[DS] (kernels run with IS == DS; user space likewise).
std::uint64_t translate_request(std::uint64_t ea, std::uint64_t pid, std::uint64_t msr);

}  // namespace kvmdbg::arch::ppc
