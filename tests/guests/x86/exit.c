/*
 * Ending the guest: isa-debug-exit at port 0xf4 (4 bytes wide, as QEMU's
 * -device isa-debug-exit,iobase=0xf4,iosize=0x04). The emulator exits with
 * status (value << 1) | 1.
 */
#include "guest.h"

void halt_forever(void) {
    for (;;)
        __asm__ volatile("cli; hlt" : : : "memory");
}

void debug_exit(u32 value) {
    outl(DEBUG_EXIT_PORT, value);
    /* Still running: the machine has no isa-debug-exit. Say so, then stop. */
    serial_puts("isa-debug-exit at 0xf4 did not stop the machine\n");
    halt_forever();
}
