/*
 * integrity.elf64: the guest of the guest-state integrity tests
 * (tests/reliability/README.md).
 *
 * vCPU 0 runs ROUNDS rounds of deterministic work: heartbeat(i), then
 * mix_a .. mix_d over `state`, then writes a byte of `scratch_page`. At
 * round SMC_ROUND it rewrites the 4-byte immediate of smc_site ("mov
 * $0x11111111, %eax; ret") to 0x22222222 (self-modifying code), executes
 * it, and calls after_smc(). Nothing depends on time, interrupts or the
 * number of vCPUs, so the image's final bytes are the same in every run
 * that is not disturbed.
 *
 * At the end it hashes its whole image, [1 MiB, _end) = code,
 * rodata, data and bss, with FNV-1a 64, and prints
 *
 *   integrity hash=0x<hex> smc=0x<hex> rounds=<dec>
 *
 * then exits through isa-debug-exit with EXIT_INTEGRITY_OK (status 75).
 * A breakpoint byte left in the code, a debugger write that stuck, a
 * breakpoint restored over the guest's own write, or a skipped or repeated
 * round changes the line. Further vCPUs halt.
 */
#include "guest.h"

#define ROUNDS 600u
#define SMC_ROUND 300u
#define STATE_WORDS 8u
#define EXIT_INTEGRITY_OK 0x25 /* status 75 */

/* lm64.ld links the image at 1 MiB. */
#define IMAGE_START ((const volatile u8*)0x100000)
extern const u8 _end[];

volatile u64 state[STATE_WORDS];
volatile u32 round_index;
volatile u32 smc_result;
/* A data page the guest writes every round: tests put breakpoints here. */
volatile u8 scratch_page[4096] __attribute__((aligned(4096)));

u32 smc_site(void);
__asm__(
    ".text\n"
    ".globl smc_site\n"
    ".type smc_site, @function\n"
    "smc_site:\n"
    "  movl $0x11111111, %eax\n"
    "  ret\n"
    ".size smc_site, . - smc_site\n");

GUEST_ONE_COPY void heartbeat(u32 i);
GUEST_ONE_COPY void mix_a(u32 i);
GUEST_ONE_COPY void mix_b(u32 i);
GUEST_ONE_COPY void mix_c(u32 i);
GUEST_ONE_COPY void mix_d(u32 i);
GUEST_ONE_COPY void after_smc(void);
GUEST_ONE_COPY void before_hash(void);
__attribute__((noreturn)) void main(u64 cpu, u64 ncpus);

void heartbeat(u32 i) { round_index = i; }

void mix_a(u32 i) {
    for (u32 k = 0; k < STATE_WORDS; ++k)
        state[k] = state[k] * 6364136223846793005ull + i + k;
}

void mix_b(u32 i) {
    for (u32 k = 0; k < STATE_WORDS; ++k)
        state[k] ^= state[(k + i) % STATE_WORDS] >> 17;
}

void mix_c(u32 i) {
    u64 acc = i;
    for (u32 k = 0; k < STATE_WORDS; ++k) {
        acc += state[k];
        state[k] = acc ^ (acc << 13);
    }
}

void mix_d(u32 i) { scratch_page[(i * 61u) % sizeof scratch_page] = (u8)(state[i % STATE_WORDS] >> 8); }

void after_smc(void) { __asm__ volatile("" : : : "memory"); }

void before_hash(void) { __asm__ volatile("" : : : "memory"); }

static void rewrite_smc_site(void) {
    volatile u8* imm = (volatile u8*)smc_site + 1; /* B8 imm32: the immediate */
    u32 a, b, c, d;

    for (int k = 0; k < 4; ++k)
        imm[k] = 0x22;
    /* CPUID serialises: the next fetch of smc_site sees the new bytes
     * (Intel SDM Vol. 3A 8.1.3 "Handling Self- and Cross-Modifying Code"). */
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0) : "memory");
}

static u64 image_hash(void) {
    u64 h = 0xcbf29ce484222325ull;
    for (const volatile u8* p = IMAGE_START; p < _end; ++p)
        h = (h ^ *p) * 0x100000001b3ull;
    return h;
}

void main(u64 cpu, u64 ncpus) {
    (void)ncpus;
    if (cpu != 0) halt_forever();
    trap_init();
    for (u32 i = 0; i < ROUNDS; ++i) {
        heartbeat(i);
        mix_a(i);
        mix_b(i);
        mix_c(i);
        mix_d(i);
        if (i == SMC_ROUND) {
            rewrite_smc_site();
            smc_result = smc_site();
            after_smc();
        }
    }
    before_hash();
    u64 h = image_hash();
    serial_puts("integrity hash=");
    serial_put_hex(h);
    serial_puts(" smc=");
    serial_put_hex(smc_result);
    serial_puts(" rounds=");
    serial_put_dec(round_index + 1);
    serial_putc('\n');
    debug_exit(EXIT_INTEGRITY_OK);
}
