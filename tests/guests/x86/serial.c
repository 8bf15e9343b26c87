/*
 * COM1 output through the 16550's transmit holding register.
 *
 * The UART is used as the emulator leaves it at reset: no divisor or line
 * control programming, no interrupts. Firmware-less boots (multiboot,
 * direct ELF64 entry) leave nobody else to program it, and a virtual UART
 * does not care about the baud rate.
 */
#include "guest.h"

#define COM1 0x3f8
#define UART_THR (COM1 + 0)
#define UART_LSR (COM1 + 5)
#define LSR_THR_EMPTY 0x20

/* A UART that never reports THR empty must not hang the guest. */
#define THR_POLL_LIMIT 1000000

static spinlock_t console;

void serial_putc(char c) {
    for (u32 i = 0; i < THR_POLL_LIMIT; i++) {
        if (inb(UART_LSR) & LSR_THR_EMPTY) break;
        cpu_relax();
    }
    outb(UART_THR, (u8)c);
}

void serial_puts(const char* s) {
    while (*s)
        serial_putc(*s++);
}

void serial_putsn(const char* s, usize max_len) {
    for (usize i = 0; i < max_len && s[i]; i++)
        serial_putc(s[i]);
}

void serial_put_dec(unsigned long value) {
    char buf[24];
    int n = 0;

    do {
        buf[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    while (n)
        serial_putc(buf[--n]);
}

void serial_put_hex(unsigned long value) {
    static const char digits[] = "0123456789abcdef";
    int shift = (int)sizeof(value) * 8 - 4;

    serial_puts("0x");
    /* Skip leading zeros but always print at least one digit. */
    while (shift > 0 && !((value >> shift) & 0xf))
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        serial_putc(digits[(value >> shift) & 0xf]);
}

bool console_lock(void) { return spin_lock_bounded(&console); }

void console_unlock(void) { spin_unlock(&console); }
