// riscv64 guest addresses without a page walker: a vCPU whose satp.MODE
// (the guest's vsatp, KVM's CSR satp) is Bare addresses guest-physical
// memory directly (privileged ISA, "Supervisor Address Translation and
// Protection (satp) Register"). kvmdbg has no Sv39/Sv48/Sv57 walker yet: a
// vCPU with paging on is refused with ENOTSUP and a sentence naming the
// mode, never translated wrongly.
//
// Threads: pure, any thread.
#pragma once

#include <cstdint>

#include "common/result.h"

namespace kvmdbg::arch::riscv64 {

/// satp.MODE, bits 63:60 (0 Bare, 8 Sv39, 9 Sv48, 10 Sv57).
inline constexpr unsigned kSatpModeShift = 60;

/// `va` itself when satp.MODE is Bare. Errors: ENOTSUP otherwise.
Result<std::uint64_t> physical_without_paging(std::uint64_t satp, std::uint64_t va);

}  // namespace kvmdbg::arch::riscv64
