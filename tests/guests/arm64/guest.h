/*
 * Shared declarations for the freestanding arm64 sample guests of the
 * `-M virt` machine (hw-models/virt/virt_memmap.h).
 *
 * Boot contract (hw-models/loaders/arm64_boot_plan.h): vCPU 0 enters _start
 * at EL1h, MMU and caches off, DAIF masked, x0 = the DTB address; the other
 * vCPUs are powered off until PSCI CPU_ON. With the MMU off every data
 * access is Device-nGnRnE (ARM ARM D8.2.10 "Behavior of memory accesses
 * when stage 1 translation is disabled"): the guests are built with
 * -mstrict-align (no unaligned accesses) and use no exclusives/atomics,
 * only single-writer flags. -mgeneral-regs-only: FP/SIMD traps until
 * CPACR_EL1.FPEN is set, and nobody sets it.
 *
 * No libc, no system headers (-nostdinc). See README.md for the exits.
 */
#ifndef KVMDBG_GUEST_ARM64_GUEST_H
#define KVMDBG_GUEST_ARM64_GUEST_H

typedef __UINT8_TYPE__ u8;
typedef __UINT16_TYPE__ u16;
typedef __UINT32_TYPE__ u32;
typedef __UINT64_TYPE__ u64;
typedef __UINTPTR_TYPE__ uptr;
typedef __SIZE_TYPE__ usize;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void*)0)

/* The virt machine's devices (virt_memmap.h). */
#define PL011_BASE 0x09000000ul
#define TEST_EXIT_BASE 0x09100000ul

/* PSCI function IDs (Arm DEN 0022, "PSCI", 5.1): SMC64 / SMC32 calling convention. */
#define PSCI_CPU_ON_64 0xc4000003ul
#define PSCI_SYSTEM_OFF 0x84000008ul
#define PSCI_SUCCESS 0
#define PSCI_INVALID_PARAMETERS (-2)
#define PSCI_ALREADY_ON (-4)

/*
 * Values written to the test-exit device (kvmdbg,test-exit at 0x09100000);
 * the emulator exits with status (value << 1) | 1. Success paths of hello,
 * debug_target, guest_self_brk and smp end with PSCI SYSTEM_OFF (status 0).
 */
enum guest_exit {
    EXIT_CODE_VALUE = 0x2a,          /* status 85: exit_code's whole purpose */
    EXIT_SELF_BRK_UNEXPECTED = 0x24, /* status 73: guest_self_brk saw an unexplained exception */
    EXIT_POWEROFF_FAILED = 0x3b,     /* status 119: PSCI SYSTEM_OFF returned */
    EXIT_EXCEPTION = 0x3d,           /* status 123: unexpected exception */
    EXIT_TIMEOUT = 0x3e,             /* status 125: not every CPU checked in */
};

static inline void cpu_relax(void) { __asm__ volatile("yield" : : : "memory"); }

static inline void mmio_write32(uptr addr, u32 value) {
    __asm__ volatile("str %w0, [%1]" : : "r"(value), "r"(addr) : "memory");
}

static inline u32 mmio_read32(uptr addr) {
    u32 value;
    __asm__ volatile("ldr %w0, [%1]" : "=r"(value) : "r"(addr) : "memory");
    return value;
}

/* The virtual counter (always readable at EL1): bounded waits. */
static inline u64 read_cntvct(void) {
    u64 v;
    __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v) : : "memory");
    return v;
}

static inline u64 read_cntfrq(void) {
    u64 v;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
    return v;
}

/* ---- serial.c: PL011 output ---------------------------------------- */

void serial_putc(char c);
void serial_puts(const char* s);
void serial_put_dec(unsigned long value);
void serial_put_hex(unsigned long value);

/* ---- psci.c: power management and the exit device ------------------- */

/* One PSCI call through HVC #0 (the DT's method = "hvc"); returns x0. */
long psci_call(u64 fn, u64 a1, u64 a2, u64 a3);
/* Powers the machine off (status 0); prints and exits 0x3b if it returns. */
__attribute__((noreturn)) void power_off(void);
/* Writes `value` to the test-exit device; halts if that did not end the machine. */
__attribute__((noreturn)) void test_exit(u32 value);
__attribute__((noreturn)) void halt_forever(void);

/* ---- trap.c / vectors.S: the default exception vectors -------------- */

/* Installs vectors.S at VBAR_EL1: any exception prints and exits 0x3d. */
void trap_init(void);

/* ---- start.S ------------------------------------------------------- */

/* Entry of secondary vCPUs started by psci_cpu_on(): x0 = context_id = index. */
void secondary_entry(void);
/* Starts the CPU with MPIDR `mpidr` at secondary_entry with index `index`. */
long psci_cpu_on(u64 mpidr, u64 index);

#endif
