/*
 * gdb_vmm's own KVM (Linux Documentation/virt/kvm/api.rst): the VM, its
 * RAM, one vCPU and the vCPU thread's run loop around KVM_RUN, with the
 * guest-debug core's calls where a debugger needs them.
 *
 * The vCPU thread is either in the run loop or parked (out of KVM_RUN,
 * waiting on vm->cond for `go`). It parks when
 *   - it starts with -S (before its first instruction),
 *   - kvmdbg_guest_debug_handle_exit() or _io_done() says the debugger must
 *     see a stop: then it reports the stop to the stub after parking,
 *   - vm_stop() (the stub's stop_all) asked it to: a SIGUSR1 kicks it out of
 *     KVM_RUN, kvm_run->immediate_exit catches a kick that comes just before
 *     KVM_RUN (api.rst 5, "immediate_exit").
 * It parks only with the last I/O or MMIO exit completed (vm->io_pending), so that the
 * registers the debugger reads are the instruction's result (api.rst 5,
 * KVM_EXIT_IO: "the operation is complete ... only after ... KVM_RUN").
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "vmm.h"

#define KICK_SIGNAL SIGUSR1

static int vm_fail(Vm* vm, const char* what) {
    int e = errno;
    snprintf(vm->error, sizeof vm->error, "%s: %s", what, strerror(e));
    return -e;
}

int vm_create(Vm* vm, Machine* machine, int spin) {
    vm->kvm_fd = vm->vm_fd = vm->vcpu_fd = -1;
    vm->machine = machine;
    pthread_mutex_init(&vm->lock, NULL);
    pthread_cond_init(&vm->cond, NULL);
    vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (vm->kvm_fd < 0) {
        return vm_fail(vm, "/dev/kvm");
    }
    if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
        snprintf(vm->error, sizeof vm->error, "/dev/kvm: KVM API version is not %d", KVM_API_VERSION);
        return -EINVAL;
    }
    vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
    if (vm->vm_fd < 0) {
        return vm_fail(vm, "KVM_CREATE_VM");
    }
    vm->ram = mmap(NULL, kGuest.ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (vm->ram == MAP_FAILED) {
        vm->ram = NULL;
        return vm_fail(vm, "mmap of guest RAM");
    }
    guest_load(vm->ram, spin);
    struct kvm_userspace_memory_region region = {
        .slot = 0,
        .guest_phys_addr = kGuest.ram_base,
        .memory_size = kGuest.ram_size,
        .userspace_addr = (uint64_t)(uintptr_t)vm->ram,
    };
    if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
        return vm_fail(vm, "KVM_SET_USER_MEMORY_REGION");
    }
    vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
    if (vm->vcpu_fd < 0) {
        return vm_fail(vm, "KVM_CREATE_VCPU");
    }
    int run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < 0) {
        return vm_fail(vm, "KVM_GET_VCPU_MMAP_SIZE");
    }
    vm->run_size = (size_t)run_size;
    vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
    if (vm->run == MAP_FAILED) {
        vm->run = NULL;
        return vm_fail(vm, "mmap of kvm_run");
    }
    int rc = guest_setup_vcpu(vm->kvm_fd, vm->vm_fd, vm->vcpu_fd, vm->error, sizeof vm->error);
    return rc < 0 ? rc : 0;
}

void vm_destroy(Vm* vm) {
    if (vm->run) {
        munmap(vm->run, vm->run_size);
    }
    if (vm->ram) {
        munmap(vm->ram, kGuest.ram_size);
    }
    for (int* fd = &vm->kvm_fd; fd <= &vm->vcpu_fd; fd++) {
        if (*fd >= 0) {
            close(*fd);
        }
    }
}

/* --- the vCPU thread ---------------------------------------------------- */

static void set_immediate_exit(Vm* vm, int value) {
    __atomic_store_n(&vm->run->immediate_exit, (uint8_t)value, __ATOMIC_SEQ_CST);
}

/* Completes the I/O or MMIO access of the last exit without running the
 * guest further: a KVM_RUN with immediate_exit. 0 when it returned EINTR
 * (the access done, nothing else happened), 1 when it returned an exit
 * instead (a single step that ended with the access: KVM_EXIT_DEBUG on
 * some hosts), or -errno. */
static int complete_io(Vm* vm) {
    set_immediate_exit(vm, 1);
    int rc = ioctl(vm->vcpu_fd, KVM_RUN, 0);
    int e = errno;
    set_immediate_exit(vm, 0);
    if (rc == 0) {
        return 1;
    }
    if (e == EINTR || e == EAGAIN) {
        return 0;
    }
    errno = e;
    return vm_fail(vm, "KVM_RUN (completing an I/O access)");
}

