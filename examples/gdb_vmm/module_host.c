/*
 * gdb_vmm --module [PATH]: the same guest and devices, run on kvmdbg's KVM
 * accelerator module accel-kvm.so instead of this program's own KVM loop.
 * It loads the module the way kvmdbg's loader does (docs/plugin-abi.md),
 * checks its ABI, creates a VM of the host's ISA without an in-kernel
 * irqchip, maps the RAM, creates one vCPU, moves it from its reset state to
 * the guest's CPU mode (get_cpu_state, guest_boot_state, set_cpu_state)
 * and starts it. The pio/mmio callbacks are the machine's devices; at the
 * write to the exit register the vCPU parks (KVMDBG_IO_PARK) and the main
 * thread, woken, pauses and destroys the VM. An event (a triple fault, an
 * internal error) ends the run as a failure with the module's message.
 *
 * KVMDBG_MODULE_DIR and KVMDBG_PC_ABI_VERSION come from kvmdbg-accel.pc
 * (main.c's build line).
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, and POSIX.1-2008 under -std=c11 */

#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <kvmdbg/plugin_abi.h>

#include "vmm.h"

#ifndef KVMDBG_MODULE_DIR
#error "define KVMDBG_MODULE_DIR: pkg-config --variable=moduledir kvmdbg-accel"
#endif
#ifndef KVMDBG_PC_ABI_VERSION
#error "define KVMDBG_PC_ABI_VERSION: pkg-config --variable=abi_version kvmdbg-accel"
#endif
_Static_assert(KVMDBG_PC_ABI_VERSION == KVMDBG_ACCEL_ABI_VERSION,
               "kvmdbg-accel.pc and <kvmdbg/plugin_abi.h> come from different kvmdbg installs");

#define RUN_TIMEOUT_SECONDS 30

/* What the vCPU thread reports to the main thread, under `lock`. */
typedef struct ModuleRun {
    Machine* machine;
    pthread_mutex_t lock;
    pthread_cond_t ended_cond;
    int ended;            /* the exit register was written, or an event came */
    char event_text[512]; /* an event that ended the run: kind and message */
} ModuleRun;

static void module_run_end(ModuleRun* r) {
    pthread_mutex_lock(&r->lock);
    r->ended = 1;
    pthread_cond_signal(&r->ended_cond);
    pthread_mutex_unlock(&r->lock);
}

static int device_access(ModuleRun* r, uint64_t addr, uint8_t* data, uint32_t size, int is_write) {
    if (machine_access(r->machine, addr, data, size, is_write)) {
        module_run_end(r);
        return KVMDBG_IO_PARK; /* the machine is over: do not re-enter */
    }
    return KVMDBG_IO_CONTINUE;
}

/* Port I/O and MMIO, on the vCPU thread: the machine's two devices. */
static int on_pio(void* opaque, uint32_t cpu, uint16_t port, uint8_t* data, uint32_t size, int is_write) {
    (void)cpu;
    return device_access(opaque, port, data, size, is_write);
}

static int on_mmio(void* opaque, uint32_t cpu, uint64_t gpa, uint8_t* data, uint32_t size, int is_write) {
    (void)cpu;
    return device_access(opaque, gpa, data, size, is_write);
}

/* A vCPU stopped for a reason the host must handle (it is parked): for
 * this guest every one is a failure. */
static void on_event(void* opaque, const KvmdbgEvent* event) {
    ModuleRun* r = opaque;
    pthread_mutex_lock(&r->lock);
    snprintf(r->event_text, sizeof r->event_text, "event kind %u on vCPU %u: %s", (unsigned)event->kind,
             (unsigned)event->cpu, event->message ? event->message : "");
    pthread_mutex_unlock(&r->lock);
    module_run_end(r);
}

static int fail_op(const KvmdbgAccelOps* ops, KvmdbgAccel* accel, const char* op, int rc) {
    const char* message = ops->last_error(accel);
    fprintf(stderr, "gdb_vmm: %s failed (%d): %s\n", op, rc, message && *message ? message : strerror(-rc));
    return 1;
}

/* Loads PATH and returns its ops table after the checks kvmdbg's loader
 * makes, or NULL after printing why. */
static const KvmdbgAccelOps* load_module(const char* path) {
    void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        fprintf(stderr, "gdb_vmm: cannot load %s: %s\n", path, dlerror());
        return NULL;
    }
    void* symbol = dlsym(handle, KVMDBG_ACCEL_ENTRY_SYMBOL);
    if (!symbol) {
        fprintf(stderr, "gdb_vmm: %s has no entry symbol %s\n", path, KVMDBG_ACCEL_ENTRY_SYMBOL);
        return NULL;
    }
    KvmdbgAccelEntryFn entry;
    memcpy(&entry, &symbol, sizeof entry); /* ISO C has no object-to-function pointer cast */
    const KvmdbgAccelOps* ops = entry();
    if (!ops) {
        fprintf(stderr, "gdb_vmm: %s: entry point returned no ops table\n", path);
        return NULL;
    }
    if (ops->abi_version != KVMDBG_ACCEL_ABI_VERSION) {
        fprintf(stderr, "gdb_vmm: %s: accelerator ABI version %u, this host needs version %u\n", path,
                (unsigned)ops->abi_version, (unsigned)KVMDBG_ACCEL_ABI_VERSION);
        return NULL;
    }
    if (ops->struct_size < sizeof(KvmdbgAccelOps)) {
        fprintf(stderr, "gdb_vmm: %s: ops table of %u bytes is smaller than the %zu this host needs\n", path,
                (unsigned)ops->struct_size, sizeof(KvmdbgAccelOps));
        return NULL;
    }
    if (!ops->create || !ops->destroy || !ops->last_error || !ops->map_ram || !ops->create_vcpus ||
        !ops->get_cpu_state || !ops->set_cpu_state || !ops->start || !ops->pause_all) {
        fprintf(stderr, "gdb_vmm: %s: a mandatory op this host calls is missing\n", path);
        return NULL;
    }
    printf("module %s: name %s, ABI version %u, ops table %u bytes\n", path, ops->name ? ops->name : "?",
           (unsigned)ops->abi_version, (unsigned)ops->struct_size);
    return ops; /* the module stays loaded until exit */
}

