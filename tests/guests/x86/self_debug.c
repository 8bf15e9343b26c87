/*
 * guest_self_debug.elf64 / guest_self_debug.mb.elf: the guest debugs itself.
 *
 * It installs its own #DB (1) and #BP (3) handlers and, per selected part:
 *   a) bp:  executes int3 three times (int3_sequence); #BP is a trap, the
 *           handler counts and returns;
 *   b) tf:  sets RFLAGS.TF over four nops (tf_sequence); the #DB handler
 *           counts the #DBs with DR6.BS: 5 by the architecture (see
 *           self_debug_entry.S);
 *   c) dr0: DR0 = guarded_fn, DR7.L0 (execute, length 1), calls guarded_fn
 *           twice; the #DB handler counts the faults at guarded_fn, notes
 *           DR6.B0 and returns with RF set in the saved flags so that the
 *           instruction runs once without faulting again; then DR7 = 0x400.
 * It prints "self_debug bp=<n> tf=<n> dr0=<n> dr6_b0=<0|1>" (fields of parts
 * not run are left out) and exits EXIT_SELF_DEBUG_OK. A #DB or #BP that no
 * part explains (outside its part, or a #DB with neither the expected DR6.BS
 * nor the guarded_fn address) is logged instead of counted; each is printed
 * as one "unexpected ..." line before the summary and the exit value becomes
 * EXIT_SELF_DEBUG_UNEXPECTED. A debugger attached through KVM guest debug
 * must not change any of this.
 *
 * Debug registers: Intel SDM vol. 3B, 17.2.
 *
 *  DR6  31      16 15 14 13 12       4 3  2  1  0
 *      +----------+--+--+--+----------+--+--+--+--+
 *      | 1 ... 1  |BT|BS|BD| 1 ... 1  |B3|B2|B1|B0|   (bits 4-11 read as 1,
 *      +----------+--+--+--+----------+--+--+--+--+    bit 12 as 0)
 *
 *  DR7  19-18 17-16       10   9  8  7 .. 2  1  0
 *      +-----+-----+ ... +---+--+--+------+--+--+
 *      |LEN0 | RW0 |     | 1 |GE|LE| .... |G0|L0|   RW0 = 00 execute,
 *      +-----+-----+ ... +---+--+--+------+--+--+   LEN0 = 00 (1 byte)
 */
#include "self_debug.h"
#ifndef __x86_64__
#include "cmdline.h"
#include "multiboot.h"
#endif

#define DR6_B0 (1ul << 0)
#define DR6_BS (1ul << 14)
#define DR6_CLEAR 0xffff0ff0ul /* architectural value with no condition */
#define DR7_L0 (1ul << 0)
#define DR7_FIXED1 (1ul << 10) /* reserved, reads as 1 */
#define FLAGS_TF (1ul << 8)
#define FLAGS_RF (1ul << 16)

#define GUARDED_CALLS 2
/* More #DBs than this means something keeps firing: disarm and report. */
#define DB_EVENT_LIMIT 64
#define LOG_LEN 16

/* What the CPU pushed (same privilege level, no error code). */
struct iret_frame {
    uptr ip;
    uptr cs;
    uptr flags;
#ifdef __x86_64__
    uptr sp;
    uptr ss;
#endif
};

struct db_event {
    uptr ip;  /* saved IP */
    uptr dr6; /* DR6 at handler entry */
};

struct unexpected_event {
    u32 vector; /* 1 (#DB) or 3 (#BP) */
    uptr ip;    /* saved IP */
    uptr dr6;   /* #DB: DR6 at handler entry */
};

enum phase { PHASE_SETUP, PHASE_BP, PHASE_TF, PHASE_DR0, PHASE_DONE };

