// s390x guest addresses without a DAT walker: real -> absolute by
// prefixing (z/Architecture Principles of Operation, chapter 3 "Storage",
// "Prefixing"), used for the per-vCPU phys_addr of hw_bp[] and for the
// debugger's memory accesses while the vCPU runs with DAT off.
//
// kvmdbg has no s390 DAT walker (docs/guest-debug.md): a vCPU with
// PSW bit 5 (DAT) on is refused with ENOTSUP and a sentence naming it, never
// translated wrongly.
//
// Threads: pure, any thread.
#pragma once

#include <cstdint>

#include "common/result.h"

namespace kvmdbg::arch::s390x {

/// PSW bit 5: dynamic address translation (bit 0 is the most significant).
inline constexpr std::uint64_t kPswMaskDat = 1ull << 58;
/// The 8 KiB prefix area of z/Architecture.
inline constexpr std::uint64_t kPrefixAreaSize = 0x2000;
/// The prefix register's significant bits (bits 33-50 of a 64-bit value).
inline constexpr std::uint64_t kPrefixMask = 0x7fffe000;

/// Real -> absolute: [0, 8K) and [prefix, prefix + 8K) swap places, every
/// other address is unchanged.
std::uint64_t real_to_absolute(std::uint64_t real, std::uint64_t prefix);

/// The absolute address of `addr` for a vCPU with `psw_mask` and `prefix`:
/// real_to_absolute when DAT is off. Errors: ENOTSUP when PSW bit 5 is on.
Result<std::uint64_t> absolute_without_dat(std::uint64_t psw_mask, std::uint64_t prefix, std::uint64_t addr);

}  // namespace kvmdbg::arch::s390x