/* Parks the vCPU: tells the stub about `stop` (a debugger's stop, or NULL
 * for a stop the stub asked for or -S) and waits for resume or detach.
 * Returns 1 when gdb killed the VM. */
static int park(Vm* vm, const KvmdbgDebugStop* stop) {
    pthread_mutex_lock(&vm->lock);
    vm->parked = 1;
    pthread_cond_broadcast(&vm->cond);
    pthread_mutex_unlock(&vm->lock);
    if (stop) {
        kvmdbg_gdbstub_report_stop(vm->stub, 0, stop);
    }
    pthread_mutex_lock(&vm->lock);
    while (!vm->go && !vm->killed) {
        pthread_cond_wait(&vm->cond, &vm->lock);
    }
    vm->go = 0;
    vm->parked = 0;
    int killed = vm->killed;
    pthread_mutex_unlock(&vm->lock);
    return killed;
}

static int stop_requested(Vm* vm) {
    pthread_mutex_lock(&vm->lock);
    int requested = vm->stop_request || vm->killed;
    pthread_mutex_unlock(&vm->lock);
    return requested;
}

static int current_step(Vm* vm) {
    pthread_mutex_lock(&vm->lock);
    int step = vm->step;
    pthread_mutex_unlock(&vm->lock);
    return step;
}

/* What the run loop does after an exit. */
enum Next { NEXT_RUN, NEXT_PARK_FOR_STOP, NEXT_GUEST_EXIT, NEXT_ERROR };

static enum Next handle_exit(Vm* vm, KvmdbgDebugStop* stop);

/* KVM_EXIT_IO (x86 ports) and KVM_EXIT_MMIO (arm64 devices) reach the
 * machine's two devices. */
static enum Next handle_io(Vm* vm, KvmdbgDebugStop* stop) {
    struct kvm_run* run = vm->run;
    int ended = 0;
    if (run->exit_reason == KVM_EXIT_IO) {
        uint8_t* data = (uint8_t*)run + run->io.data_offset;
        for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
            ended |= machine_access(vm->machine, run->io.port, data, run->io.size,
                                    run->io.direction == KVM_EXIT_IO_OUT);
        }
    } else {
        ended = machine_access(vm->machine, run->mmio.phys_addr, run->mmio.data, run->mmio.len, run->mmio.is_write);
    }
    if (ended) {
        return NEXT_GUEST_EXIT;
    }
    /* A single-stepped instruction that made the access: complete it; the
     * step ends with the KVM_EXIT_DEBUG that KVM_RUN returns then, or, when
     * it returns EINTR, without one (io_done). */
    if (vm->gd && kvmdbg_guest_debug_stepping(vm->gd, 0) == 1) {
        int completed = complete_io(vm);
        if (completed < 0) {
            return NEXT_ERROR;
        }
        if (completed == 1) {
            return handle_exit(vm, stop);
        }
        int rc = kvmdbg_guest_debug_io_done(vm->gd, 0, stop);
        if (rc < 0) {
            snprintf(vm->error, sizeof vm->error, "kvmdbg_guest_debug_io_done: %s", kvmdbg_guest_debug_last_error());
            return NEXT_ERROR;
        }
        return rc == 1 ? NEXT_PARK_FOR_STOP : NEXT_RUN;
    }
    vm->io_pending = 1; /* completed by the next KVM_RUN, or before parking */
    return NEXT_RUN;
}

static enum Next handle_exit(Vm* vm, KvmdbgDebugStop* stop) {
    switch (vm->run->exit_reason) {
    case KVM_EXIT_IO:
    case KVM_EXIT_MMIO: return handle_io(vm, stop);
    case KVM_EXIT_DEBUG: {
        if (!vm->gd) {
            snprintf(vm->error, sizeof vm->error, "KVM_EXIT_DEBUG without a debugger");
            return NEXT_ERROR;
        }
        int rc = kvmdbg_guest_debug_handle_exit(vm->gd, 0, stop);
        if (rc < 0) {
            snprintf(vm->error, sizeof vm->error, "kvmdbg_guest_debug_handle_exit: %s",
                     kvmdbg_guest_debug_last_error());
            return NEXT_ERROR;
        }
        return rc == 1 ? NEXT_PARK_FOR_STOP : NEXT_RUN;
    }
    case KVM_EXIT_INTR: return NEXT_RUN;
    default:
        snprintf(vm->error, sizeof vm->error, "unexpected KVM exit reason %u", vm->run->exit_reason);
        return NEXT_ERROR;
    }
}

