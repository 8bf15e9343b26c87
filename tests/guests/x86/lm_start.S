/*
 * 64-bit entry point for the ELF64 guests (hello.elf64, smp.elf64).
 *
 * The emulator enters here on every vCPU in long mode with RAM identity
 * mapped, RDI = vCPU index, RSI = number of vCPUs, RSP = a private 16-byte
 * aligned stack and interrupts disabled. RDI/RSI already are the first two
 * System V arguments, so main(cpu, ncpus) is called as is.
 */
    .cfi_sections .debug_frame
    .text
    .code64
    .globl _start
    .type _start, @function
_start:
    .cfi_startproc
    .cfi_undefined rip      /* outermost frame: gdb's bt stops here */
    cli
    cld
    andq $-16, %rsp         /* promised aligned; cheap to make sure */
    xorl %ebp, %ebp
    call main
1:  cli
    hlt
    jmp 1b
    .cfi_endproc
    .size _start, . - _start

    .section .note.GNU-stack, "", @progbits
