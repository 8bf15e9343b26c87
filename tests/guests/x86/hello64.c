/*
 * hello.elf64: the long-mode hello guest. Entered on every vCPU; vCPU 0
 * greets and exits with EXIT_HELLO_OK, the others park.
 */
#include "guest.h"

__attribute__((noreturn)) void main(u64 cpu, u64 ncpus);

void main(u64 cpu, u64 ncpus) {
    if (cpu != 0) halt_forever();

    trap_init();
    serial_puts("Hello from kvmdbg guest\n");
    serial_puts("cpu ");
    serial_put_dec(cpu);
    serial_puts(" of ");
    serial_put_dec(ncpus);
    serial_putc('\n');
    debug_exit(EXIT_HELLO_OK);
}
