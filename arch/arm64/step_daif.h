// Keeping interrupts out of a debugger single step on arm64.
//
// KVM_GUESTDBG_SINGLESTEP makes KVM set MDSCR_EL1.SS and PSTATE.SS for the
// next KVM_RUN (Linux arch/arm64/kvm/debug.c); it does not mask
// interrupts. With a timer or device interrupt pending, the "one
// instruction" the guest executes is the exception entry, and the step
// stops at VBAR_EL1 + 0x280 instead of the next instruction, which is not
// what `stepi` means. So, like QEMU's TCG and gdbserver's practice:
//
//   before the step:  saved = PSTATE & DAIF
//                     PSTATE |= A | I | F     (D is left alone: it masks
//                     only debug exceptions targeting EL1, never the step
//                     exception KVM routes to EL2 with MDCR_EL2.TDE, and
//                     forcing it would change what the stepped instruction
//                     sees if it reads DAIF)
//   after the step:   put the saved bits back, EXCEPT where the stepped
//                     instruction itself defined DAIF:
//
//   stepped instruction           resulting DAIF (and SPSR_EL1)
//   MSR DAIFSet, #imm             saved | imm           (guest's own masking kept)
//   MSR DAIFClr, #imm             saved & ~imm
//   MSR DAIF, Xt                  as after the step     (wrote all four bits)
//   ERET / ERETAA / ERETAB        as after the step     (DAIF from SPSR)
//   anything that took a          as after the step (entry masks all four);
//   synchronous exception         SPSR_EL1's forced bits are put back to
//   (PC landed on VBAR_EL1 +      `saved`, or the handler's ERET would
//   0x000/0x200/0x400/0x600       return with interrupts masked forever
//   with PSTATE EL1h)
//   any other instruction, or     saved
//   none (PC still on it)
//
// Only the DAIF bits are restored: every other PSTATE change the
// instruction made (flags, SP selection, PAN, ...) stays.
//
// When to restore: once, after whatever KVM_EXIT_DEBUG ends the stepping
// run: the step itself, a watchpoint or breakpoint the stepped instruction
// hit (the instruction did not complete: nothing of it is seen, the saved
// bits come back), or a guest event (BRK) that is then reflected. Either
// order works for a reflection: restoring first makes SPSR_EL1 record the
// guest's own DAIF directly; reflecting first leaves the PC on a
// synchronous vector in EL1h, which restore_step_daif recognises and
// repairs SPSR_EL1. Exits that do not end the run (MMIO completed with
// immediate_exit) keep the plan pending.
// A normal resume (continue) never touches DAIF: the plan is only made for
// a step.
//
// Instruction encodings (ARM ARM DDI 0487, C6 "A64 Base Instruction
// Descriptions"):
//   MSR DAIFSet, #imm   1101 0101 0000 0011 0100 imm4 1101 1111  0xd50340df | imm4 << 8
//   MSR DAIFClr, #imm   1101 0101 0000 0011 0100 imm4 1111 1111  0xd50340ff | imm4 << 8
//   MSR DAIF, Xt        0xd51b4220 | Rt
//   ERET                0xd69f03e0;  ERETAA 0xd69f0bff;  ERETAB 0xd69f0fff
//   imm4 bit 3 = D, 2 = A, 1 = I, 0 = F  (so DAIF bits = imm4 << 6)
//
// Threads: pure, any thread.
#pragma once

#include <cstdint>
#include <optional>

namespace kvmdbg::arch::arm64 {

/// How the stepped instruction affects DAIF (see the table above).
enum class DaifEffect : std::uint8_t { none, set, clear, write, eret };

/// Classifies the A64 instruction word `insn`. For `set`/`clear`, `*bits`
/// (if not null) receives the PSTATE DAIF bits (imm4 << 6).
DaifEffect daif_effect(std::uint32_t insn, std::uint64_t* bits = nullptr);

/// What to load before the step and what to remember.
struct StepDaifPlan {
    std::uint64_t saved_daif = 0;   ///< PSTATE & DAIF before the step
    std::uint64_t step_pstate = 0;  ///< PSTATE to load for the step (A, I, F set)
    std::uint64_t pc = 0;           ///< PC of the stepped instruction
    std::uint64_t vbar_el1 = 0;     ///< for detecting an exception entry
    std::uint32_t insn = 0;         ///< the stepped instruction (original, not a BRK)
    bool insn_known = false;        ///< false: memory unreadable, treated as `none`
};

/// Makes the plan for stepping the instruction `insn` (nullopt when the
/// caller could not read it) at `pc` with `pstate`.
StepDaifPlan plan_step_daif(std::uint64_t pstate, std::uint64_t pc, std::uint64_t vbar_el1,
                            std::optional<std::uint32_t> insn);

/// What to write back after the step.
struct StepDaifRestore {
    std::uint64_t pstate = 0;               ///< PSTATE with DAIF restored
    std::optional<std::uint64_t> spsr_el1;  ///< set when SPSR_EL1 must be fixed
    bool exception_taken = false;           ///< the step ended on a sync vector
};

/// Restores DAIF after the step that ended with `pstate_after`, `pc_after`
/// and `spsr_el1_after` (the table above).
StepDaifRestore restore_step_daif(const StepDaifPlan& plan, std::uint64_t pstate_after, std::uint64_t pc_after,
                                  std::uint64_t spsr_el1_after);

}  // namespace kvmdbg::arch::arm64
