/* PL011 output by polling (ARM DDI 0183: UARTFR.TXFF, bit 5). */
#include "guest.h"

#define UARTDR 0x000
#define UARTFR 0x018
#define FR_TXFF (1u << 5)

void serial_putc(char c) {
    while (mmio_read32(PL011_BASE + UARTFR) & FR_TXFF)
        cpu_relax();
    mmio_write32(PL011_BASE + UARTDR, (u8)c);
}

void serial_puts(const char* s) {
    while (*s)
        serial_putc(*s++);
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
    char buf[16];
    int n = 0;

    do {
        buf[n++] = digits[value & 15];
        value >>= 4;
    } while (value);
    serial_puts("0x");
    while (n)
        serial_putc(buf[--n]);
}
