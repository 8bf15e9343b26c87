/*
 * Entry of every arm64 guest. vCPU 0 arrives at _start (EL1h, MMU off,
 * DAIF masked, x0 = DTB address: booting.rst), secondaries started with
 * PSCI CPU_ON at secondary_entry with x0 = the context id (their index,
 * psci.c). Each CPU index i gets the 16 KiB stack below
 * stack_top - i * 16 KiB (guest.ld: 4 stacks).
 */
    .cfi_sections .debug_frame
    .section .text.start, "ax"
    .globl _start
    .type _start, @function
_start:
    mov x19, x0                 /* keep the DTB address */
    ldr x1, =stack_top
    mov sp, x1
    mov x29, #0                 /* end of the frame chain for gdb's bt */
    mov x30, #0
    mov x0, x19
    bl main
1:  wfi
    b 1b
    .size _start, . - _start

    .text
    .globl secondary_entry
    .type secondary_entry, @function
secondary_entry:
    cmp x0, #4                  /* only 4 stacks */
    b.hs 2f
    ldr x1, =stack_top
    lsl x2, x0, #14
    sub x1, x1, x2
    mov sp, x1
    mov x29, #0
    mov x30, #0
    bl secondary_main
2:  wfi
    b 2b
    .size secondary_entry, . - secondary_entry
    .ltorg
