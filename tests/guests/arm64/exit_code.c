/* exit_code.elf: ends the machine through the test-exit device with value
 * 0x2a, i.e. process status (0x2a << 1) | 1 = 85. */
#include "guest.h"

__attribute__((noreturn)) void main(u64 dtb);

void main(u64 dtb) {
    (void)dtb;
    trap_init();
    serial_puts("exit_code: writing 0x2a to test-exit\n");
    test_exit(EXIT_CODE_VALUE);
}
