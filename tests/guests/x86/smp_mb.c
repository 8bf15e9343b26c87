/*
 * smp.mb.elf: the multiboot SMP guest. Only the BSP is running at entry;
 * it reads "cpus=N" from the command line, starts N-1 APs itself with
 * INIT-SIPI-SIPI through the local APIC, and waits for every CPU to check in.
 */
#include "cmdline.h"
#include "lapic.h"
#include "multiboot.h"
#include "smp.h"

extern const char ap_trampoline[], ap_trampoline_end[];

__attribute__((noreturn)) void main(u32 magic, const struct multiboot_info *mbi);
__attribute__((noreturn)) void ap_main(u32 index);

/* Number of CPUs asked for on the command line; 1 without "cpus=". */
static u32 requested_cpus(const struct multiboot_info *mbi)
{
    u32 n = 1;

    if (!(mbi->flags & MBI_FLAG_CMDLINE))
        return 1;
    if (cmdline_get_uint((const char *)(uptr)mbi->cmdline, MB_CMDLINE_MAX, "cpus", &n) ==
            CMDLINE_BAD ||
        n == 0 || n > MAX_CPUS) {
        serial_puts("bad cpus= on the command line (want 1..");
        serial_put_dec(MAX_CPUS);
        serial_puts(")\n");
        debug_exit(EXIT_BAD_ARGS);
    }
    return n;
}

static void start_aps(u32 ncpus)
{
    /* The boot information may be gone after this copy: read it first. */
    memcpy((void *)TRAMPOLINE_ADDR, ap_trampoline, (usize)(ap_trampoline_end - ap_trampoline));
    lapic_enable();

    /* APIC IDs are assumed to be 0..N-1, as QEMU and KVM number them. */
    u32 self = lapic_id();
    u32 started = 0;
    for (u32 id = 0; id < 255 && started < ncpus - 1; id++) {
        if (id == self)
            continue;
        if (!lapic_start_ap(id, TRAMPOLINE_ADDR)) {
            bool locked = console_lock();
            serial_puts("warning: IPI to APIC ID ");
            serial_put_dec(id);
            serial_puts(" stayed pending\n");
            if (locked)
                console_unlock();
        }
        started++;
    }
}

void main(u32 magic, const struct multiboot_info *mbi)
{
    trap_init();

    if (magic != MB_BOOT_MAGIC) {
        serial_puts("bad multiboot magic\n");
        debug_exit(EXIT_BAD_MAGIC);
    }

    u32 ncpus = requested_cpus(mbi);
    cpu_check_in(0);
    if (ncpus > 1)
        start_aps(ncpus);
    wait_for_cpus(ncpus);
}

/* Reached from ap_entry32 (ap_trampoline.S) on the AP's own stack. */
void ap_main(u32 index)
{
    trap_init(); /* the BSP built the table; this only loads it */
    cpu_check_in(index);
    halt_forever();
}
