/*
 * Starting the application processors of a multiboot guest (smp.mb.elf,
 * debug_target.mb.elf): copy the real-mode trampoline (ap_trampoline.S)
 * below 1 MiB, then INIT-SIPI-SIPI each APIC ID in turn.
 */
#include "lapic.h"
#include "smp.h"

extern const char ap_trampoline[], ap_trampoline_end[];

void start_aps(u32 ncpus) {
    /* The boot information may be gone after this copy: callers read it first. */
    memcpy((void*)TRAMPOLINE_ADDR, ap_trampoline, (usize)(ap_trampoline_end - ap_trampoline));
    lapic_enable();

    /* APIC IDs are assumed to be 0..N-1, as QEMU and KVM number them. */
    u32 self = lapic_id();
    u32 started = 0;
    for (u32 id = 0; id < 255 && started < ncpus - 1; id++) {
        if (id == self) continue;
        if (!lapic_start_ap(id, TRAMPOLINE_ADDR)) {
            bool locked = console_lock();
            serial_puts("warning: IPI to APIC ID ");
            serial_put_dec(id);
            serial_puts(" stayed pending\n");
            if (locked) console_unlock();
        }
        started++;
    }
}
