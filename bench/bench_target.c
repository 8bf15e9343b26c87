/*
 * bench_target.elf64 / bench_target.mb.elf: the guest every benchmark row
 * runs (bench/README in docs/performance.md). It never ends by itself.
 *
 * vCPU 0 loops forever. What one iteration does depends on bench_mode,
 * which the debugger (or bench/raw_kvm_loop) writes before resuming:
 *   0  bench_hit(i): the function the breakpoint rows hit;
 *   1  one `out` to port 0x80 (no device there: the write is dropped) and
 *      ++pio_count: the device-access rows, and the raw loop's PIO-exit
 *      baseline.
 * Every other vCPU (ELF64 with -smp N) spins in bench_spin() with `pause`,
 * so that stop-all has N running vCPUs to stop.
 *
 * The ELF64 image boots in long mode on every vCPU (kvmdbg, the raw loop);
 * the multiboot image is the same program for `qemu-system-x86_64 -kernel`
 * (QEMU cannot boot an ELF64 directly), BSP only.
 */
#include "guest.h"

#define BENCH_PIO_PORT 0x80

volatile u32 bench_mode;    /* 0: call bench_hit, 1: out to port 0x80 */
volatile u64 hit_count;     /* bench_hit(): ++ per call */
volatile u64 pio_count;     /* bench_mode 1: ++ per `out` */
volatile u32 last_arg;      /* bench_hit(): its argument */
volatile u64 spin_count[8]; /* bench_spin(): per-vCPU progress (index & 7) */

GUEST_ONE_COPY void bench_hit(u32 i);
GUEST_ONE_COPY __attribute__((noreturn)) void bench_spin(u64 cpu);
__attribute__((noreturn)) void bench_loop(void);

void bench_hit(u32 i) {
    __asm__ volatile("" : : : "memory");
    last_arg = i;
    hit_count++;
}

void bench_spin(u64 cpu) {
    for (;;) {
        spin_count[cpu & 7]++;
        cpu_relax();
    }
}

void bench_loop(void) {
    for (u32 i = 0;; ++i) {
        if (bench_mode == 1) {
            outb(BENCH_PIO_PORT, (u8)i);
            pio_count++;
        } else
            bench_hit(i);
    }
}

#ifdef __x86_64__

__attribute__((noreturn)) void main(u64 cpu, u64 ncpus);

/* Entered on every vCPU (lm_start.S): RDI = index, RSI = count. */
void main(u64 cpu, u64 ncpus) {
    (void)ncpus;
    if (cpu != 0) bench_spin(cpu);
    bench_loop();
}

#else

__attribute__((noreturn)) void main(u32 magic, const void* mbi);

/* The BSP only (mb_start.S); no APs are started. */
void main(u32 magic, const void* mbi) {
    (void)magic;
    (void)mbi;
    bench_loop();
}

#endif
