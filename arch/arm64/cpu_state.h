/*
 * KvmdbgArm64State: one AArch64 vCPU's architectural state as the framework
 * sees it. A C-compatible plain struct (fixed-size fields, no pointers) so
 * that it can cross the accelerator plugin ABI (accel/plugin_abi.h)
 * unchanged; arch/arm64 code fills and reads it on any host.
 *
 * Where the values come from under KVM (Documentation/virt/kvm/api.rst,
 * "KVM_SET_ONE_REG", arm64 core and system register ids; the adaptor is
 * arch/arm64/regs_kvm.{h,cc}):
 *
 *   field          KVM_{GET,SET}_ONE_REG id             ARM ARM
 *   x[0..30]       KVM_REG_ARM_CORE regs.regs[n]        Xn
 *   sp_el0         KVM_REG_ARM_CORE regs.sp             SP_EL0
 *   sp_el1         KVM_REG_ARM_CORE sp_el1              SP_EL1
 *   pc             KVM_REG_ARM_CORE regs.pc
 *   pstate         KVM_REG_ARM_CORE regs.pstate         PSTATE, SPSR layout
 *   elr_el1        KVM_REG_ARM_CORE elr_el1             (core id, not sys)
 *   spsr_el1       KVM_REG_ARM_CORE spsr[KVM_SPSR_EL1]  (core id, not sys)
 *   v[0..31]       KVM_REG_ARM_CORE fp_regs.vregs[n]    (128-bit)
 *   fpsr, fpcr     KVM_REG_ARM_CORE fp_regs.fpsr/fpcr   (32-bit ids)
 *   sctlr_el1 ..   ARM64_SYS_REG(op0,op1,CRn,CRm,op2)   system register
 *   mair_el1       (see the list at the struct)
 *
 * PSTATE in the SPSR layout (ARM ARM DDI 0487, SPSR_EL1 "when exception
 * taken from AArch64 state"):
 *
 *   31 30 29 28 27..26 25  24  23  22  21 20 19..13 12   11..10  9 8 7 6 5 4 3..2 1 0
 *  +--+--+--+--+------+---+---+---+---+--+--+------+----+------+-+-+-+-+-+-+----+-+-+
 *  |N |Z |C |V | RES0 |TCO|DIT|UAO|PAN|SS|IL| RES0 |SSBS|BTYPE |D|A|I|F|0|nRW|EL |0|SP|
 *  +--+--+--+--+------+---+---+---+---+--+--+------+----+------+-+-+-+-+-+-+----+-+-+
 *
 *   M[3:0] = EL<<2 | SP: 0b0000 EL0t, 0b0100 EL1t, 0b0101 EL1h
 *   M[4] = nRW: 1 = the interrupted state was AArch32
 *   (an EL2 guest under nested virtualisation shows 0b1000/0b1001)
 */
#ifndef KVMDBG_ARCH_ARM64_CPU_STATE_H
#define KVMDBG_ARCH_ARM64_CPU_STATE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct KvmdbgArm64State {
    uint64_t x[31];  /* X0..X30 (X29 = frame pointer, X30 = link register) */
    uint64_t sp_el0; /* SP_EL0: the stack pointer of EL0 and of EL1t */
    uint64_t sp_el1; /* SP_EL1: the stack pointer of EL1h */
    uint64_t pc;
    uint64_t pstate; /* SPSR layout, see above */
    /* FP/SIMD: V0..V31, each 16 bytes in memory order (byte 0 = bits 7:0,
     * i.e. the little-endian image of the 128-bit value). */
    uint8_t v[32][16];
    uint32_t fpsr; /* FPSR */
    uint32_t fpcr; /* FPCR */
    /* EL1 system registers that matter for debugging (64-bit each). */
    uint64_t sctlr_el1; /* SCTLR_EL1: M (bit 0) = stage-1 MMU on */
    uint64_t tcr_el1;   /* TCR_EL1: T0SZ/T1SZ, TG0/TG1, IPS, DS ... */
    uint64_t ttbr0_el1; /* TTBR0_EL1: lower VA range table base */
    uint64_t ttbr1_el1; /* TTBR1_EL1: upper VA range table base */
    uint64_t vbar_el1;  /* VBAR_EL1: exception vector base (2 KiB aligned) */
    uint64_t esr_el1;   /* ESR_EL1: syndrome of the last exception to EL1 */
    uint64_t far_el1;   /* FAR_EL1: faulting virtual address */
    uint64_t elr_el1;   /* ELR_EL1: return address of the last exception */
    uint64_t spsr_el1;  /* SPSR_EL1: PSTATE saved by the last exception */
    uint64_t mdscr_el1; /* MDSCR_EL1: the guest's own debug control (SS, KDE, MDE) */
    uint64_t mair_el1;  /* MAIR_EL1: memory attributes (page-walk context) */
} KvmdbgArm64State;

/* System register encodings (op0, op1, CRn, CRm, op2) for ARM64_SYS_REG()
 * of the kernel's <asm/kvm.h>; ARM ARM DDI 0487, each register's "Accessing" section:
 *   SCTLR_EL1  3 0 1  0 0      TCR_EL1    3 0 2  0 2
 *   TTBR0_EL1  3 0 2  0 0      TTBR1_EL1  3 0 2  0 1
 *   VBAR_EL1   3 0 12 0 0      ESR_EL1    3 0 5  2 0
 *   FAR_EL1    3 0 6  0 0      MDSCR_EL1  2 0 0  2 2
 *   MAIR_EL1   3 0 10 2 0
 * ELR_EL1, SPSR_EL1 and SP_EL1 are "core" registers in KVM's ONE_REG space
 * (struct kvm_regs: elr_el1, spsr[KVM_SPSR_EL1], sp_el1). */

#ifdef __cplusplus
}
#endif

#endif /* KVMDBG_ARCH_ARM64_CPU_STATE_H */
