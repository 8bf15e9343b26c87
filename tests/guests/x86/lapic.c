/*
 * INIT-SIPI-SIPI through the local APIC's interrupt command register.
 *
 * ICR (SDM vol. 3A, figure 10-12), the bits used here:
 *
 *   63      56                          15  14  12  10  8 7        0
 *  +----------+--------------------- ---+---+---+---+------+--------+
 *  | dest ID  |          ...            |TM |LVL|DS | DM   | vector |
 *  +----------+--------------------- ---+---+---+---+------+--------+
 *   TM  trigger mode (1 = level)   LVL level (1 = assert)
 *   DS  delivery status (1 = send pending, read only)
 *   DM  delivery mode: 101 INIT, 110 STARTUP
 *
 * Writing the low half sends the IPI, so the high half goes first.
 */
#include "lapic.h"

#define LAPIC_BASE 0xfee00000u
#define LAPIC_ID 0x020
#define LAPIC_SVR 0x0f0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310

#define SVR_ENABLE (1u << 8)
#define SVR_SPURIOUS_VECTOR 0xffu

#define ICR_DM_INIT (5u << 8)
#define ICR_DM_STARTUP (6u << 8)
#define ICR_DELIVERY_PENDING (1u << 12)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_TRIGGER_LEVEL (1u << 15)

/*
 * Delays are TSC-based with a small PAUSE cap: real hardware wants about
 * 10 ms after INIT and 200 us after each SIPI, while KVM's in-kernel APIC
 * acts at once, so on a host where PAUSE traps the cap keeps start-up short.
 */
#define INIT_DELAY_CYCLES 30000000ull
#define INIT_DELAY_SPINS 50000u
#define SIPI_DELAY_CYCLES 1000000ull
#define SIPI_DELAY_SPINS 5000u
#define ICR_IDLE_SPINS 1000000u

static u32 lapic_read(u32 reg) { return mmio_read32(LAPIC_BASE + reg); }

static void lapic_write(u32 reg, u32 value) { mmio_write32(LAPIC_BASE + reg, value); }

u32 lapic_id(void) { return lapic_read(LAPIC_ID) >> 24; }

void lapic_enable(void) { lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | SVR_ENABLE | SVR_SPURIOUS_VECTOR); }

static bool lapic_send_ipi(u32 apic_id, u32 icr_lo) {
    lapic_write(LAPIC_ICR_HI, apic_id << 24);
    lapic_write(LAPIC_ICR_LO, icr_lo);
    for (u32 i = 0; i < ICR_IDLE_SPINS; i++) {
        if (!(lapic_read(LAPIC_ICR_LO) & ICR_DELIVERY_PENDING)) return true;
        cpu_relax();
    }
    return false;
}

bool lapic_start_ap(u32 apic_id, u32 trampoline_phys) {
    u32 sipi = ICR_DM_STARTUP | (trampoline_phys >> 12);
    bool ok = true;

    ok &= lapic_send_ipi(apic_id, ICR_DM_INIT | ICR_LEVEL_ASSERT | ICR_TRIGGER_LEVEL);
    /* INIT de-assert, as Linux sends it; current CPUs and KVM ignore it. */
    ok &= lapic_send_ipi(apic_id, ICR_DM_INIT | ICR_TRIGGER_LEVEL);
    delay_cycles(INIT_DELAY_CYCLES, INIT_DELAY_SPINS);

    /* The second SIPI is for a CPU that missed the first; a started one ignores it. */
    for (int i = 0; i < 2; i++) {
        ok &= lapic_send_ipi(apic_id, sipi);
        delay_cycles(SIPI_DELAY_CYCLES, SIPI_DELAY_SPINS);
    }
    return ok;
}
