/*
 * KvmdbgX86State: one x86-64 vCPU's architectural state as the framework
 * sees it. A C-compatible plain struct so that it can cross the accelerator
 * plugin ABI (accel/plugin_abi.h) unchanged; arch/x86 code fills and reads it
 * on any host.
 */
#ifndef KVMDBG_ARCH_X86_CPU_STATE_H
#define KVMDBG_ARCH_X86_CPU_STATE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * One vCPU's architectural state as the framework sees it. Field order of
 * `gpr` follows the kernel's struct kvm_regs: rax rbx rcx rdx rsi rdi rsp
 * rbp r8..r15. Segments mirror struct kvm_segment (Intel SDM Vol. 3A 3.4.5).
 */
typedef struct KvmdbgX86Segment {
    uint64_t base;
    uint32_t limit;
    uint16_t selector;
    uint8_t type, present, dpl, db, s, l, g, avl, unusable, padding;
} KvmdbgX86Segment;

typedef struct KvmdbgX86Dtable {
    uint64_t base;
    uint16_t limit;
    uint16_t padding[3];
} KvmdbgX86Dtable;

enum KvmdbgX86Gpr {
    KVMDBG_X86_RAX,
    KVMDBG_X86_RBX,
    KVMDBG_X86_RCX,
    KVMDBG_X86_RDX,
    KVMDBG_X86_RSI,
    KVMDBG_X86_RDI,
    KVMDBG_X86_RSP,
    KVMDBG_X86_RBP,
    KVMDBG_X86_R8,
    KVMDBG_X86_R9,
    KVMDBG_X86_R10,
    KVMDBG_X86_R11,
    KVMDBG_X86_R12,
    KVMDBG_X86_R13,
    KVMDBG_X86_R14,
    KVMDBG_X86_R15,
};

typedef struct KvmdbgX86State {
    uint64_t gpr[16];
    uint64_t rip, rflags;
    KvmdbgX86Segment cs, ds, es, fs, gs, ss, tr, ldt;
    KvmdbgX86Dtable gdt, idt;
    uint64_t cr0, cr2, cr3, cr4, cr8, efer, apic_base;
    uint64_t kernel_gs_base;  /* MSR_KERNEL_GS_BASE */
    uint64_t dr[4], dr6, dr7; /* the guest's own debug registers */
    /* x87/SSE (FXSAVE layout semantics, Intel SDM Vol. 1 10.5.1) */
    uint8_t fpr[8][16]; /* ST0..7, 80-bit values in the low 10 bytes */
    uint16_t fcw, fsw;
    uint8_t ftwx; /* abridged tag word */
    uint8_t padding8;
    uint16_t last_opcode;
    uint64_t last_ip, last_dp;
    uint8_t xmm[16][16];
    uint32_t mxcsr;
    uint32_t padding32;
} KvmdbgX86State;

#ifdef __cplusplus
}
#endif

#endif /* KVMDBG_ARCH_X86_CPU_STATE_H */
