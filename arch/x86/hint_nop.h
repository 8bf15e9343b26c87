// Reserved-NOP ("hint NOP") instructions: 0F 19 .. 0F 1F /r.
//
// Intel SDM Vol. 2B "NOP" and Vol. 1 18 (CET): the opcodes 0F 19-0F 1F with
// a ModRM byte are reserved NOPs; ENDBR32/64 (F3 0F 1E FB/FA) and RDSSPD/Q
// (F3 [REX.W] 0F 1E /1, mod=11) live there and execute as NOPs while CET is
// disabled (CR4.CET = 0). Some hosts' KVM instruction emulators do not know
// them (the PVM hosts of docs/hosts.md: KVM_EXIT_INTERNAL_ERROR, emulation
// failure, on Xen's rdsspq), so
// the accelerator completes them itself. Pure; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace kvmdbg::arch::x86 {

/// CR4.CET (bit 23).
inline constexpr std::uint64_t kCr4Cet = 1ull << 23;

/// Length in bytes of the hint-NOP instruction at the start of `code`
/// (legacy prefixes 66/67/F2/F3/2E/36/3E/26/64/65, a REX prefix in 64-bit
/// mode, 0F 19..1F, ModRM, SIB, displacement), or nothing when `code` does
/// not start with one or is too short. `long_mode`: 64-bit code segment;
/// `addr32`: 32-bit addressing outside long mode (else 16-bit).
std::optional<unsigned> hint_nop_length(std::span<const std::uint8_t> code, bool long_mode, bool addr32 = true);

}  // namespace kvmdbg::arch::x86
