/* Default exception handling: anything the program does not handle itself
 * (guest_trap) is printed and ends the guest with EXIT_EXCEPTION. */
#include "trap.h"

extern char guest_vectors[];

__attribute__((weak)) bool guest_trap(struct trap_frame* frame, u32 vector) {
    (void)frame;
    (void)vector;
    return false;
}

void trap_init(void) { __asm__ volatile("msr vbar_el1, %0; isb" : : "r"(guest_vectors) : "memory"); }

void trap_dispatch(struct trap_frame* frame, u32 vector) {
    if (guest_trap(frame, vector)) return;
    serial_puts("unexpected exception vector ");
    serial_put_dec(vector);
    serial_puts(" esr ");
    serial_put_hex(frame->esr);
    serial_puts(" elr ");
    serial_put_hex(frame->elr);
    serial_puts(" far ");
    serial_put_hex(frame->far);
    serial_putc('\n');
    test_exit(EXIT_EXCEPTION);
}
