/* PSCI through HVC #0 (Arm DEN 0022, SMC Calling Convention: x0 = function
 * id, x1..x3 arguments, result in x0) and the test-exit device. */
#include "guest.h"

long psci_call(u64 fn, u64 a1, u64 a2, u64 a3) {
    register u64 x0 __asm__("x0") = fn;
    register u64 x1 __asm__("x1") = a1;
    register u64 x2 __asm__("x2") = a2;
    register u64 x3 __asm__("x3") = a3;

    __asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
    return (long)x0;
}

long psci_cpu_on(u64 mpidr, u64 index) { return psci_call(PSCI_CPU_ON_64, mpidr, (u64)(uptr)secondary_entry, index); }

void halt_forever(void) {
    for (;;)
        __asm__ volatile("wfi");
}

void test_exit(u32 value) {
    mmio_write32(TEST_EXIT_BASE, value);
    serial_puts("test-exit at 0x9100000 did not stop the machine\n");
    halt_forever();
}

void power_off(void) {
    long r = psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);

    serial_puts("PSCI SYSTEM_OFF returned ");
    serial_put_dec((unsigned long)r);
    serial_putc('\n');
    test_exit(EXIT_POWEROFF_FAILED);
}

/* Programs that start no secondaries have nothing for them to do. */
__attribute__((weak, noreturn)) void secondary_main(u64 index);
void secondary_main(u64 index) {
    (void)index;
    halt_forever();
}
