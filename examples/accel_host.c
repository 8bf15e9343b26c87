/*
 * accel_host: the smallest VMM that runs a guest on kvmdbg's KVM module,
 * built only against the installed SDK (docs/sdk.md), never the source
 * tree. It loads accel-kvm.so the way kvmdbg's loader does
 * (docs/plugin-abi.md), checks the module's ABI, creates an x86-64 VM with
 * 64 KiB of RAM and one vCPU, runs the few bytes of real-mode code below,
 * collects what the guest writes to COM1's data port and stops at the
 * guest's write to the exit port. No debugger, no devices: the pio
 * callback is the whole machine.
 *
 * Build, with the directory and version kvmdbg-accel.pc gives:
 *
 *   cc -std=c11 $(pkg-config --cflags kvmdbg-accel) \
 *      -DKVMDBG_MODULE_DIR="\"$(pkg-config --variable=moduledir kvmdbg-accel)\"" \
 *      -DKVMDBG_PC_ABI_VERSION=$(pkg-config --variable=abi_version kvmdbg-accel) \
 *      accel_host.c -o accel_host -ldl -pthread
 *
 *   accel_host [MODULE]     (default: KVMDBG_MODULE_DIR/accel-kvm.so)
 *
 * Prints what the guest wrote. Exit status: 0 the guest wrote "OK\n" and
 * exit status 0; 77 no usable /dev/kvm (after the module and its ABI were
 * checked; a test reads it as SKIP); 1 anything else, with one line naming
 * the step that failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kvmdbg/plugin_abi.h>
#include <kvmdbg/plugin_abi_x86.h>

#ifndef KVMDBG_MODULE_DIR
#error "define KVMDBG_MODULE_DIR: pkg-config --variable=moduledir kvmdbg-accel"
#endif
#ifndef KVMDBG_PC_ABI_VERSION
#error "define KVMDBG_PC_ABI_VERSION: pkg-config --variable=abi_version kvmdbg-accel"
#endif
_Static_assert(KVMDBG_PC_ABI_VERSION == KVMDBG_ACCEL_ABI_VERSION,
               "kvmdbg-accel.pc and <kvmdbg/plugin_abi.h> come from different kvmdbg installs");

#define GUEST_RAM_SIZE (64u * 1024u)
#define GUEST_CODE_ADDR 0x1000u /* CS base 0, IP 0x1000 */
#define COM1_DATA_PORT 0x3f8u
#define EXIT_PORT 0xf4u /* as QEMU's isa-debug-exit,iobase=0xf4 */
#define RUN_TIMEOUT_SECONDS 30

/* 16-bit real-mode code: "OK\n" to COM1, then the status 0 to the exit port. */
static const uint8_t kGuestCode[] = {
    0xba, 0xf8, 0x03, /* mov dx, 0x3f8 */
    0xb0, 'O',        /* mov al, 'O' */
    0xee,             /* out dx, al */
    0xb0, 'K',        /* mov al, 'K' */
    0xee,             /* out dx, al */
    0xb0, '\n',       /* mov al, '\n' */
    0xee,             /* out dx, al */
    0xb0, 0x00,       /* mov al, 0 */
    0xe6, 0xf4,       /* out 0xf4, al: the host parks the vCPU here */
    0xf4,             /* hlt: not reached */
};

/* What the vCPU thread reports to the main thread, under `lock`. */
typedef struct Machine {
    pthread_mutex_t lock;
    pthread_cond_t ended_cond;
    int ended;        /* the exit port was written, or an event came */
    int exit_status;  /* the byte written to EXIT_PORT, or -1 */
    char output[256]; /* bytes written to COM1_DATA_PORT */
    size_t output_len;
    char event_text[512]; /* an event that ended the run: kind and message */
} Machine;

static void machine_end(Machine* m) {
    m->ended = 1;
    pthread_cond_signal(&m->ended_cond);
}

/* Port I/O, on the vCPU thread: the whole machine's devices. */
static int on_pio(void* opaque, uint32_t cpu, uint16_t port, uint8_t* data, uint32_t size, int is_write) {
    Machine* m = opaque;
    int result = KVMDBG_IO_CONTINUE;
    (void)cpu;
    if (!is_write) {
        memset(data, 0xff, size); /* no device: reads float high */
        return result;
    }
    pthread_mutex_lock(&m->lock);
    if (port == COM1_DATA_PORT && m->output_len + 1 < sizeof m->output) {
        m->output[m->output_len++] = (char)data[0];
    } else if (port == EXIT_PORT) {
        m->exit_status = data[0];
        machine_end(m);
        result = KVMDBG_IO_PARK; /* the machine is over: do not re-enter */
    }
    pthread_mutex_unlock(&m->lock);
    return result;
}

