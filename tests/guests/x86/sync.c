/*
 * Bounded waiting and the spinlock used between CPUs.
 *
 * Every wait in the guests ends: either the condition holds or the bound
 * expires and the caller prints why. The bound mixes the TSC (wall time on
 * fast hosts) with an iteration cap (hosts whose TSC is odd or whose PAUSE
 * traps), see struct deadline.
 */
#include "guest.h"

void deadline_start(struct deadline* d, u64 tsc_cycles, u32 max_spins) {
    d->tsc_end = rdtsc() + tsc_cycles;
    d->spins_left = max_spins;
}

bool deadline_expired(struct deadline* d) {
    cpu_relax();
    if (d->spins_left == 0) return true;
    d->spins_left--;
    return rdtsc() >= d->tsc_end;
}

void delay_cycles(u64 tsc_cycles, u32 max_spins) {
    struct deadline d;

    deadline_start(&d, tsc_cycles, max_spins);
    while (!deadline_expired(&d)) {
    }
}

bool spin_lock_bounded(spinlock_t* lock) {
    struct deadline d;

    deadline_start(&d, WAIT_TSC_CYCLES, WAIT_MAX_SPINS);
    /* Test-and-test-and-set: spin on a plain read, xchg only when free. */
    while (__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&lock->locked, __ATOMIC_RELAXED)) {
            if (deadline_expired(&d)) return false;
        }
    }
    return true;
}

void spin_unlock(spinlock_t* lock) { __atomic_store_n(&lock->locked, 0, __ATOMIC_RELEASE); }
