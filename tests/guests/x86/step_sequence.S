/*
 * step_sequence: a function whose instructions a debugger single-steps and
 * compares against the ELF symbol table (debug_target.elf64 / .mb.elf).
 *
 * Every instruction is preceded by a global label step_<n>, so the expected
 * RIP sequence of `stepi` from step_0 is step_0, step_1, ..., step_7, then
 * step_ret (the `ret`), then the return address in the caller. The lengths
 * vary on purpose (a stepper that assumes a fixed length, or decodes one
 * instruction wrong, lands between labels). Only caller-saved registers are
 * touched and the results are fixed, so a debugger can check them too:
 *
 *   label    64-bit (ELF64)                 bytes  | 32-bit (multiboot)         bytes
 *   step_0   nop                            1      | nop                        1
 *   step_1   mov  $1, %eax                  5      | mov  $1, %eax              5
 *   step_2   xor  %edx, %edx                2      | xor  %edx, %edx            2
 *   step_3   add  %rdx, %rax                3      | add  %edx, %eax            2
 *   step_4   lea  step_data(%rip), %rcx     7      | lea  step_data, %ecx       6
 *   step_5   inc  %eax                      2      | inc  %eax                  1
 *   step_6   movabs $0x1122334455667788,%rdx 10    | mov  $0x55667788, %edx     5
 *   step_7   mov  %rax, (%rcx)              3      | mov  %eax, (%ecx)          2
 *   step_ret ret                            1      | ret                        1
 *
 * After step_1 eax = 1; step_2 edx = 0; step_3 eax = 1; step_4 rcx =
 * &step_data; step_5 eax = 2; step_6 rdx = 0x1122334455667788 (edx =
 * 0x55667788 in 32-bit); step_7 step_data = 2. check_images.py verifies the
 * label order and the byte lengths above.
 */
    .cfi_sections .debug_frame
    .text
    .globl step_sequence
    .type step_sequence, @function
    .globl step_0, step_1, step_2, step_3, step_4, step_5, step_6, step_7, step_ret
    .balign 16
step_sequence:
    .cfi_startproc
#ifdef __x86_64__
step_0: nop
step_1: movl $1, %eax
step_2: xorl %edx, %edx
step_3: addq %rdx, %rax
step_4: leaq step_data(%rip), %rcx
step_5: incl %eax
step_6: movabsq $0x1122334455667788, %rdx
step_7: movq %rax, (%rcx)
#else
step_0: nop
step_1: movl $1, %eax
step_2: xorl %edx, %edx
step_3: addl %edx, %eax
step_4: leal step_data, %ecx
step_5: incl %eax
step_6: movl $0x55667788, %edx
step_7: movl %eax, (%ecx)
#endif
step_ret:
    ret
    .cfi_endproc
    .size step_sequence, . - step_sequence

    .data
    .balign 8
    .globl step_data
    .type step_data, @object
step_data:
    .quad 0
    .size step_data, 8

    .section .note.GNU-stack, "", @progbits
