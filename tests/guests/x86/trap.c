/*
 * A minimal IDT for the 32 exception vectors. Without one, any fault in a
 * guest becomes a triple fault (a silent reset under QEMU, a shutdown exit
 * under KVM); with it the guest prints what happened and where, then exits
 * with EXIT_EXCEPTION. Interrupts stay disabled, so vectors >= 32 are not
 * needed. Debugger breakpoints and single-steps are intercepted by KVM guest
 * debug before they reach this table; only the guest's own #DB/#BP land here
 * (and guest_self_debug installs its own handlers for those two).
 */
#include "guest.h"

/* Layout pushed by trap32.S / trap64.S: stub part, then the CPU's part. */
struct trap_frame {
    uptr vector;
    uptr error;
    uptr ip;
    uptr cs;
    uptr flags;
};

/* Entry stubs, one per vector (trap32.S / trap64.S). */
extern const uptr trap_stubs[32];

/* Intel SDM vol. 3A, 6.11 (32-bit) and 6.14.1 (64-bit) interrupt gates. */
struct idt_gate {
    u16 offset_lo;
    u16 selector;
    u8 ist; /* 64-bit only; must be zero in a 32-bit gate */
    u8 type_attr;
    u16 offset_mid;
#ifdef __x86_64__
    u32 offset_hi;
    u32 reserved;
#endif
} __attribute__((packed));

struct idt_ptr {
    u16 limit;
    uptr base;
} __attribute__((packed));

#define GATE_PRESENT_INTR 0x8e /* P=1, DPL=0, interrupt gate: IF cleared */

static struct idt_gate idt[32] __attribute__((aligned(16)));
static spinlock_t idt_build_lock;
static bool idt_built;
static u32 reporting;

static const char* const exception_names[] = {
    "#DE", "#DB", "NMI", "#BP", "#OF",      "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
    "#NP", "#SS", "#GP", "#PF", "reserved", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

static u16 read_cs(void) {
    u16 cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    return cs;
}

static void idt_build(void) {
    /* Gates use whatever flat code selector we run on (ours or the loader's). */
    u16 cs = read_cs();

    for (int v = 0; v < 32; v++) {
        uptr off = trap_stubs[v];
        struct idt_gate* g = &idt[v];

        g->offset_lo = (u16)off;
        g->selector = cs;
        g->ist = 0;
        g->type_attr = GATE_PRESENT_INTR;
        g->offset_mid = (u16)(off >> 16);
#ifdef __x86_64__
        g->offset_hi = (u32)(off >> 32);
        g->reserved = 0;
#endif
    }
}

void trap_init(void) {
    /* smp.elf64 runs this on every vCPU at once: the first one builds. */
    bool locked = spin_lock_bounded(&idt_build_lock);
    if (!idt_built) {
        idt_build();
        idt_built = true;
    }
    if (locked) spin_unlock(&idt_build_lock);

    struct idt_ptr ptr = {sizeof(idt) - 1, (uptr)idt};
    __asm__ volatile("lidt %0" : : "m"(ptr));
}

void trap_set_handler(u32 vector, void (*entry)(void)) {
    if (vector >= sizeof(idt) / sizeof(idt[0])) return;
    uptr off = (uptr)entry;
    struct idt_gate* g = &idt[vector];

    /* The CPU reads the gate at delivery time: no reload of IDTR needed. */
    g->offset_lo = (u16)off;
    g->offset_mid = (u16)(off >> 16);
#ifdef __x86_64__
    g->offset_hi = (u32)(off >> 32);
#endif
}

/* Called from the stubs with interrupts off; never returns. */
void trap_report(const struct trap_frame* frame);
void trap_report(const struct trap_frame* frame) {
    uptr v = frame->vector;

    /*
     * A fault while a report is under way (in the serial code itself, or on
     * a second CPU) must not recurse: give the first report time to end the
     * machine, then exit without printing.
     */
    if (__atomic_fetch_add(&reporting, 1, __ATOMIC_ACQ_REL) != 0) {
        delay_cycles(WAIT_TSC_CYCLES, WAIT_MAX_SPINS);
        outl(DEBUG_EXIT_PORT, EXIT_EXCEPTION);
        halt_forever();
    }

    console_lock();
    serial_puts("unexpected exception ");
    serial_put_dec(v);
    serial_puts(" (");
    serial_puts(v < sizeof(exception_names) / sizeof(exception_names[0]) ? exception_names[v] : "reserved");
    serial_puts(") error ");
    serial_put_hex(frame->error);
    serial_puts(" at ");
    serial_put_hex(frame->ip);
    if (v == 14) {
        uptr cr2;
        __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
        serial_puts(" cr2 ");
        serial_put_hex(cr2);
    }
    serial_putc('\n');
    debug_exit(EXIT_EXCEPTION);
}
