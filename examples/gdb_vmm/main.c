/*
 * gdb_vmm: a small VMM with its own KVM loop that gets gdb's `-s -S` from
 * the kvmdbg SDK (docs/embedding.md, docs/sdk.md), built only against the
 * installed files:
 *
 *   cc -std=c11 $(pkg-config --cflags --libs kvmdbg kvmdbg-accel) \
 *      -DKVMDBG_MODULE_DIR="\"$(pkg-config --variable=moduledir kvmdbg-accel)\"" \
 *      -DKVMDBG_PC_ABI_VERSION=$(pkg-config --variable=abi_version kvmdbg-accel) \
 *      *.c -o gdb_vmm -ldl -pthread
 *
 *   gdb_vmm [-s] [-S] [-gdb DEV] [--spin]     its own KVM; DEV as QEMU's:
 *                                           tcp::PORT, unix:PATH, stdio
 *   gdb_vmm --module [PATH]                  the same guest on accel-kvm.so
 *
 * -s is -gdb tcp::1234; -S keeps the vCPU stopped until gdb lets it run.
 * The guest's serial output goes to stdout (to stderr with -gdb stdio).
 * Exit status: 0 the guest wrote exit status 0; 77 no usable /dev/kvm; 1
 * anything else, with one line naming what failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm.h"

int machine_access(Machine* m, uint64_t addr, uint8_t* data, uint32_t size, int is_write) {
    int ended = 0;
    pthread_mutex_lock(&m->lock);
    if (!is_write) {
        memset(data, addr == kGuest.serial ? 0 : 0xff, size); /* no device: reads float high */
    } else if (addr == kGuest.serial) {
        fputc(data[0], m->serial_out);
        fflush(m->serial_out);
    } else if (addr == kGuest.exit) {
        m->exit_status = data[0];
        ended = 1;
    }
    pthread_mutex_unlock(&m->lock);
    return ended;
}

typedef struct Options {
    const char* gdb; /* -gdb endpoint, or NULL */
    int stopped;     /* -S */
    int spin;        /* --spin */
    int module;      /* --module */
    const char* module_path;
} Options;

static int usage(const char* message) {
    fprintf(stderr,
            "gdb_vmm: %s\nusage: gdb_vmm [-s] [-S] [-gdb tcp::PORT|unix:PATH|stdio] [--spin]\n"
            "       gdb_vmm --module [PATH]\n",
            message);
    return 1;
}

static int parse(int argc, char** argv, Options* o) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-s") == 0) {
            o->gdb = "tcp::1234";
        } else if (strcmp(argv[i], "-S") == 0) {
            o->stopped = 1;
        } else if (strcmp(argv[i], "-gdb") == 0 && i + 1 < argc) {
            o->gdb = argv[++i];
        } else if (strcmp(argv[i], "--spin") == 0) {
            o->spin = 1;
        } else if (strcmp(argv[i], "--module") == 0) {
            o->module = 1;
            if (i + 1 < argc && argv[i + 1][0] != '-') {
                o->module_path = argv[++i];
            }
        } else {
            return usage(argv[i][0] == '-' ? "unknown option or missing argument" : "unexpected argument");
        }
    }
    if (o->module && (o->gdb || o->stopped || o->spin)) {
        return usage("--module runs without a debugger: no -s, -S, -gdb or --spin");
    }
    if (o->stopped && !o->gdb) {
        return usage("-S needs -s or -gdb (nothing would let the vCPU run)");
    }
    return 0;
}

/* Own KVM: the VM, the debugger if asked for, the run to the guest's exit. */
static int run_own_kvm(const Options* o, Machine* m) {
    Vm vm;
    memset(&vm, 0, sizeof vm);
    int rc = vm_create(&vm, m, o->spin);
    if (rc == -ENOENT || rc == -EACCES || rc == -EPERM) {
        fprintf(stderr, "gdb_vmm: %s; cannot run the guest here\n", vm.error);
        return 77;
    }
    if (rc < 0) {
        fprintf(stderr, "gdb_vmm: %s\n", vm.error);
        vm_destroy(&vm);
        return 1;
    }
    /* The labels a debugger wants (the guest's listing has them too). */
    fprintf(stderr, "gdb_vmm: %s guest: start 0x%llx, loop 0x%llx, tick 0x%llx, counter 0x%llx\n", kGuest.isa,
            (unsigned long long)kGuest.code, (unsigned long long)kGuest.loop, (unsigned long long)kGuest.tick,
            (unsigned long long)kGuest.data);
    if (o->gdb && debug_create(&vm) < 0) {
        return 1;
    }
    if (vm_start(&vm, o->stopped) < 0) {
        fprintf(stderr, "gdb_vmm: %s\n", vm.error);
        return 1;
    }
    if (o->gdb && debug_listen(&vm, o->gdb) < 0) {
        vm_kill(&vm);
        vm_wait(&vm);
        return 1;
    }
    int failed = vm_wait(&vm);
    if (vm.stub) {
        debug_detach(&vm);
    }
    vm_destroy(&vm);
    if (failed) {
        fprintf(stderr, "gdb_vmm: vCPU 0: %s\n", vm.error);
        return 1;
    }
    if (vm.killed) {
        fprintf(stderr, "gdb_vmm: killed by the debugger\n");
        return 0;
    }
    fprintf(stderr, "gdb_vmm: guest exit status %d\n", m->exit_status);
    return m->exit_status == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
    Options o = {0};
    if (parse(argc, argv, &o) != 0) {
        return 1;
    }
    Machine machine = {.lock = PTHREAD_MUTEX_INITIALIZER, .exit_status = -1};
    /* With -gdb stdio, stdout is gdb's connection. */
    machine.serial_out = o.gdb && strcmp(o.gdb, "stdio") == 0 ? stderr : stdout;
    if (o.module) {
        return run_module_mode(o.module_path, &machine, o.spin);
    }
    return run_own_kvm(&o, &machine);
}
