/*
 * smp.mb.elf: the multiboot SMP guest. Only the BSP is running at entry;
 * it reads "cpus=N" from the command line, starts N-1 APs itself with
 * INIT-SIPI-SIPI through the local APIC, and waits for every CPU to check in.
 */
#include "cmdline.h"
#include "multiboot.h"
#include "smp.h"

__attribute__((noreturn)) void main(u32 magic, const struct multiboot_info* mbi);

/* Number of CPUs asked for on the command line; 1 without "cpus=". */
static u32 requested_cpus(const struct multiboot_info* mbi) {
    u32 n = 1;

    if (!(mbi->flags & MBI_FLAG_CMDLINE)) return 1;
    if (cmdline_get_uint((const char*)(uptr)mbi->cmdline, MB_CMDLINE_MAX, "cpus", &n) == CMDLINE_BAD || n == 0 ||
        n > MAX_CPUS) {
        serial_puts("bad cpus= on the command line (want 1..");
        serial_put_dec(MAX_CPUS);
        serial_puts(")\n");
        debug_exit(EXIT_BAD_ARGS);
    }
    return n;
}

void main(u32 magic, const struct multiboot_info* mbi) {
    trap_init();

    if (magic != MB_BOOT_MAGIC) {
        serial_puts("bad multiboot magic\n");
        debug_exit(EXIT_BAD_MAGIC);
    }

    u32 ncpus = requested_cpus(mbi);
    cpu_check_in(0);
    if (ncpus > 1) start_aps(ncpus);
    wait_for_cpus(ncpus);
}

/* Reached from ap_entry32 (ap_trampoline.S) on the AP's own stack. */
void ap_main(u32 index) {
    trap_init(); /* the BSP built the table; this only loads it */
    cpu_check_in(index);
    halt_forever();
}
