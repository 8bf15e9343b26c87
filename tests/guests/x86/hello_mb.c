/*
 * hello.mb.elf / hello.mb.bin: the multiboot hello guest (32-bit protected
 * mode, paging off). Prints a greeting, the command line and mem_upper from
 * the multiboot information, then exits with EXIT_HELLO_OK.
 */
#include "multiboot.h"

__attribute__((noreturn)) void main(u32 magic, const struct multiboot_info* mbi);

void main(u32 magic, const struct multiboot_info* mbi) {
    trap_init();

    /* Without the magic, EBX is not known to point at boot information. */
    if (magic != MB_BOOT_MAGIC) {
        serial_puts("bad multiboot magic\n");
        debug_exit(EXIT_BAD_MAGIC);
    }

    serial_puts("Hello from kvmdbg guest\n");

    serial_puts("cmdline: ");
    if (mbi->flags & MBI_FLAG_CMDLINE)
        serial_putsn((const char*)(uptr)mbi->cmdline, MB_CMDLINE_MAX);
    else
        serial_puts("(none)");
    serial_putc('\n');

    serial_puts("mem_upper: ");
    if (mbi->flags & MBI_FLAG_MEM)
        serial_put_dec(mbi->mem_upper);
    else
        serial_puts("(none)");
    serial_putc('\n');

    debug_exit(EXIT_HELLO_OK);
}