/* The run loop. `need_before_run`: the vCPU was parked for the debugger (or
 * starts), so the core arms its step or continue before the next KVM_RUN. */
static void run_loop(Vm* vm) {
    int need_before_run = 1;
    for (;;) {
        if (stop_requested(vm)) {
            /* Not stepping: the completing KVM_RUN returns EINTR. */
            if (vm->io_pending && complete_io(vm) < 0) {
                return;
            }
            vm->io_pending = 0;
            if (park(vm, NULL)) {
                return;
            }
            need_before_run = 1;
            continue;
        }
        if (vm->gd && need_before_run) {
            if (kvmdbg_guest_debug_before_run(vm->gd, 0, current_step(vm)) < 0) {
                snprintf(vm->error, sizeof vm->error, "kvmdbg_guest_debug_before_run: %s",
                         kvmdbg_guest_debug_last_error());
                return;
            }
            need_before_run = 0;
        }
        int rc = ioctl(vm->vcpu_fd, KVM_RUN, 0);
        vm->io_pending = 0;
        if (rc < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                set_immediate_exit(vm, 0); /* a kick: stop_requested() says why */
                continue;
            }
            vm_fail(vm, "KVM_RUN");
            return;
        }
        KvmdbgDebugStop stop;
        memset(&stop, 0, sizeof stop);
        switch (handle_exit(vm, &stop)) {
        case NEXT_RUN: break;
        case NEXT_PARK_FOR_STOP:
            if (park(vm, &stop)) {
                return;
            }
            need_before_run = 1;
            break;
        case NEXT_GUEST_EXIT:
        case NEXT_ERROR: return;
        }
    }
}

static void* vcpu_thread(void* opaque) {
    Vm* vm = opaque;
    run_loop(vm);
    pthread_mutex_lock(&vm->lock);
    vm->ended = 1;
    pthread_cond_broadcast(&vm->cond);
    pthread_mutex_unlock(&vm->lock);
    /* gdb sees "exited with code N" when it is still attached. */
    if (vm->stub && !vm->error[0] && !vm->killed) {
        kvmdbg_gdbstub_report_exit(vm->stub, vm->machine->exit_status);
    }
    return NULL;
}

static void on_kick(int signo) { (void)signo; /* only interrupts KVM_RUN */ }

int vm_start(Vm* vm, int stopped) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_kick; /* no SA_RESTART: KVM_RUN returns EINTR */
    sigemptyset(&action.sa_mask);
    if (sigaction(KICK_SIGNAL, &action, NULL) < 0) {
        return vm_fail(vm, "sigaction");
    }
    vm->stop_request = stopped; /* -S: park before the first instruction */
    int rc = pthread_create(&vm->thread, NULL, vcpu_thread, vm);
    if (rc != 0) {
        errno = rc;
        return vm_fail(vm, "pthread_create");
    }
    return 0;
}

int vm_wait(Vm* vm) {
    pthread_join(vm->thread, NULL);
    return vm->error[0] ? -1 : 0;
}

/* --- called by the stub's thread ----------------------------------------- */

void vm_resume(Vm* vm, int step) {
    pthread_mutex_lock(&vm->lock);
    vm->step = step;
    vm->stop_request = 0;
    vm->go = 1;
    pthread_cond_broadcast(&vm->cond);
    pthread_mutex_unlock(&vm->lock);
}

void vm_stop(Vm* vm) {
    pthread_mutex_lock(&vm->lock);
    if (!vm->parked && !vm->ended) {
        vm->stop_request = 1;
        set_immediate_exit(vm, 1);
        pthread_kill(vm->thread, KICK_SIGNAL);
        while (!vm->parked && !vm->ended) {
            pthread_cond_wait(&vm->cond, &vm->lock);
        }
    }
    pthread_mutex_unlock(&vm->lock);
}

void vm_kill(Vm* vm) {
    pthread_mutex_lock(&vm->lock);
    vm->killed = 1;
    pthread_cond_broadcast(&vm->cond);
    if (!vm->parked && !vm->ended) {
        set_immediate_exit(vm, 1);
        pthread_kill(vm->thread, KICK_SIGNAL);
    }
    pthread_mutex_unlock(&vm->lock);
}
