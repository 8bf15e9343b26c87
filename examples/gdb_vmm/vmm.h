/*
 * gdb_vmm: an example VMM that owns its KVM VM and vCPU loop and gets gdb's
 * `-s -S` from the kvmdbg SDK (docs/embedding.md). What its files share.
 *
 *   main.c           command line, the machine's two devices, the modes
 *   kvm_vm.c         its own KVM: VM, RAM, the vCPU and its thread's run loop
 *   gdb_target.c     the KvmdbgGdbTarget callbacks on the guest-debug core
 *   guest_x86_64.c   the x86-64 guest (long mode) and its vCPU set-up
 *   guest_arm64.c    the arm64 guest and its vCPU set-up
 *   module_host.c    --module: the same guest on kvmdbg's accel-kvm.so
 *
 * One vCPU. The guest increments a counter in memory, prints "tick N" to
 * the serial port five times and writes status 0 to the exit register; with
 * --spin it then spins (incrementing a second counter) until the spin flag
 * in memory is cleared, for gdb's Ctrl-C.
 */
#ifndef GDB_VMM_H
#define GDB_VMM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <kvmdbg/gdbstub.h>
#include <kvmdbg/guest_debug.h>

/* The guest as the host's ISA builds it (guest_x86_64.c or guest_arm64.c,
 * whichever matches the compiler's target). Addresses are guest-physical;
 * the x86-64 guest's page tables map them 1:1. */
typedef struct GuestLayout {
    const char* isa;      /* "x86_64", "arm64" */
    uint32_t kvmdbg_arch; /* enum KvmdbgArch */
    uint32_t state_size;  /* KVMDBG_*_STATE_SIZE of the ISA */
    uint64_t ram_base, ram_size;
    uint64_t code;         /* entry: `start` of the guest code */
    uint64_t loop;         /* `loop`: the counter's increment */
    uint64_t tick;         /* `tick`: right after it */
    uint64_t data;         /* the counter (u32); +4 the spin counter; +8 the spin flag */
    uint64_t serial, exit; /* serial data and exit register: x86 ports, arm64 MMIO */
} GuestLayout;

extern const GuestLayout kGuest;

/* Writes the guest code, its data (the spin flag) and, on x86-64, its page
 * tables and GDT into `ram` (kGuest.ram_size bytes at kGuest.ram_base). */
void guest_load(uint8_t* ram, int spin);
/* Own KVM: puts the new vCPU at `start` in the guest's CPU mode (x86-64:
 * CPUID, long mode with paging; arm64: KVM_ARM_VCPU_INIT, EL1h). 0 or
 * -errno with a message in err. */
int guest_setup_vcpu(int kvm_fd, int vm_fd, int vcpu_fd, char* err, size_t err_size);
/* Module mode: the same CPU mode in the plugin ABI's state blob, changed
 * from the vCPU's reset state. */
void guest_boot_state(void* state);

/* The machine's devices: the serial data register and the exit register.
 * Serialised by `lock` (a vCPU thread calls them). */
typedef struct Machine {
    pthread_mutex_t lock;
    FILE* serial_out;
    int exit_status; /* the value written to the exit register, -1 before */
} Machine;

/* One device access of the guest at `addr` (a port on x86-64, an MMIO
 * address on arm64); a read fills data. 1 when the guest wrote the exit
 * register (the machine is over), else 0. */
int machine_access(Machine* m, uint64_t addr, uint8_t* data, uint32_t size, int is_write);

/* --module [PATH]: runs the guest on kvmdbg's accel-kvm.so through its ops
 * table (module_host.c). Returns the process's exit status. */
int run_module_mode(const char* path, Machine* m, int spin);

/* The VM this program runs with its own KVM (kvm_vm.c). */
typedef struct Vm {
    int kvm_fd, vm_fd, vcpu_fd;
    struct kvm_run* run; /* the vCPU's mmap()ed kvm_run page */
    size_t run_size;
    uint8_t* ram;
    Machine* machine;
    KvmdbgGuestDebug* gd; /* NULL without -gdb */
    KvmdbgGdbStub* stub;  /* NULL without -gdb */

    /* The vCPU thread and what it shares with the stub's thread, under
     * `lock`; `cond` signals every change. */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int parked;       /* the vCPU thread is out of KVM_RUN, waiting for `go` */
    int go;           /* resume() or detach() let it run */
    int step;         /* ... for one instruction */
    int stop_request; /* stop_all() wants it parked */
    int ended;        /* the vCPU thread has returned (guest exit or error) */
    int killed;       /* gdb's kill */
    int io_pending;   /* vCPU thread only: the last exit's access is not completed */
    char error[256];  /* why the run failed, "" if it did not */
} Vm;

/* Opens /dev/kvm and creates the VM, its RAM (loaded by guest_load) and
 * its vCPU. 0; -ENOENT/-EACCES when /dev/kvm is missing or inaccessible
 * (the caller exits 77); another -errno, with the message in vm->error. */
int vm_create(Vm* vm, Machine* machine, int spin);
/* Starts the vCPU thread; it waits for the debugger's first resume when
 * `stopped` (-S). 0 or -errno. */
int vm_start(Vm* vm, int stopped);
/* Waits for the vCPU thread to end; 0 when the guest wrote the exit
 * register, -1 on a failure (vm->error says which). */
int vm_wait(Vm* vm);
/* Closes the fds and unmaps what vm_create made. */
void vm_destroy(Vm* vm);

/* Called by the stub's thread (gdb_target.c): let the parked vCPU run or
 * step; kick it out of KVM_RUN and wait until it is parked; detach; kill. */
void vm_resume(Vm* vm, int step);
void vm_stop(Vm* vm);
void vm_kill(Vm* vm);

/* Creates the guest-debug core on vm's VM, RAM and vCPU, and the stub
 * (gdb_target.c), before vm_start(). 0 or -1 after printing why. */
int debug_create(Vm* vm);
/* Lets the stub listen on `endpoint`, after vm_start() (a debugger may
 * connect at once and stop the vCPU). 0 or -1 after printing why. */
int debug_listen(Vm* vm, const char* endpoint);
/* Frees the stub (after gdb saw the guest's exit) and the core. */
void debug_detach(Vm* vm);

#endif /* GDB_VMM_H */