/* Waits until the machine ends or the timeout passes; 0 or ETIMEDOUT. */
static int wait_for_end(ModuleRun* r) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += RUN_TIMEOUT_SECONDS;
    int rc = 0;
    pthread_mutex_lock(&r->lock);
    while (!r->ended && rc == 0) {
        rc = pthread_cond_timedwait(&r->ended_cond, &r->lock, &deadline);
    }
    int ended = r->ended;
    pthread_mutex_unlock(&r->lock);
    return ended ? 0 : rc;
}

/* Maps the RAM, sets up vCPU 0 in the guest's CPU mode, runs it until the
 * machine ends and pauses it; 0 or 1 after printing why. */
static int boot_and_run(const KvmdbgAccelOps* ops, KvmdbgAccel* accel, uint8_t* ram, ModuleRun* r) {
    int rc = ops->map_ram(accel, kGuest.ram_base, kGuest.ram_size, ram, 0);
    if (rc < 0) {
        return fail_op(ops, accel, "map_ram", rc);
    }
    rc = ops->create_vcpus(accel, 1);
    if (rc < 0) {
        return fail_op(ops, accel, "create_vcpus", rc);
    }
    uint64_t state[1024 / sizeof(uint64_t)]; /* either ISA's blob (896 or 888 bytes) */
    rc = ops->get_cpu_state(accel, 0, kGuest.kvmdbg_arch, state, kGuest.state_size);
    if (rc < 0) {
        return fail_op(ops, accel, "get_cpu_state", rc);
    }
    guest_boot_state(state);
    rc = ops->set_cpu_state(accel, 0, kGuest.kvmdbg_arch, state, kGuest.state_size);
    if (rc < 0) {
        return fail_op(ops, accel, "set_cpu_state", rc);
    }
    rc = ops->start(accel, 0);
    if (rc < 0) {
        return fail_op(ops, accel, "start", rc);
    }
    rc = wait_for_end(r);
    ops->pause_all(accel);
    if (rc != 0) {
        fprintf(stderr, "gdb_vmm: run: the guest did not reach its exit register in %d s\n", RUN_TIMEOUT_SECONDS);
        return 1;
    }
    if (r->event_text[0]) {
        fprintf(stderr, "gdb_vmm: run: %s\n", r->event_text);
        return 1;
    }
    return 0;
}

/* Creates the VM and its RAM, runs the guest, destroys both; 0 or 1. */
static int run_guest(const KvmdbgAccelOps* ops, ModuleRun* r, int spin) {
    KvmdbgVmConfig config;
    memset(&config, 0, sizeof config);
    config.arch = kGuest.kvmdbg_arch;
    config.kernel_irqchip = 0; /* no interrupt controller: this guest needs none */
    config.device_path = "/dev/kvm";
    KvmdbgHostCallbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.opaque = r;
    callbacks.pio = on_pio;
    callbacks.mmio = on_mmio;
    callbacks.event = on_event;
    char err[512] = "";
    KvmdbgAccel* accel = ops->create(&config, &callbacks, err, sizeof err);
    if (!accel) {
        fprintf(stderr, "gdb_vmm: create: %s\n", err[0] ? err : "no message");
        return 1;
    }
    /* Guest RAM belongs to the host and outlives the VM. */
    uint8_t* ram = mmap(NULL, kGuest.ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int status = 1;
    if (ram == MAP_FAILED) {
        fprintf(stderr, "gdb_vmm: guest RAM: %s\n", strerror(errno));
    } else {
        guest_load(ram, spin);
        status = boot_and_run(ops, accel, ram, r);
    }
    ops->destroy(accel);
    if (ram != MAP_FAILED) {
        munmap(ram, kGuest.ram_size);
    }
    return status;
}

int run_module_mode(const char* path, Machine* m, int spin) {
    const KvmdbgAccelOps* ops = load_module(path ? path : KVMDBG_MODULE_DIR "/accel-kvm.so");
    if (!ops) {
        return 1;
    }
    fflush(stdout);
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        fprintf(stderr, "gdb_vmm: /dev/kvm: %s; cannot run the guest here\n", strerror(errno));
        return 77;
    }
    ModuleRun r = {.machine = m, .lock = PTHREAD_MUTEX_INITIALIZER, .ended_cond = PTHREAD_COND_INITIALIZER};
    if (run_guest(ops, &r, spin) != 0) {
        return 1;
    }
    fprintf(stderr, "gdb_vmm: guest exit status %d\n", m->exit_status);
    return m->exit_status == 0 ? 0 : 1;
}
