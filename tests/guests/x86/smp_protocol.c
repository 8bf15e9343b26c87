/*
 * "cpu <i> online" / "all <N> cpus online": the protocol the SMP guests
 * print, identical in 32-bit and 64-bit builds.
 */
#include "smp.h"

static u32 cpus_online;

void cpu_check_in(u32 index) {
    bool locked = console_lock();

    serial_puts("cpu ");
    serial_put_dec(index);
    serial_puts(" online\n");
    if (locked) console_unlock();
    /* Counted only after the line is out, so "all ... online" comes last. */
    __atomic_fetch_add(&cpus_online, 1, __ATOMIC_RELEASE);
}

void wait_for_cpus(u32 expected) {
    struct deadline d;
    u32 online;

    deadline_start(&d, WAIT_TSC_CYCLES, WAIT_MAX_SPINS);
    while ((online = __atomic_load_n(&cpus_online, __ATOMIC_ACQUIRE)) < expected) {
        if (deadline_expired(&d)) break;
    }

    console_lock();
    if (online >= expected) {
        serial_puts("all ");
        serial_put_dec(expected);
        serial_puts(" cpus online\n");
        debug_exit(EXIT_SMP_OK);
    }
    serial_puts("timeout: only ");
    serial_put_dec(online);
    serial_puts(" of ");
    serial_put_dec(expected);
    serial_puts(" cpus\n");
    debug_exit(EXIT_TIMEOUT);
}
