/*
 * stepper.elf64's variables, in C only so that they have DWARF types
 * (`print stepper_counter` in gdb). The code is all in stepper.S.
 */
#include "guest.h"
#include "stepper.h"

/* [i]: iterations of the loop completed by vCPU i. */
volatile u64 stepper_counters[STEPPER_MAX_CPUS];
/* vCPU 0's counter under a scalar name. */
extern volatile u64 stepper_counter __attribute__((alias("stepper_counters")));
/* What stepper_4 points RCX at; never written. */
u64 stepper_data;
