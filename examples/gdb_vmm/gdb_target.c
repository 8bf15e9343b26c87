/*
 * gdb_vmm's debugger: kvmdbg's guest-debug core on the VM this program
 * made (<kvmdbg/guest_debug.h>) and kvmdbg's gdb stub
 * (<kvmdbg/gdbstub.h>) with a target whose callbacks are that core plus
 * the vCPU thread's control (kvm_vm.c).
 *
 * Every callback runs on the stub's thread. Registers, memory and
 * breakpoints are asked for only while the vCPU is parked (gdb's all-stop
 * mode), which the core's calls need: they use the vCPU's fd from this
 * thread.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <string.h>
#include <time.h>

#include "vmm.h"

#define PAGE_SIZE 4096u

static int get_state(void* opaque, uint32_t cpu, void* state, uint32_t size) {
    Vm* vm = opaque;
    return kvmdbg_guest_debug_get_state(vm->gd, cpu, state, size);
}

static int set_state(void* opaque, uint32_t cpu, const void* state, uint32_t size) {
    Vm* vm = opaque;
    return kvmdbg_guest_debug_set_state(vm->gd, cpu, state, size);
}

/* The whole range, or the readable pages from its start (gdb reads past
 * the end of RAM at times). */
static int64_t read_memory(void* opaque, uint32_t cpu, uint64_t addr, void* buf, uint64_t len, int physical) {
    Vm* vm = opaque;
    if (kvmdbg_guest_debug_read_memory(vm->gd, cpu, addr, buf, len, physical) == 0) {
        return (int64_t)len;
    }
    uint64_t done = 0;
    while (done < len) {
        uint64_t chunk = PAGE_SIZE - (addr + done) % PAGE_SIZE;
        if (chunk > len - done) {
            chunk = len - done;
        }
        if (kvmdbg_guest_debug_read_memory(vm->gd, cpu, addr + done, (uint8_t*)buf + done, chunk, physical) < 0) {
            break;
        }
        done += chunk;
    }
    return done ? (int64_t)done : -EFAULT;
}

static int write_memory(void* opaque, uint32_t cpu, uint64_t addr, const void* buf, uint64_t len, int physical) {
    Vm* vm = opaque;
    return kvmdbg_guest_debug_write_memory(vm->gd, cpu, addr, buf, len, physical);
}

static int insert_breakpoint(void* opaque, uint32_t type, uint64_t addr, uint64_t len) {
    Vm* vm = opaque;
    return kvmdbg_guest_debug_insert(vm->gd, type, addr, len);
}

static int remove_breakpoint(void* opaque, uint32_t type, uint64_t addr, uint64_t len) {
    Vm* vm = opaque;
    return kvmdbg_guest_debug_remove(vm->gd, type, addr, len);
}

static void remove_all_breakpoints(void* opaque) {
    Vm* vm = opaque;
    kvmdbg_guest_debug_remove_all(vm->gd);
}

/* The vCPU thread calls kvmdbg_guest_debug_before_run(step) before its next
 * KVM_RUN, and reports its next stop itself. */
static int resume(void* opaque, uint32_t cpu, int step) {
    (void)cpu;
    vm_resume(opaque, step);
    return 0;
}

static void stop_all(void* opaque) { vm_stop(opaque); }

/* The stub removed gdb's breakpoints already; the next before_run() arms
 * no step. */
static void detach(void* opaque) { vm_resume(opaque, 0); }

static void kill_vm(void* opaque) { vm_kill(opaque); }

int debug_create(Vm* vm) {
    char err[256] = "";
    vm->gd = kvmdbg_guest_debug_new(vm->vm_fd, kGuest.kvmdbg_arch, err, sizeof err);
    if (!vm->gd) {
        fprintf(stderr, "gdb_vmm: kvmdbg_guest_debug_new: %s\n", err);
        return -1;
    }
    if (kvmdbg_guest_debug_add_ram(vm->gd, kGuest.ram_base, kGuest.ram_size, vm->ram) < 0 ||
        kvmdbg_guest_debug_add_vcpu(vm->gd, 0, vm->vcpu_fd) < 0) {
        fprintf(stderr, "gdb_vmm: guest-debug core: %s\n", kvmdbg_guest_debug_last_error());
        return -1;
    }
    /* What this host's KVM does for a debugger, e.g. that breakpoints do
     * not fire under a nested KVM. */
    fprintf(stderr, "gdb_vmm: %s\n", kvmdbg_guest_debug_host_report(vm->gd));

    KvmdbgGdbTarget target;
    memset(&target, 0, sizeof target);
    target.struct_size = sizeof target;
    target.arch = kGuest.kvmdbg_arch;
    target.cpus = 1;
    target.opaque = vm;
    target.get_state = get_state;
    target.set_state = set_state;
    target.read_memory = read_memory;
    target.write_memory = write_memory;
    target.insert_breakpoint = insert_breakpoint;
    target.remove_breakpoint = remove_breakpoint;
    target.remove_all_breakpoints = remove_all_breakpoints;
    target.resume = resume;
    target.stop_all = stop_all;
    target.detach = detach;
    target.kill = kill_vm;
    vm->stub = kvmdbg_gdbstub_new(&target, err, sizeof err);
    if (!vm->stub) {
        fprintf(stderr, "gdb_vmm: kvmdbg_gdbstub_new: %s\n", err);
        return -1;
    }
    return 0;
}

int debug_listen(Vm* vm, const char* endpoint) {
    char err[256] = "";
    if (kvmdbg_gdbstub_listen(vm->stub, endpoint, err, sizeof err) < 0) {
        fprintf(stderr, "gdb_vmm: -gdb %s: %s\n", endpoint, err);
        return -1;
    }
    fprintf(stderr, "gdb server listening on %s\n", kvmdbg_gdbstub_address(vm->stub));
    return 0;
}

void debug_detach(Vm* vm) {
    /* gdb closes the connection once it saw the exit; give it 10 s. */
    for (int i = 0; i < 100 && vm->stub && kvmdbg_gdbstub_attached(vm->stub); i++) {
        nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
    }
    kvmdbg_gdbstub_free(vm->stub);
    kvmdbg_guest_debug_free(vm->gd);
    vm->stub = NULL;
    vm->gd = NULL;
}
