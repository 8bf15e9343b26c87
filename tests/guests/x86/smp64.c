/*
 * smp.elf64: every vCPU enters main() at once (long mode, own stack, RDI =
 * index, RSI = count), checks in, and parks; vCPU 0 then waits for all.
 */
#include "smp.h"

__attribute__((noreturn)) void main(u64 cpu, u64 ncpus);

void main(u64 cpu, u64 ncpus) {
    trap_init();

    if (ncpus == 0 || cpu >= ncpus) {
        console_lock();
        serial_puts("bad boot contract: cpu ");
        serial_put_dec(cpu);
        serial_puts(" of ");
        serial_put_dec(ncpus);
        serial_putc('\n');
        debug_exit(EXIT_BAD_ARGS);
    }

    cpu_check_in((u32)cpu);
    if (cpu != 0) halt_forever();
    wait_for_cpus((u32)ncpus);
}
