/*
 * debug_target.elf64 / debug_target.mb.elf: a program made to be debugged.
 *
 * vCPU 0 calls step_sequence() once (single-step target, step_sequence.S),
 * then tick(i) for i = 0 .. loops-1 (hardware-breakpoint hit counting,
 * write watchpoints on watched_var, conditional breakpoints on loop_index),
 * then read_only_probe() (the only read of watched_var: rwatch/awatch),
 * prints "debug_target done ticks=<tick_count> watched=<watched_var>" and
 * exits with EXIT_DEBUG_TARGET_OK. vCPU 1, if there is one, spins in
 * spin_cpu1() so that a debugger has a second running thread; any further
 * vCPUs park. See README.md for the exact contract.
 */
#include "guest.h"
#include "smp.h"
#ifndef __x86_64__
#include "cmdline.h"
#include "multiboot.h"
#endif

/* Default number of tick() calls; the multiboot build takes loops=N. */
#define DEFAULT_LOOPS 100
#define MAX_LOOPS 1000000

/* vCPU 1 spins at most this many TSC cycles (~30-300 s) or iterations. */
#define CPU1_TSC_BUDGET (1ull << 38)
#define CPU1_MAX_SPINS (1ull << 36)

/*
 * Everything a debugger looks at is a global with external linkage, so it
 * has a symbol and a DWARF variable, and volatile, so every access in the
 * source is one access in the machine code (no merging, no caching).
 */
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

GUEST_ONE_COPY void tick(u32 i);
GUEST_ONE_COPY void read_only_probe(void);
GUEST_ONE_COPY __attribute__((noreturn)) void spin_cpu1(void);

void tick(u32 i) {
    /* Keeps the call (and a breakpoint on tick) even if a compiler sees through it. */
    __asm__ volatile("" : : : "memory");
    tick_count++;
    watched_var = i;
}

void read_only_probe(void) {
    __asm__ volatile("" : : : "memory");
    probe_sink = watched_var;
}

void spin_cpu1(void) {
    u64 end = rdtsc() + CPU1_TSC_BUDGET;

    cpu1_checked_in = 1;
    while (!done_flag) {
        cpu1_counter++;
        cpu_relax();
        if (rdtsc() >= end || cpu1_counter >= CPU1_MAX_SPINS) {
            cpu1_gave_up = 1;
            break;
        }
    }
    halt_forever();
}

/* vCPU 0 after set-up: waits (bounded) for vCPU 1, then the debug workload. */
__attribute__((noreturn)) static void run(u32 ncpus) {
    if (ncpus > 1) {
        struct deadline d;

        deadline_start(&d, WAIT_TSC_CYCLES, WAIT_MAX_SPINS);
        while (!cpu1_checked_in) {
            if (deadline_expired(&d)) {
                serial_puts("warning: cpu 1 did not check in\n");
                break;
            }
        }
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
    /* probe_sink, not watched_var: read_only_probe() stays its only reader. */
    serial_put_dec((unsigned long)probe_sink);
    serial_putc('\n');
    done_flag = 1;
    debug_exit(EXIT_DEBUG_TARGET_OK);
}

#ifdef __x86_64__

__attribute__((noreturn)) void main(u64 cpu, u64 ncpus);

/* Entered on every vCPU (lm_start.S): RDI = index, RSI = count. */
void main(u64 cpu, u64 ncpus) {
    if (cpu > 1) halt_forever();
    trap_init();
    if (cpu == 1) spin_cpu1();
    run((u32)ncpus);
}

#else

__attribute__((noreturn)) void main(u32 magic, const struct multiboot_info* mbi);

/* Reads "key=N" into *value if present; a bad or out-of-range N ends the guest. */
static void cmdline_number(const struct multiboot_info* mbi, const char* key, u32 lo, u32 hi, u32* value) {
    u32 v;

    if (!(mbi->flags & MBI_FLAG_CMDLINE)) return;
    switch (cmdline_get_uint((const char*)(uptr)mbi->cmdline, MB_CMDLINE_MAX, key, &v)) {
    case CMDLINE_ABSENT: return;
    case CMDLINE_OK:
        if (v >= lo && v <= hi) {
            *value = v;
            return;
        }
        break;
    case CMDLINE_BAD: break;
    }
    serial_puts("bad ");
    serial_puts(key);
    serial_puts("= on the command line (want ");
    serial_put_dec(lo);
    serial_puts("..");
    serial_put_dec(hi);
    serial_puts(")\n");
    debug_exit(EXIT_BAD_ARGS);
}

/* Only the BSP enters here (mb_start.S); "cpus=N" starts N-1 APs. */
void main(u32 magic, const struct multiboot_info* mbi) {
    trap_init();
    if (magic != MB_BOOT_MAGIC) {
        serial_puts("bad multiboot magic\n");
        debug_exit(EXIT_BAD_MAGIC);
    }

    u32 n = DEFAULT_LOOPS;
    u32 ncpus = 1;
    cmdline_number(mbi, "loops", 0, MAX_LOOPS, &n);
    cmdline_number(mbi, "cpus", 1, MAX_CPUS, &ncpus);
    loops = n;
    if (ncpus > 1) start_aps(ncpus); /* the boot information is not read after this */
    run(ncpus);
}

/* APs arrive here from ap_trampoline.S with index 1, 2, ... */
void ap_main(u32 index) {
    trap_init(); /* the BSP built the table; this only loads it */
    if (index == 1) spin_cpu1();
    halt_forever();
}

#endif
