/*
 * guest_self_debug: the #DB/#BP entry stubs and the exact instruction
 * sequences whose debug exceptions the guest counts (self_debug.c).
 *
 * Stubs: save the caller-saved registers, call the C handler with a pointer
 * to the frame the CPU pushed (struct iret_frame in self_debug.c: IP, CS,
 * FLAGS, and in 64-bit mode SP, SS), restore, iret. The handler may change
 * the saved FLAGS (RF, TF); neither vector pushes an error code.
 */
    .cfi_sections .debug_frame
    .text

#ifdef __x86_64__
    .code64
.macro ENTRY_STUB name, handler
    .globl \name
    .type \name, @function
\name:
    /* The CPU aligned RSP to 16 before pushing 5 words: 9 more realign it. */
    pushq %rax
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    cld
    leaq 72(%rsp), %rdi
    call \handler
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rax
    iretq
    .size \name, . - \name
.endm
#define PUSHF pushfq
#define POPF popfq
#define OR_TF_TOP orq $0x100, (%rsp)
#define WORD 8
#else
    .code32
.macro ENTRY_STUB name, handler
    .globl \name
    .type \name, @function
\name:
    pushl %eax
    pushl %ecx
    pushl %edx
    cld
    leal 12(%esp), %eax
    pushl %eax
    call \handler
    addl $4, %esp
    popl %edx
    popl %ecx
    popl %eax
    iretl
    .size \name, . - \name
.endm
#define PUSHF pushfl
#define POPF popfl
#define OR_TF_TOP orl $0x100, (%esp)
#define WORD 4
#endif

ENTRY_STUB self_debug_db_entry, self_debug_on_db
ENTRY_STUB self_debug_bp_entry, self_debug_on_bp

/*
 * Part a: K = 3 int3 (0xCC). #BP is a trap: the saved IP is the next label
 * (int3_site_1, int3_site_2, int3_done).
 */
    .globl int3_sequence, int3_site_0, int3_site_1, int3_site_2, int3_done
    .type int3_sequence, @function
int3_sequence:
    .cfi_startproc
int3_site_0: int3
int3_site_1: int3
int3_site_2: int3
int3_done:
    ret
    .cfi_endproc
    .size int3_sequence, . - int3_sequence

/*
 * Part b: TF over M = 4 nops. A single-step #DB is a trap taken after every
 * instruction that *began* with TF = 1 (Intel SDM vol. 3B, 17.3.1.4): not
 * after the POPF that sets TF, but after each nop and after the POPF that
 * clears it. So M + 1 = 5 #DB with DR6.BS, saved IPs tf_nop_1, tf_nop_2,
 * tf_nop_3, tf_clear, tf_done. The flags to restore are pushed before TF is
 * set, so one instruction (tf_clear) ends the stepped region.
 */
    .globl tf_sequence, tf_set, tf_nop_0, tf_nop_1, tf_nop_2, tf_nop_3, tf_clear, tf_done
    .type tf_sequence, @function
tf_sequence:
    .cfi_startproc
    PUSHF                       /* flags to restore: TF = 0 */
    .cfi_adjust_cfa_offset WORD
    PUSHF
    .cfi_adjust_cfa_offset WORD
    OR_TF_TOP
tf_set:
    POPF                        /* TF = 1 from the next instruction on */
    .cfi_adjust_cfa_offset -WORD
tf_nop_0: nop
tf_nop_1: nop
tf_nop_2: nop
tf_nop_3: nop
tf_clear:
    POPF                        /* TF = 0 again */
    .cfi_adjust_cfa_offset -WORD
tf_done:
    ret
    .cfi_endproc
    .size tf_sequence, . - tf_sequence

    .section .note.GNU-stack, "", @progbits
