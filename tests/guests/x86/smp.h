/*
 * The check-in protocol shared by smp.elf64 and smp.mb.elf, and the
 * constants the AP start-up code shares with assembly.
 */
#ifndef KVMDBG_GUEST_X86_SMP_H
#define KVMDBG_GUEST_X86_SMP_H

/* Highest number of CPUs the SMP guests accept. */
#define MAX_CPUS 64

/* smp.mb.elf: where the AP trampoline is copied (SIPI vector 0x08). */
#define TRAMPOLINE_ADDR 0x8000
/* smp.mb.elf: per-AP stack, carved out of ap_stacks by ap_entry32. */
#define AP_STACK_SHIFT 12
#define AP_STACK_SIZE (1 << AP_STACK_SHIFT)

#ifndef __ASSEMBLER__
#include "guest.h"

/* Prints "cpu <index> online" as one line, then counts this CPU in. */
void cpu_check_in(u32 index);

/*
 * Waits (bounded) until `expected` CPUs have checked in, then prints
 * "all <N> cpus online" and exits EXIT_SMP_OK, or prints
 * "timeout: only <K> of <N> cpus" and exits EXIT_TIMEOUT.
 */
__attribute__((noreturn)) void wait_for_cpus(u32 expected);

/*
 * ap_start.c, multiboot guests only: copies the AP trampoline to
 * TRAMPOLINE_ADDR (overwriting whatever the loader left there) and sends
 * INIT-SIPI-SIPI to the first ncpus - 1 APIC IDs other than the caller's.
 * Each AP ends up in ap_main(index) (defined by the guest) with index
 * 1, 2, ... in the order they arrive. Prints a warning per IPI that stayed
 * pending. Call on the BSP, once.
 */
void start_aps(u32 ncpus);

/* Defined by each multiboot SMP guest; entered on the AP's own stack. */
__attribute__((noreturn)) void ap_main(u32 index);
#endif

#endif
