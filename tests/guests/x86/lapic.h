/*
 * Just enough of the xAPIC (MMIO at 0xFEE00000, paging off) for the BSP to
 * start application processors. Intel SDM vol. 3A, 10.6 (ICR) and 8.4.4.1
 * (typical BSP initialisation sequence).
 */
#ifndef KVMDBG_GUEST_X86_LAPIC_H
#define KVMDBG_GUEST_X86_LAPIC_H

#include "guest.h"

/* APIC ID of the calling CPU (xAPIC ID register bits 31:24). */
u32 lapic_id(void);

/* Sets the software-enable bit in the spurious-interrupt vector register. */
void lapic_enable(void);

/*
 * Sends INIT, then two STARTUP IPIs pointing at trampoline_phys (page
 * aligned, below 1 MiB) to the CPU with APIC ID apic_id. Returns false if
 * the local APIC kept an IPI pending past a bound.
 */
bool lapic_start_ap(u32 apic_id, u32 trampoline_phys);

#endif
