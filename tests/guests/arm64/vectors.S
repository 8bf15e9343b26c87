/*
 * The exception vector table for VBAR_EL1 (ARM ARM D1.3.3: 2 KiB aligned,
 * 16 entries of 0x80 bytes). Every entry saves a struct trap_frame (trap.h)
 * and calls trap_dispatch(frame, index); on return it restores the frame
 * (ELR_EL1 and SPSR_EL1 included) and erets.
 */
    .cfi_sections .debug_frame
    .macro ventry index
    .balign 0x80
    sub sp, sp, #288
    stp x0, x1, [sp, #0]
    mov x1, #\index
    b trap_common
    .endm

    .text
    .balign 2048
    .globl guest_vectors
guest_vectors:
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    ventry \i
    .endr

    .type trap_common, @function
trap_common:
    stp x2, x3, [sp, #16]
    stp x4, x5, [sp, #32]
    stp x6, x7, [sp, #48]
    stp x8, x9, [sp, #64]
    stp x10, x11, [sp, #80]
    stp x12, x13, [sp, #96]
    stp x14, x15, [sp, #112]
    stp x16, x17, [sp, #128]
    stp x18, x19, [sp, #144]
    stp x20, x21, [sp, #160]
    stp x22, x23, [sp, #176]
    stp x24, x25, [sp, #192]
    stp x26, x27, [sp, #208]
    stp x28, x29, [sp, #224]
    mrs x2, elr_el1
    stp x30, x2, [sp, #240]
    mrs x2, spsr_el1
    mrs x3, esr_el1
    stp x2, x3, [sp, #256]
    mrs x2, far_el1
    str x2, [sp, #272]
    mov x0, sp
    bl trap_dispatch
    ldp x30, x2, [sp, #240]
    msr elr_el1, x2
    ldr x2, [sp, #256]
    msr spsr_el1, x2
    ldp x0, x1, [sp, #0]
    ldp x2, x3, [sp, #16]
    ldp x4, x5, [sp, #32]
    ldp x6, x7, [sp, #48]
    ldp x8, x9, [sp, #64]
    ldp x10, x11, [sp, #80]
    ldp x12, x13, [sp, #96]
    ldp x14, x15, [sp, #112]
    ldp x16, x17, [sp, #128]
    ldp x18, x19, [sp, #144]
    ldp x20, x21, [sp, #160]
    ldp x22, x23, [sp, #176]
    ldp x24, x25, [sp, #192]
    ldp x26, x27, [sp, #208]
    ldp x28, x29, [sp, #224]
    add sp, sp, #288
    eret
    .size trap_common, . - trap_common
