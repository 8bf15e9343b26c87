/*
 * Multiboot v1 header and 32-bit entry point (hello.mb.*, smp.mb.elf).
 *
 * Built twice: as is for ELF kernels (the loader uses the ELF program
 * headers), and with -DMB_AOUT_KLUDGE for the flat binary, whose header must
 * itself say where the image goes (spec 3.1.3, address fields).
 */
#include "multiboot.h"

#ifdef MB_AOUT_KLUDGE
#define MB_FLAGS (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO | MB_FLAG_AOUT_KLUDGE)
#else
#define MB_FLAGS (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO)
#endif

#define BOOT_STACK_SIZE 16384

    .cfi_sections .debug_frame

/* The linker script puts .multiboot first: it must be in the file's first 8 KiB. */
    .section .multiboot, "a"
    .balign 4
mb_header:
    .long MB_HEADER_MAGIC
    .long MB_FLAGS
    .long (0 - (MB_HEADER_MAGIC + MB_FLAGS)) & 0xffffffff
#ifdef MB_AOUT_KLUDGE
    .long mb_header         /* header_addr */
    .long _load_start       /* load_addr: file offset 0 goes here */
    .long _edata            /* load_end_addr: end of the file's contents */
    .long _end              /* bss_end_addr: the loader zeroes up to here */
    .long _start            /* entry_addr */
#endif

    .text
    .code32
    .globl _start
    .type _start, @function
_start:
    .cfi_startproc
    .cfi_undefined eip      /* outermost frame: gdb's bt stops here */
    cli
    cld
    movl $boot_stack_top, %esp
    /*
     * The loader's GDT and selectors are undefined (spec 3.2) and may live in
     * memory we do not own; switch to ours before anything else. EAX and EBX
     * (magic, info pointer) must survive until main().
     */
    lgdt gdt_ptr
    ljmp $GDT_CODE32, $1f
1:  movw $GDT_DATA32, %cx
    movw %cx, %ds
    movw %cx, %es
    movw %cx, %fs
    movw %cx, %gs
    movw %cx, %ss
    xorl %ebp, %ebp
    subl $8, %esp           /* keep the call site 16-byte aligned */
    pushl %ebx              /* struct multiboot_info * */
    pushl %eax              /* boot magic */
    call main
2:  cli
    hlt
    jmp 2b
    .cfi_endproc
    .size _start, . - _start

/*
 * Flat 4 GiB code and data segments. In .data because the CPU writes the
 * accessed bits; the AP trampoline (ap_trampoline.S) loads this same table.
 */
    .data
    .balign 16
    .globl gdt
gdt:
    .quad 0                     /* null */
    .quad 0x00cf9a000000ffff    /* 0x08: code, base 0, limit 4 GiB, 32-bit */
    .quad 0x00cf92000000ffff    /* 0x10: data, base 0, limit 4 GiB, 32-bit */
gdt_end:
    .if gdt_end - gdt - GDT_SIZE
    .error "GDT_SIZE in multiboot.h does not match the table"
    .endif

    .balign 4
    .word 0                     /* align the base field of the pointer */
gdt_ptr:
    .word GDT_SIZE - 1
    .long gdt

    .bss
    .balign 16
boot_stack:
    .skip BOOT_STACK_SIZE
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
