/*
 * debug_target.elf: a program made to be debugged (the arm64 twin of
 * tests/guests/x86/debug_target.c).
 *
 * vCPU 0 calls step_sequence() once (single-step target, step_sequence.S),
 * then tick(i) for i = 0 .. loops-1 (hardware-breakpoint hit counting,
 * write watchpoints on watched_var, conditional breakpoints on loop_index),
 * then read_only_probe() (the only read of watched_var: rwatch/awatch),
 * prints "debug_target done ticks=<tick_count> watched=<probe_sink>" and
 * powers off with PSCI SYSTEM_OFF (status 0). Before that it starts vCPU 1
 * with PSCI CPU_ON if the machine has one (-smp 2 or more): vCPU 1 spins in
 * spin_cpu1() (cpu1_counter++, bounded to ~60 s on the virtual counter) so
 * that a debugger has a second running thread; vCPU 0 waits (bounded, ~3 s)
 * for it to check in, else prints "warning: cpu 1 did not check in". Any
 * further vCPUs stay powered off.
 */
#include "guest.h"

#define DEFAULT_LOOPS 100

/* Globals with external linkage (symbols + DWARF), volatile (one access each). */
volatile u32 loops = DEFAULT_LOOPS;                   /* read once, before the loop */
volatile u32 tick_count;                              /* tick(): ++ (one read, one write) */
volatile u64 watched_var __attribute__((aligned(8))); /* tick(): written only */
volatile u32 loop_index;                              /* main loop: = i before each tick(i) */
volatile u64 probe_sink;                              /* read_only_probe(): = watched_var */
volatile u32 cpu1_checked_in;                         /* vCPU 1: 1 once it is in spin_cpu1() */
volatile u64 cpu1_counter;                            /* vCPU 1: ++ per spin */
volatile u32 done_flag;                               /* vCPU 0: 1 when the loop is over */
volatile u32 cpu1_gave_up;                            /* vCPU 1: 1 if its bound ran out first */

void step_sequence(void); /* step_sequence.S */

__attribute__((noinline, noclone)) void tick(u32 i);
__attribute__((noinline, noclone)) void read_only_probe(void);
__attribute__((noinline, noclone, noreturn)) void spin_cpu1(void);
__attribute__((noreturn)) void secondary_main(u64 index);
__attribute__((noreturn)) void main(u64 dtb);

void tick(u32 i) {
    __asm__ volatile("" : : : "memory");
    tick_count++;
    watched_var = i;
}

void read_only_probe(void) {
    __asm__ volatile("" : : : "memory");
    probe_sink = watched_var;
}

void spin_cpu1(void) {
    u64 end = read_cntvct() + 60 * read_cntfrq();

    cpu1_checked_in = 1;
    while (!done_flag) {
        cpu1_counter++;
        cpu_relax();
        if (read_cntvct() >= end) {
            cpu1_gave_up = 1;
            break;
        }
    }
    halt_forever();
}

void secondary_main(u64 index) {
    trap_init();
    if (index == 1) spin_cpu1();
    halt_forever();
}

void main(u64 dtb) {
    (void)dtb;
    trap_init();
    if (psci_cpu_on(1, 1) == PSCI_SUCCESS) {
        u64 end = read_cntvct() + 3 * read_cntfrq();
        while (!cpu1_checked_in && read_cntvct() < end)
            cpu_relax();
        if (!cpu1_checked_in) serial_puts("warning: cpu 1 did not check in\n");
    }
    step_sequence();

    u32 n = loops;
    for (u32 i = 0; i < n; ++i) {
        loop_index = i;
        tick(i);
    }

    read_only_probe();

    serial_puts("debug_target done ticks=");
    serial_put_dec(tick_count);
    serial_puts(" watched=");
    serial_put_dec((unsigned long)probe_sink);
    serial_putc('\n');
    done_flag = 1;
    power_off();
}
