/*
 * Application-processor start-up for smp.mb.elf.
 *
 * ap_trampoline..ap_trampoline_end is copied by the BSP to TRAMPOLINE_ADDR
 * (a page below 1 MiB) and entered by STARTUP IPI in real mode with
 * CS = TRAMPOLINE_ADDR >> 4, IP = 0. It only uses CS-relative addresses, so
 * it runs wherever it is copied. It loads the kernel's GDT (mb_start.S) and
 * far-jumps straight into ap_entry32, which is ordinary kernel code at its
 * link address, so gdb sees it with symbols.
 */
#include "multiboot.h"
#include "smp.h"

    .cfi_sections .debug_frame
    .text

    .code16
    .globl ap_trampoline, ap_trampoline_end
ap_trampoline:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    /* 32-bit operand size: the GDT's base is above 1 MiB. */
    lgdtl ap_gdt_ptr - ap_trampoline
    movl %cr0, %eax
    orl $1, %eax                /* CR0.PE */
    movl %eax, %cr0
    ljmpl $GDT_CODE32, $ap_entry32

    .balign 4
    .word 0                     /* align the base field of the pointer */
ap_gdt_ptr:
    .word GDT_SIZE - 1
    .long gdt
ap_trampoline_end:

    .code32
    .globl ap_entry32
    .type ap_entry32, @function
ap_entry32:
    .cfi_startproc
    .cfi_undefined eip          /* outermost frame: gdb's bt stops here */
    movw $GDT_DATA32, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    /*
     * Every AP takes the next index from a shared counter (no assumption
     * about APIC IDs); the index also selects its stack slot.
     */
    movl $1, %eax
    lock xaddl %eax, ap_next_index
    cmpl $MAX_CPUS, %eax
    jae 2f                      /* more CPUs than stacks: park without one */
    leal 1(%eax), %ecx
    shll $AP_STACK_SHIFT, %ecx
    leal ap_stacks(%ecx), %esp  /* top of slot [index] */
    xorl %ebp, %ebp
    subl $12, %esp              /* keep the call site 16-byte aligned */
    pushl %eax
    call ap_main
2:  cli
    hlt
    jmp 2b
    .cfi_endproc
    .size ap_entry32, . - ap_entry32

    .data
    .balign 4
ap_next_index:
    .long 1                     /* 0 is the BSP */

    .bss
    .balign 16
ap_stacks:
    .skip MAX_CPUS * AP_STACK_SIZE

    .section .note.GNU-stack, "", @progbits
