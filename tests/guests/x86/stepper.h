/* stepper.elf64: shared between stepper.S and stepper_data.c. */
#ifndef KVMDBG_GUEST_X86_STEPPER_H
#define KVMDBG_GUEST_X86_STEPPER_H

/* vCPUs with their own counter; the others park. */
#define STEPPER_MAX_CPUS 64

#endif