/* Globals with symbols, for a debugger to compare with the guest's view. */
u32 self_debug_parts; /* the parts this run executes */
volatile enum phase self_debug_phase;
volatile u32 bp_count;           /* #BP taken */
volatile u32 tf_count;           /* #DB with DR6.BS */
volatile u32 dr0_count;          /* #DB at guarded_fn in part c */
volatile u32 dr0_b0_count;       /* ... of which with DR6.B0 */
volatile u32 unexpected_count;   /* #DB/#BP outside its part, or unexplained */
volatile u32 db_events;          /* every #DB */
volatile u32 guarded_calls;      /* times guarded_fn's body ran */
struct db_event db_log[LOG_LEN]; /* first LOG_LEN #DBs */
uptr bp_log[LOG_LEN];            /* saved IPs of the first LOG_LEN #BPs */
struct unexpected_event unexpected_log[LOG_LEN];

/* self_debug_entry.S */
void self_debug_db_entry(void);
void self_debug_bp_entry(void);
void int3_sequence(void);
void tf_sequence(void);

void self_debug_on_db(struct iret_frame* frame);
void self_debug_on_bp(struct iret_frame* frame);
GUEST_ONE_COPY void guarded_fn(void);

static inline uptr read_dr6(void) {
    uptr v;
    __asm__ volatile("mov %%dr6, %0" : "=r"(v));
    return v;
}

static inline void write_dr6(uptr v) { __asm__ volatile("mov %0, %%dr6" : : "r"(v)); }

static inline void write_dr0(uptr v) { __asm__ volatile("mov %0, %%dr0" : : "r"(v)); }

static inline void write_dr7(uptr v) { __asm__ volatile("mov %0, %%dr7" : : "r"(v) : "memory"); }

void guarded_fn(void) {
    __asm__ volatile("" : : : "memory");
    guarded_calls++;
}

/* An exception no part explains: e.g. a debugger's event that leaked in. */
static void note_unexpected(u32 vector, uptr ip, uptr dr6) {
    u32 n = unexpected_count++;
    if (n < LOG_LEN) {
        unexpected_log[n].vector = vector;
        unexpected_log[n].ip = ip;
        unexpected_log[n].dr6 = dr6;
    }
}

void self_debug_on_db(struct iret_frame* frame) {
    uptr dr6 = read_dr6();
    /* DR6 is sticky: the handler clears it (SDM 17.2.3). */
    write_dr6(DR6_CLEAR);

    u32 n = db_events++;
    if (n < LOG_LEN) {
        db_log[n].ip = frame->ip;
        db_log[n].dr6 = dr6;
    }

    if (self_debug_phase == PHASE_DR0 && frame->ip == (uptr)guarded_fn) {
        /* A fault: without RF the same fetch would fault again, forever. */
        frame->flags |= FLAGS_RF;
        dr0_count++;
        if (dr6 & DR6_B0) dr0_b0_count++;
    } else if (self_debug_phase == PHASE_TF && (dr6 & DR6_BS)) {
        tf_count++;
    } else {
        note_unexpected(1, frame->ip, dr6);
    }

    if (n + 1 >= DB_EVENT_LIMIT) {
        write_dr7(DR7_FIXED1);
        frame->flags &= ~FLAGS_TF;
        frame->flags |= FLAGS_RF;
    }
}

void self_debug_on_bp(struct iret_frame* frame) {
    if (self_debug_phase != PHASE_BP) {
        note_unexpected(3, frame->ip, 0);
        return;
    }
    u32 n = bp_count++;
    if (n < LOG_LEN) bp_log[n] = frame->ip;
}

