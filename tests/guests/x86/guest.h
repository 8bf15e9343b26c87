/*
 * Shared declarations for the freestanding x86 sample guests.
 *
 * The same C files compile with -m32 (multiboot: 32-bit protected mode,
 * paging off) and with -m64 (long mode, identity-mapped). No libc and no
 * system headers: the guests are compiled with -nostdinc, so the few types
 * they need come from compiler built-ins.
 * See README.md for the boot contracts and the exit values below.
 */
#ifndef KVMDBG_GUEST_X86_GUEST_H
#define KVMDBG_GUEST_X86_GUEST_H

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

/*
 * A function that stays one out-of-line copy at its symbol, so a breakpoint
 * on it sees every call: GCC could inline it or clone it for a constant
 * argument; clang does not clone and has no noclone attribute.
 */
#if defined(__clang__)
#define GUEST_ONE_COPY __attribute__((noinline))
#else
#define GUEST_ONE_COPY __attribute__((noinline, noclone))
#endif

/*
 * Values written to isa-debug-exit (port 0xf4, 4 bytes wide); the emulator
 * exits with status (value << 1) | 1.
 */
#define DEBUG_EXIT_PORT 0xf4

enum guest_exit {
    EXIT_HELLO_OK = 0x20,              /* status 65 */
    EXIT_SMP_OK = 0x21,                /* status 67 */
    EXIT_DEBUG_TARGET_OK = 0x22,       /* status 69: debug_target finished its loop */
    EXIT_SELF_DEBUG_OK = 0x23,         /* status 71: guest_self_debug ran its parts */
    EXIT_SELF_DEBUG_UNEXPECTED = 0x24, /* status 73: ... and saw an unexplained #DB/#BP */
    EXIT_BAD_ARGS = 0x3c,              /* status 121: boot contract or cpus= invalid */
    EXIT_EXCEPTION = 0x3d,             /* status 123: unexpected CPU exception */
    EXIT_TIMEOUT = 0x3e,               /* status 125: not every CPU checked in */
    EXIT_BAD_MAGIC = 0x3f,             /* status 127: EAX was not 0x2BADB002 */
};

/* ---- port I/O and CPU helpers ---------------------------------------- */

static inline void outb(u16 port, u8 value) { __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port)); }

static inline void outl(u16 port, u32 value) { __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port)); }

static inline u8 inb(u16 port) {
    u8 value;
    __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

static inline void cpu_relax(void) { __asm__ volatile("pause" : : : "memory"); }

static inline u64 rdtsc(void) {
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((u64)hi << 32) | lo;
}

static inline u32 mmio_read32(uptr addr) { return *(volatile u32*)addr; }

static inline void mmio_write32(uptr addr, u32 value) { *(volatile u32*)addr = value; }

/* ---- serial.c: COM1 output -------------------------------------------- */

void serial_putc(char c);
void serial_puts(const char* s);
/* Writes at most max_len characters of s (guards against unterminated input). */
void serial_putsn(const char* s, usize max_len);
void serial_put_dec(unsigned long value);
void serial_put_hex(unsigned long value);

/*
 * The console lock serialises whole lines between CPUs. console_lock()
 * gives up after a few seconds (a CPU died holding it) and returns false;
 * the caller prints anyway rather than hang silently.
 */
bool console_lock(void);
void console_unlock(void);

/* ---- sync.c: bounded waiting ----------------------------------------- */

/*
 * A wait bound: a TSC deadline plus a cap on iterations, so that a wait
 * ends even if the TSC does not advance or PAUSE is very slow (nested or
 * paravirtual hosts trap it).
 */
struct deadline {
    u64 tsc_end;
    u32 spins_left;
};

/* Roughly 1.5-5 s on any TSC between 1 and 3.5 GHz. */
#define WAIT_TSC_CYCLES 5000000000ull
#define WAIT_MAX_SPINS (1u << 28)

void deadline_start(struct deadline* d, u64 tsc_cycles, u32 max_spins);
/* Executes one PAUSE and reports whether the bound is used up. */
bool deadline_expired(struct deadline* d);
/* Busy-waits about tsc_cycles (capped at max_spins PAUSEs). */
void delay_cycles(u64 tsc_cycles, u32 max_spins);

typedef struct {
    volatile u32 locked;
} spinlock_t;

/* Returns false if the bound expired; the lock is then taken over anyway. */
bool spin_lock_bounded(spinlock_t* lock);
void spin_unlock(spinlock_t* lock);

/* ---- exit.c ----------------------------------------------------------- */

/* Writes value to isa-debug-exit; never returns. */
__attribute__((noreturn)) void debug_exit(u32 value);
/* cli; hlt forever (wakes from NMI/INIT/SMI go straight back to sleep). */
__attribute__((noreturn)) void halt_forever(void);

/* ---- trap.c: report unexpected exceptions ---------------------------- */

/* Loads an IDT whose 32 exception vectors print a line and exit 0x3d. */
void trap_init(void);

/*
 * Points exception `vector` (< 32) of that IDT at `entry` instead of the
 * fatal report: an interrupt gate (IF cleared; TF cleared by the CPU on any
 * delivery) on the current CS. `entry` is an assembly stub that saves what
 * it uses and returns with iret. Call after trap_init(); the change is seen
 * by every CPU that loaded the table.
 */
void trap_set_handler(u32 vector, void (*entry)(void));

/* ---- libc.c: what the compiler may emit calls to ---------------------- */

void* memcpy(void* dst, const void* src, usize n);
void* memset(void* dst, int c, usize n);

#endif
