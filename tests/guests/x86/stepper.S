/*
 * stepper.elf64: an endless loop of known instructions, nothing else. No
 * stack, no IDT, no output, no exit: tests interrupt it (Ctrl-C / vCont;t),
 * single-step it and finally kill the emulator.
 *
 * Every vCPU enters _start (RDI = index, RSI = count, long mode) and runs
 * the same 8-instruction loop, incrementing its own stepper_counters[index]
 * once per iteration (vCPU 0's is also named stepper_counter; the
 * variables are in stepper_data.c so that gdb knows their types); vCPUs
 * with index >= STEPPER_MAX_CPUS park in hlt. The loop, with its byte lengths:
 *
 *   stepper_0  nop                           1
 *   stepper_1  mov  $1, %eax                 5
 *   stepper_2  xor  %edx, %edx               2
 *   stepper_3  add  %rdx, %rax               3
 *   stepper_4  lea  stepper_data(%rip), %rcx 7
 *   stepper_5  inc  %eax                     2
 *   stepper_6  incq (%rbx)                   3   the counter
 *   stepper_7  jmp  stepper_0                2
 *
 * so `stepi` from stepper_0 visits stepper_0 .. stepper_7, stepper_0, ...
 * and after any number of whole iterations RAX = 2, RDX = 0, RCX =
 * &stepper_data, RBX = &stepper_counters[index].
 */
#include "stepper.h"

    .cfi_sections .debug_frame
    .text
    .code64
    .globl _start
    .globl stepper_0, stepper_1, stepper_2, stepper_3, stepper_4, stepper_5, stepper_6, stepper_7
    .type _start, @function
_start:
    .cfi_startproc
    .cfi_undefined rip          /* outermost frame: gdb's bt stops here */
    cli
    cmpq $STEPPER_MAX_CPUS, %rdi
    jae stepper_park
    leaq stepper_counters(,%rdi,8), %rbx
    .balign 16
stepper_0: nop
stepper_1: movl $1, %eax
stepper_2: xorl %edx, %edx
stepper_3: addq %rdx, %rax
stepper_4: leaq stepper_data(%rip), %rcx
stepper_5: incl %eax
stepper_6: incq (%rbx)
stepper_7: jmp stepper_0
stepper_park:
    hlt
    jmp stepper_park
    .cfi_endproc
    .size _start, . - _start

    .section .note.GNU-stack, "", @progbits
