/*
 * smp.elf: vCPU 0 starts vCPUs with MPIDR 1, 2, 3 through PSCI CPU_ON
 * (Arm DEN 0022 5.6; KVM's MPIDR for vCPU i < 16 is i) until one is
 * refused (INVALID_PARAMETERS: no such CPU), waits (bounded, ~3 s on the
 * virtual counter) for each started CPU to check in, and prints
 * "cpu <i> online" for each (in index order, by vCPU 0) and
 * "all <N> cpus online", then powers off (status 0). A CPU that does not
 * check in gives "timeout: only <K> of <N> cpus" and EXIT_TIMEOUT (125).
 */
#include "guest.h"

#define MAX_CPUS 4

volatile u32 checked_in[MAX_CPUS];

__attribute__((noreturn)) void main(u64 dtb);
__attribute__((noreturn)) void secondary_main(u64 index);

void secondary_main(u64 index) {
    trap_init();
    checked_in[index] = 1;
    halt_forever();
}

void main(u64 dtb) {
    (void)dtb;
    trap_init();
    checked_in[0] = 1;

    u32 n = 1;
    for (u64 i = 1; i < MAX_CPUS; ++i) {
        long r = psci_cpu_on(i, i);
        if (r != PSCI_SUCCESS) {
            if (r != PSCI_INVALID_PARAMETERS) {
                serial_puts("CPU_ON ");
                serial_put_dec(i);
                serial_puts(" failed: ");
                serial_put_dec((unsigned long)-r);
                serial_putc('\n');
            }
            break;
        }
        n++;
    }

    u64 end = read_cntvct() + 3 * read_cntfrq();
    u32 online;
    for (;;) {
        online = 0;
        for (u32 i = 0; i < n; ++i)
            online += checked_in[i];
        if (online == n || read_cntvct() >= end) break;
        cpu_relax();
    }
    for (u32 i = 0; i < n; ++i) {
        if (checked_in[i]) {
            serial_puts("cpu ");
            serial_put_dec(i);
            serial_puts(" online\n");
        }
    }
    if (online != n) {
        serial_puts("timeout: only ");
        serial_put_dec(online);
        serial_puts(" of ");
        serial_put_dec(n);
        serial_puts(" cpus\n");
        test_exit(EXIT_TIMEOUT);
    }
    serial_puts("all ");
    serial_put_dec(n);
    serial_puts(" cpus online\n");
    power_off();
}
