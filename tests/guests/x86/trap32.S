/*
 * 32-bit exception entry stubs. Each pushes a dummy error code where the CPU
 * does not push one, then the vector, so trap_report() sees one layout.
 */
    .cfi_sections .debug_frame
    .text
    .code32

.irp vec, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
trap_\vec:
    pushl $0
    pushl $\vec
    jmp trap_common
.endr

/* Vectors for which the CPU pushes an error code (SDM vol. 3A, table 6-1). */
.irp vec, 8,10,11,12,13,14,17,21,29,30
trap_\vec:
    pushl $\vec
    jmp trap_common
.endr

    .type trap_common, @function
trap_common:
    cld
    movl %esp, %eax
    andl $-16, %esp         /* the C ABI wants a 16-byte aligned call site */
    subl $12, %esp
    pushl %eax
    call trap_report
1:  cli
    hlt
    jmp 1b
    .size trap_common, . - trap_common

    .section .rodata
    .balign 4
    .globl trap_stubs
trap_stubs:
.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .long trap_\vec
.endr

    .section .note.GNU-stack, "", @progbits
