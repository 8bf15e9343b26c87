/*
 * The exception frame vectors.S saves and the C side of the vectors.
 *
 * vectors.S saves x0..x30, ELR_EL1, SPSR_EL1, ESR_EL1 and FAR_EL1 on the
 * current stack, calls trap_dispatch(frame, vector) and, when that returns,
 * restores the registers from the frame (so a handler may change elr or any
 * register) and erets. `vector` is the entry index 0..15 (ARM ARM D1.3.3
 * "Exception vectors": 0-3 current EL with SP_EL0, 4-7 current EL with
 * SP_ELx, 8-11 lower EL AArch64, 12-15 lower EL AArch32; within each, sync,
 * IRQ, FIQ, SError).
 *
 *  ESR_EL1  63..37 | 36..32 ISS2 | 31..26 EC | 25 IL | 24..0 ISS
 *           EC 0x3c: BRK instruction in AArch64, ISS[15:0] = the #imm16
 */
#ifndef KVMDBG_GUEST_ARM64_TRAP_H
#define KVMDBG_GUEST_ARM64_TRAP_H

#include "guest.h"

struct trap_frame {
    u64 x[31];
    u64 elr;
    u64 spsr;
    u64 esr;
    u64 far;
    u64 pad;
};

#define ESR_EC(esr) (((esr) >> 26) & 0x3f)
#define ESR_EC_BRK64 0x3c
#define VECTOR_CURRENT_SPX_SYNC 4

/*
 * The program's own handler, tried first; returns true if it handled the
 * exception (the frame is then restored and the guest resumes at elr).
 * Weak: the default declines everything.
 */
bool guest_trap(struct trap_frame* frame, u32 vector);

void trap_dispatch(struct trap_frame* frame, u32 vector);

#endif
