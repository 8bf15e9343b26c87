/*
 * debug_target.elf: a program made to be debugged (the arm64 twin of
 * tests/guests/x86/debug_target.c).
 *
 * vCPU 0 calls step_sequence() once (single-step target, step_sequence.S),
 * then tick(i) for i = 0 .. loops-1 (hardware-breakpoint hit counting,
 * write watchpoints on watched_var, conditional breakpoints on loop_index),
 * then read_only_probe() (the only read of watched_var: rwatch/awatch),
 * prints "debug_target done ticks=<tick_count> watched=<probe_sink>" and
 * powers off with PSCI SYSTEM_OFF (status 0).
 */
#include "guest.h"

#define DEFAULT_LOOPS 100

/* Globals with external linkage (symbols + DWARF), volatile (one access each). */
volatile u32 loops = DEFAULT_LOOPS;  /* read once, before the loop */
volatile u32 tick_count;             /* tick(): ++ (one read, one write) */
volatile u64 watched_var __attribute__((aligned(8))); /* tick(): written only */
volatile u32 loop_index;             /* main loop: = i before each tick(i) */
volatile u64 probe_sink;             /* read_only_probe(): = watched_var */

void step_sequence(void); /* step_sequence.S */

__attribute__((noinline, noclone)) void tick(u32 i);
__attribute__((noinline, noclone)) void read_only_probe(void);
__attribute__((noreturn)) void main(u64 dtb);

void tick(u32 i)
{
    __asm__ volatile("" : : : "memory");
    tick_count++;
    watched_var = i;
}

void read_only_probe(void)
{
    __asm__ volatile("" : : : "memory");
    probe_sink = watched_var;
}

void main(u64 dtb)
{
    (void)dtb;
    trap_init();
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
    power_off();
}