__attribute__((noreturn)) static void run(u32 parts) {
    self_debug_parts = parts;
    trap_set_handler(1, self_debug_db_entry);
    trap_set_handler(3, self_debug_bp_entry);
    write_dr6(DR6_CLEAR);

    if (parts & SELF_DEBUG_PART_BP) {
        self_debug_phase = PHASE_BP;
        int3_sequence();
    }
    if (parts & SELF_DEBUG_PART_TF) {
        self_debug_phase = PHASE_TF;
        tf_sequence();
    }
    if (parts & SELF_DEBUG_PART_DR0) {
        self_debug_phase = PHASE_DR0;
        write_dr0((uptr)guarded_fn);
        write_dr7(DR7_FIXED1 | DR7_L0); /* RW0 = 00 execute, LEN0 = 00 */
        for (int i = 0; i < GUARDED_CALLS; i++)
            guarded_fn();
        write_dr7(DR7_FIXED1);
    }
    self_debug_phase = PHASE_DONE;

    for (u32 i = 0; i < unexpected_count && i < LOG_LEN; i++) {
        const struct unexpected_event* e = &unexpected_log[i];
        serial_puts(e->vector == 1 ? "unexpected #DB at " : "unexpected #BP at ");
        serial_put_hex(e->ip);
        if (e->vector == 1) {
            serial_puts(" dr6 ");
            serial_put_hex(e->dr6);
        }
        serial_putc('\n');
    }

    serial_puts("self_debug");
    if (parts & SELF_DEBUG_PART_BP) {
        serial_puts(" bp=");
        serial_put_dec(bp_count);
    }
    if (parts & SELF_DEBUG_PART_TF) {
        serial_puts(" tf=");
        serial_put_dec(tf_count);
    }
    if (parts & SELF_DEBUG_PART_DR0) {
        serial_puts(" dr0=");
        serial_put_dec(dr0_count);
        serial_puts(" dr6_b0=");
        serial_putc(dr0_count > 0 && dr0_b0_count == dr0_count ? '1' : '0');
    }
    serial_putc('\n');
    debug_exit(unexpected_count ? EXIT_SELF_DEBUG_UNEXPECTED : EXIT_SELF_DEBUG_OK);
}

#ifdef __x86_64__

__attribute__((noreturn)) void main(u64 cpu, u64 ncpus);

/* Entered on every vCPU (lm_start.S); only vCPU 0 works. */
void main(u64 cpu, u64 ncpus) {
    (void)ncpus;
    if (cpu != 0) halt_forever();
    trap_init();
    run(self_debug_builtin_parts);
}

#else

__attribute__((noreturn)) void main(u32 magic, const struct multiboot_info* mbi);

static bool word_is(const char* s, usize len, const char* word) {
    usize i = 0;
    for (; i < len && word[i]; i++) {
        if (s[i] != word[i]) return false;
    }
    return i == len && !word[i];
}

/* "parts=bp,tf,dr0": any non-empty comma-separated subset, in any order. */
static u32 parse_parts(const char* s, usize len) {
    static const struct {
        const char* name;
        u32 bit;
    } names[] = {
        {"bp", SELF_DEBUG_PART_BP},
        {"tf", SELF_DEBUG_PART_TF},
        {"dr0", SELF_DEBUG_PART_DR0},
    };
    u32 parts = 0;
    usize start = 0;

    for (usize i = 0; i <= len; i++) {
        if (i < len && s[i] != ',') continue;
        u32 bit = 0;
        for (usize k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
            if (word_is(s + start, i - start, names[k].name)) bit = names[k].bit;
        }
        if (!bit) return 0;
        parts |= bit;
        start = i + 1;
    }
    return parts;
}

/* Only the BSP runs (mb_start.S). */
void main(u32 magic, const struct multiboot_info* mbi) {
    trap_init();
    if (magic != MB_BOOT_MAGIC) {
        serial_puts("bad multiboot magic\n");
        debug_exit(EXIT_BAD_MAGIC);
    }

    u32 parts = self_debug_builtin_parts;
    const char* value;
    usize len;
    if ((mbi->flags & MBI_FLAG_CMDLINE) &&
        cmdline_get_value((const char*)(uptr)mbi->cmdline, MB_CMDLINE_MAX, "parts", &value, &len)) {
        parts = parse_parts(value, len);
        if (!parts) {
            serial_puts(
                "bad parts= on the command line (want a comma-separated subset of "
                "bp,tf,dr0)\n");
            debug_exit(EXIT_BAD_ARGS);
        }
    }
    run(parts);
}

#endif
