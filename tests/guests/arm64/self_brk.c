/*
 * guest_self_brk.elf: the guest debugs itself with BRK.
 *
 * It installs its own vector table (vectors.S) at VBAR_EL1 and executes
 * BRK #1, BRK #2 and BRK #3 (brk_sequence, labels brk_0..brk_2). BRK is a
 * synchronous exception taken to EL1 with ESR_EL1.EC = 0x3c and
 * ISS[15:0] = the immediate, ELR_EL1 = the address of the BRK itself (ARM
 * ARM D1.3.x / "Breakpoint instruction exceptions"), so the handler counts
 * it, notes the immediate and advances ELR_EL1 by 4 before ERET. It prints
 * "self_brk count=3 imm=1,2,3 elr_ok=1" (elr_ok: each ELR was the address
 * of its BRK) and powers off (status 0). Any other exception, or a BRK
 * elsewhere, is printed as "unexpected ..." and the guest exits with
 * EXIT_SELF_BRK_UNEXPECTED (status 73) after the summary line. A debugger
 * attached through KVM guest debug must not change any of this: kvmdbg
 * reflects a BRK it did not plant back into the guest's vector table.
 */
#include "trap.h"

#define BRKS 3

extern char brk_0[], brk_1[], brk_2[];

volatile u32 brk_count;
volatile u32 brk_imm[BRKS];
volatile u32 brk_elr_ok = 1;
volatile u32 unexpected_count;

void brk_sequence(void);
__attribute__((noreturn)) void main(u64 dtb);

/* The three BRKs, each at a global label (check_images.py reads them). */
__asm__(
    ".text\n"
    ".globl brk_sequence, brk_0, brk_1, brk_2\n"
    ".type brk_sequence, @function\n"
    ".balign 16\n"
    "brk_sequence:\n"
    "brk_0: brk #1\n"
    "brk_1: brk #2\n"
    "brk_2: brk #3\n"
    "ret\n"
    ".size brk_sequence, . - brk_sequence\n");

bool guest_trap(struct trap_frame* frame, u32 vector) {
    static char* const expected[BRKS] = {brk_0, brk_1, brk_2};

    if (vector == VECTOR_CURRENT_SPX_SYNC && ESR_EC(frame->esr) == ESR_EC_BRK64) {
        u32 n = brk_count;
        if (n < BRKS && frame->elr == (u64)(uptr)expected[n]) {
            brk_imm[n] = (u32)(frame->esr & 0xffff);
            brk_count = n + 1;
            frame->elr += 4;
            return true;
        }
        brk_elr_ok = 0;
    }
    unexpected_count++;
    serial_puts("unexpected exception vector ");
    serial_put_dec(vector);
    serial_puts(" esr ");
    serial_put_hex(frame->esr);
    serial_puts(" elr ");
    serial_put_hex(frame->elr);
    serial_putc('\n');
    if (ESR_EC(frame->esr) == ESR_EC_BRK64 && unexpected_count < 16) {
        frame->elr += 4; /* a stray BRK: skip it and go on */
        return true;
    }
    test_exit(EXIT_SELF_BRK_UNEXPECTED);
}

void main(u64 dtb) {
    (void)dtb;
    trap_init();
    brk_sequence();
    serial_puts("self_brk count=");
    serial_put_dec(brk_count);
    serial_puts(" imm=");
    for (u32 i = 0; i < brk_count && i < BRKS; ++i) {
        if (i) serial_putc(',');
        serial_put_dec(brk_imm[i]);
    }
    serial_puts(" elr_ok=");
    serial_put_dec(brk_elr_ok);
    serial_putc('\n');
    if (unexpected_count) test_exit(EXIT_SELF_BRK_UNEXPECTED);
    power_off();
}