/* MMIO, on the vCPU thread: this machine has none. */
static int on_mmio(void* opaque, uint32_t cpu, uint64_t gpa, uint8_t* data, uint32_t size, int is_write) {
    (void)opaque, (void)cpu, (void)gpa;
    if (!is_write) {
        memset(data, 0xff, size);
    }
    return KVMDBG_IO_CONTINUE;
}

/* A vCPU stopped for a reason the host must handle (the vCPU is parked):
 * for this guest every one is a failure. */
static void on_event(void* opaque, const KvmdbgEvent* event) {
    Machine* m = opaque;
    pthread_mutex_lock(&m->lock);
    snprintf(m->event_text, sizeof m->event_text, "event kind %u on vCPU %u: %s", (unsigned)event->kind,
             (unsigned)event->cpu, event->message ? event->message : "");
    machine_end(m);
    pthread_mutex_unlock(&m->lock);
}

static int fail(const char* step, const char* detail) {
    fprintf(stderr, "accel_host: %s: %s\n", step, detail);
    return 1;
}

static int fail_op(const KvmdbgAccelOps* ops, KvmdbgAccel* accel, const char* op, int rc) {
    const char* message = ops->last_error(accel);
    fprintf(stderr, "accel_host: %s failed (%d): %s\n", op, rc, message && *message ? message : strerror(-rc));
    return 1;
}

/* Loads MODULE and returns its ops table after the checks kvmdbg's loader
 * makes, or NULL after printing why. */
static const KvmdbgAccelOps* load_module(const char* path) {
    void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        fprintf(stderr, "accel_host: cannot load %s: %s\n", path, dlerror());
        return NULL;
    }
    void* symbol = dlsym(handle, KVMDBG_ACCEL_ENTRY_SYMBOL);
    if (!symbol) {
        fprintf(stderr, "accel_host: %s has no entry symbol %s\n", path, KVMDBG_ACCEL_ENTRY_SYMBOL);
        return NULL;
    }
    KvmdbgAccelEntryFn entry;
    memcpy(&entry, &symbol, sizeof entry); /* ISO C has no object-to-function pointer cast */
    const KvmdbgAccelOps* ops = entry();
    if (!ops) {
        fprintf(stderr, "accel_host: %s: entry point returned no ops table\n", path);
        return NULL;
    }
    if (ops->abi_version != KVMDBG_ACCEL_ABI_VERSION) {
        fprintf(stderr, "accel_host: %s: accelerator ABI version %u, this host needs version %u\n", path,
                (unsigned)ops->abi_version, (unsigned)KVMDBG_ACCEL_ABI_VERSION);
        return NULL;
    }
    if (ops->struct_size < sizeof(KvmdbgAccelOps)) {
        fprintf(stderr, "accel_host: %s: ops table of %u bytes is smaller than the %zu this host needs\n", path,
                (unsigned)ops->struct_size, sizeof(KvmdbgAccelOps));
        return NULL;
    }
    if (!ops->create || !ops->destroy || !ops->last_error || !ops->map_ram || !ops->create_vcpus ||
        !ops->get_cpu_state || !ops->set_cpu_state || !ops->start || !ops->pause_all) {
        fprintf(stderr, "accel_host: %s: a mandatory op this host calls is missing\n", path);
        return NULL;
    }
    printf("module %s: name %s, ABI version %u, ops table %u bytes\n", path, ops->name ? ops->name : "?",
           (unsigned)ops->abi_version, (unsigned)ops->struct_size);
    return ops; /* the module stays loaded until exit */
}

/* Waits until the machine ends or the timeout passes; returns 0 or ETIMEDOUT. */
static int wait_for_end(Machine* m) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += RUN_TIMEOUT_SECONDS;
    int rc = 0;
    pthread_mutex_lock(&m->lock);
    while (!m->ended && rc == 0) {
        rc = pthread_cond_timedwait(&m->ended_cond, &m->lock, &deadline);
    }
    pthread_mutex_unlock(&m->lock);
    return m->ended ? 0 : rc;
}

