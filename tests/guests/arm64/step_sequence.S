/*
 * step_sequence: a function whose instructions a debugger single-steps and
 * compares against the ELF symbol table (debug_target.elf). Every A64
 * instruction is 4 bytes, so the labels are 4 bytes apart; `stepi` from
 * step_0 visits step_0, step_1, ..., step_7, step_ret, then the return
 * address in the caller. Only caller-saved registers are touched and the
 * results are fixed:
 *
 *   label    instruction                       after it
 *   step_0   nop
 *   step_1   mov   w0, #1                      x0 = 1
 *   step_2   mov   x2, xzr                     x2 = 0
 *   step_3   add   x0, x0, x2                  x0 = 1
 *   step_4   adr   x1, step_data               x1 = &step_data
 *   step_5   add   w0, w0, #1                  x0 = 2
 *   step_6   movz  x2, #0x7788                 x2 = 0x7788
 *   step_7   str   x0, [x1]                    step_data = 2
 *   step_ret ret
 *
 * check_images.py verifies the label order, spacing and encodings.
 */
    .cfi_sections .debug_frame
    .text
    .globl step_sequence
    .type step_sequence, @function
    .globl step_0, step_1, step_2, step_3, step_4, step_5, step_6, step_7, step_ret
    .balign 16
step_sequence:
    .cfi_startproc
step_0: nop
step_1: mov w0, #1
step_2: mov x2, xzr
step_3: add x0, x0, x2
step_4: adr x1, step_data
step_5: add w0, w0, #1
step_6: movz x2, #0x7788
step_7: str x0, [x1]
step_ret:
    ret
    .cfi_endproc
    .size step_sequence, . - step_sequence

    .data
    .balign 8
    .globl step_data
step_data:
    .quad 0
