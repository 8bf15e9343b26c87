/* hello.elf: prints a greeting and the DTB address it was given, then
 * powers off through PSCI SYSTEM_OFF (exit status 0). */
#include "guest.h"

__attribute__((noreturn)) void main(u64 dtb);

void main(u64 dtb) {
    trap_init();
    serial_puts("Hello from kvmdbg arm64 guest\n");
    serial_puts("dtb ");
    serial_put_hex(dtb);
    /* An FDT starts with the magic 0xd00dfeed, big-endian. */
    u32 magic = dtb ? mmio_read32((uptr)dtb) : 0;
    serial_puts(magic == 0xedfe0dd0u ? " fdt ok\n" : " no fdt\n");
    power_off();
}
