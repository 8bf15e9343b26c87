// Reflection of a debug exception that is not the debugger's (a guest BRK,
// the guest's own step, breakpoint or watchpoint) into the guest: emulate
// what the processor would have done had KVM not intercepted it, i.e. take
// a synchronous exception to EL1 (ARM ARM DDI 0487, D1.10 "Exception
// entry" and the AArch64.TakeException() pseudocode).
//
// The plan is a pure function of the guest's PSTATE, PC, VBAR_EL1,
// SCTLR_EL1 and the decoded exit. The caller writes the six values
// (ESR_EL1, FAR_EL1 when `writes_far`, ELR_EL1, SPSR_EL1, PSTATE, PC) with
// KVM_SET_ONE_REG and resumes. Firecracker's "inject" is a no-op resume: the
// guest re-executes its BRK, exits again, forever. Here the PC always moves
// to the guest's vector, so the next KVM_RUN runs the guest's handler.
//
//   ESR_EL1  = EC' << 26 | IL | ISS | ISS2 << 32
//              EC' = the variant the guest's own EL sees:
//                    from EL1 (current EL):  0x31 bp, 0x33 step, 0x35 watch
//                    from EL0 (lower EL):    0x30 bp, 0x32 step, 0x34 watch
//                    BRK stays 0x3c
//              IL  = 1 (RES1 for these classes; 32-bit A64 instruction)
//   FAR_EL1  = far                (watchpoints only; UNKNOWN otherwise, kept)
//   ELR_EL1  = PC                 (BRK, breakpoint, watchpoint: the faulting
//                                  instruction, it did not complete; software
//                                  step: the next instruction to be stepped,
//                                  which KVM's PC already is, D2.12)
//   SPSR_EL1 = old PSTATE         (software step: SS cleared, the exception
//                                  is taken from the active-pending state)
//   PSTATE   = old NZCV/DIT/... with M = EL1h (0b0101), nRW = 0,
//              D A I F = 1, SS = 0, IL = 0, BTYPE = 0, and per features:
//              PAN = 1 if SCTLR_EL1.SPAN == 0, UAO = 0,
//              SSBS = SCTLR_EL1.DSSBS, TCO = 1 (each only with the feature);
//              from AArch32 EL0 only NZCV survives (IT, GE, Q, T, E and
//              AArch32's own SSBS/DIT positions mean nothing in AArch64)
//   PC       = VBAR_EL1 + vector offset + 0x000 (synchronous):
//
//     taken from          offset      (D1.10.2 "Exception vectors")
//     EL1t (SP_EL0)       0x000       current EL with SP_EL0
//     EL1h (SP_EL1)       0x200       current EL with SP_ELx
//     EL0, AArch64        0x400       lower EL using AArch64
//     EL0, AArch32        0x600       lower EL using AArch32
//
// Threads: pure, any thread.
#pragma once

#include <cstdint>

#include "arch/arm64/debug_exit.h"
#include "common/result.h"

namespace kvmdbg::arch::arm64 {

/// PSTATE bits (SPSR layout, cpu_state.h).
namespace pstate {
inline constexpr std::uint64_t kSp = 1ull << 0;      ///< M[0]: SP_ELx selected
inline constexpr std::uint64_t kElMask = 3ull << 2;  ///< M[3:2]
inline constexpr std::uint64_t kNrw = 1ull << 4;     ///< M[4]: AArch32
inline constexpr std::uint64_t kModeMask = 0x1full;  ///< M[4:0]
inline constexpr std::uint64_t kF = 1ull << 6;
inline constexpr std::uint64_t kI = 1ull << 7;
inline constexpr std::uint64_t kA = 1ull << 8;
inline constexpr std::uint64_t kD = 1ull << 9;
inline constexpr std::uint64_t kDaif = kD | kA | kI | kF;
inline constexpr std::uint64_t kBtype = 3ull << 10;
inline constexpr std::uint64_t kSsbs = 1ull << 12;
inline constexpr std::uint64_t kIl = 1ull << 20;
inline constexpr std::uint64_t kSs = 1ull << 21;
inline constexpr std::uint64_t kPan = 1ull << 22;
inline constexpr std::uint64_t kUao = 1ull << 23;
inline constexpr std::uint64_t kTco = 1ull << 25;
inline constexpr std::uint64_t kModeEl0t = 0b00000;
inline constexpr std::uint64_t kModeEl1t = 0b00100;
inline constexpr std::uint64_t kModeEl1h = 0b00101;
constexpr unsigned el(std::uint64_t ps) { return static_cast<unsigned>((ps >> 2) & 3); }
}  // namespace pstate

/// SCTLR_EL1 bits the exception entry reads.
namespace sctlr {
inline constexpr std::uint64_t kM = 1ull << 0;       ///< stage-1 MMU enable
inline constexpr std::uint64_t kSpan = 1ull << 23;   ///< 0: set PAN on entry to EL1
inline constexpr std::uint64_t kDssbs = 1ull << 44;  ///< SSBS value on exception entry
}  // namespace sctlr

/// Optional architecture features of the guest's CPU (ID_AA64MMFR1/PFR1)
/// that change what exception entry writes to PSTATE. All off = ARMv8.0.
struct ExceptionEntryFeatures {
    bool pan = false;   ///< FEAT_PAN
    bool uao = false;   ///< FEAT_UAO
    bool ssbs = false;  ///< FEAT_SSBS
    bool mte = false;   ///< FEAT_MTE (TCO set on entry)
};

/// The guest state the reflection needs.
struct ReflectInput {
    std::uint64_t pstate = 0;
    std::uint64_t pc = 0;
    std::uint64_t vbar_el1 = 0;
    std::uint64_t sctlr_el1 = 0;
    DecodedDebugExit event{};
    ExceptionEntryFeatures features{};
};

/// The registers to write.
struct ReflectPlan {
    std::uint64_t esr_el1 = 0;
    bool writes_far = false;  ///< watchpoints: FAR_EL1 = far_el1
    std::uint64_t far_el1 = 0;
    std::uint64_t elr_el1 = 0;
    std::uint64_t spsr_el1 = 0;
    std::uint64_t pstate = 0;
    std::uint64_t pc = 0;
    std::uint32_t vector_offset = 0;  ///< 0x000, 0x200, 0x400 or 0x600
};

/// The vector offset for a synchronous exception to EL1 taken from `ps`.
/// Errors: ENOTSUP for EL2/EL3 (a nested hypervisor's own exceptions go to
/// its VBAR_EL2; kvmdbg does not emulate that) and for an AArch32 state
/// claiming EL1 (AArch32 EL1 is not supported by KVM arm64 guests).
Result<std::uint32_t> sync_vector_offset(std::uint64_t ps);

/// Plans the exception entry described at the top of this file.
/// Errors: EINVAL for an `unknown` event (nothing architectural to
/// reflect; name the EC); those of sync_vector_offset; EINVAL when
/// VBAR_EL1 bits 10:0 are not zero (RES0: the guest never set up vectors
/// properly, and the entry would be wrong).
Result<ReflectPlan> plan_reflection(const ReflectInput& input);

}  // namespace kvmdbg::arch::arm64