/* Maps the RAM, sets up vCPU 0 at the guest code, runs it until the
 * machine ends and pauses it; returns 0 or 1 after printing why. */
static int boot_and_run(const KvmdbgAccelOps* ops, KvmdbgAccel* accel, uint8_t* ram, Machine* m) {
    memcpy(ram + GUEST_CODE_ADDR, kGuestCode, sizeof kGuestCode);
    int rc = ops->map_ram(accel, 0, GUEST_RAM_SIZE, ram, 0);
    if (rc < 0) {
        return fail_op(ops, accel, "map_ram", rc);
    }
    rc = ops->create_vcpus(accel, 1);
    if (rc < 0) {
        return fail_op(ops, accel, "create_vcpus", rc);
    }
    /* Start from the vCPU's reset state (real mode), moved to our code. */
    KvmdbgX86State state;
    rc = ops->get_cpu_state(accel, 0, KVMDBG_ARCH_X86_64, &state, KVMDBG_X86_64_STATE_SIZE);
    if (rc < 0) {
        return fail_op(ops, accel, "get_cpu_state", rc);
    }
    state.cs.base = 0;
    state.cs.selector = 0;
    state.rip = GUEST_CODE_ADDR;
    rc = ops->set_cpu_state(accel, 0, KVMDBG_ARCH_X86_64, &state, KVMDBG_X86_64_STATE_SIZE);
    if (rc < 0) {
        return fail_op(ops, accel, "set_cpu_state", rc);
    }
    rc = ops->start(accel, 0);
    if (rc < 0) {
        return fail_op(ops, accel, "start", rc);
    }
    rc = wait_for_end(m);
    ops->pause_all(accel);
    if (rc != 0) {
        return fail("run", "the guest did not reach the exit port in time");
    }
    if (m->event_text[0]) {
        return fail("run", m->event_text);
    }
    return 0;
}

/* Creates the VM and its RAM, runs the guest, destroys both; 0 or 1. */
static int run_guest(const KvmdbgAccelOps* ops, Machine* m) {
    KvmdbgVmConfig config;
    memset(&config, 0, sizeof config);
    config.arch = KVMDBG_ARCH_X86_64;
    config.kernel_irqchip = 0; /* no interrupt controller: this guest needs none */
    config.device_path = "/dev/kvm";
    KvmdbgHostCallbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.opaque = m;
    callbacks.pio = on_pio;
    callbacks.mmio = on_mmio;
    callbacks.event = on_event;
    char err[512] = "";
    KvmdbgAccel* accel = ops->create(&config, &callbacks, err, sizeof err);
    if (!accel) {
        return fail("create", err[0] ? err : "no message");
    }
    /* Guest RAM belongs to the host, outlives the VM and is mapped in whole
     * host pages. */
    uint8_t* ram = aligned_alloc((size_t)sysconf(_SC_PAGESIZE), GUEST_RAM_SIZE);
    int status = 1;
    if (!ram) {
        fail("guest RAM", strerror(errno));
    } else {
        memset(ram, 0, GUEST_RAM_SIZE);
        status = boot_and_run(ops, accel, ram, m);
    }
    ops->destroy(accel);
    free(ram);
    return status;
}

int main(int argc, char** argv) {
    const char* path = argc > 1 ? argv[1] : KVMDBG_MODULE_DIR "/accel-kvm.so";
    const KvmdbgAccelOps* ops = load_module(path);
    if (!ops) {
        return 1;
    }
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        fprintf(stderr, "accel_host: /dev/kvm: %s; cannot run the guest here\n", strerror(errno));
        return 77;
    }
    static Machine machine = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .ended_cond = PTHREAD_COND_INITIALIZER,
        .exit_status = -1,
    };
    if (run_guest(ops, &machine) != 0) {
        return 1;
    }
    printf("guest wrote \"");
    for (size_t i = 0; i < machine.output_len; i++) {
        if (machine.output[i] == '\n') {
            fputs("\\n", stdout);
        } else {
            putchar(machine.output[i]);
        }
    }
    printf("\", exit status %d\n", machine.exit_status);
    if (strcmp(machine.output, "OK\n") != 0 || machine.exit_status != 0) {
        return fail("guest", "expected \"OK\\n\" and exit status 0");
    }
    return 0;
}
