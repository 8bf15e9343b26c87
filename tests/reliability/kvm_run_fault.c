/*
 * kvm_run_fault.so: an LD_PRELOAD shim that makes some KVM_RUN ioctls fail
 * with EINTR or EAGAIN, the two errors Documentation/virt/kvm/api.rst
 * ("KVM_RUN") lets a caller see without anything being wrong: EINTR when a
 * signal is pending at entry (exit_reason KVM_EXIT_INTR), EAGAIN when the
 * vCPU cannot run yet. The test seam lives outside kvmdbg: the emulator runs
 * unmodified.
 *
 *   KVMDBG_FAULT_KVM_RUN=EINTR:N    every Nth KVM_RUN fails with EINTR
 *   KVMDBG_FAULT_KVM_RUN=EAGAIN:N   every Nth KVM_RUN fails with EAGAIN
 *   KVMDBG_FAULT_KVM_RUN=EFAULT@N   one KVM_RUN fails with EFAULT: the Nth, or the
 *                                   first one after it where the kernel could fail
 *   KVMDBG_FAULT_KVM_RUN=count      nothing injected; only counts the real
 *                                   EINTR returns (a test's own signals)
 *
 * Faithful to the kernel: a failure is injected only where the kernel could
 * return it with no side effect, i.e. not on a KVM_RUN that must first
 * complete the previous exit's port I/O or MMIO (the kernel does that before
 * it looks at signals) and not on an immediate_exit=1 call. For that the
 * shim watches KVM_CREATE_VCPU and the vCPU's kvm_run mmap. Only vCPUs of
 * a VM with a memory slot of at least 4 MiB count (the machine's VM, not
 * the start-up probe's throw-away VMs, which would read an injected error
 * as a host limit). At exit it prints on stderr:
 *
 *   kvm_run_fault: <calls> KVM_RUN calls, <n> failed with <ERRNO>, <m> real EINTR
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MAX_FDS 4096

static struct kvm_run* _Atomic runs[MAX_FDS];
static _Atomic unsigned char is_vcpu[MAX_FDS];
static _Atomic unsigned char is_machine_vm[MAX_FDS];
static atomic_ulong calls;
static atomic_ulong injected;
static atomic_ulong real_eintr;
static int enabled;
static atomic_int fired;
static int fault_errno;
static unsigned long every;
static unsigned long once_at;
static const char* fault_name = "nothing";

__attribute__((constructor)) static void parse_spec(void) {
    const char* spec = getenv("KVMDBG_FAULT_KVM_RUN");
    if (spec == NULL) return;
    enabled = 1;
    if (strcmp(spec, "count") == 0) return;
    static const struct {
        const char* name;
        int value;
    } names[] = {{"EINTR", EINTR}, {"EAGAIN", EAGAIN}, {"EFAULT", EFAULT}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
        size_t n = strlen(names[i].name);
        if (strncmp(spec, names[i].name, n) == 0 && (spec[n] == ':' || spec[n] == '@')) {
            fault_errno = names[i].value;
            fault_name = names[i].name;
            unsigned long v = strtoul(spec + n + 1, NULL, 10);
            if (spec[n] == ':')
                every = v;
            else
                once_at = v;
        }
    }
    if (fault_errno == 0 || (every == 0 && once_at == 0)) {
        fprintf(stderr, "kvm_run_fault: bad KVMDBG_FAULT_KVM_RUN '%s'\n", spec);
        abort();
    }
}

__attribute__((destructor)) static void report(void) {
    if (enabled)
        fprintf(stderr, "kvm_run_fault: %lu KVM_RUN calls, %lu failed with %s, %lu real EINTR\n", atomic_load(&calls),
                atomic_load(&injected), fault_name, atomic_load(&real_eintr));
}

static int should_inject(int fd) {
    if (!enabled || fd < 0 || fd >= MAX_FDS) return 0;
    struct kvm_run* run = atomic_load(&runs[fd]);
    if (run == NULL) return 0;
    unsigned long n = atomic_fetch_add(&calls, 1) + 1;
    if (fault_errno == 0 || run->immediate_exit) return 0;
    if (run->exit_reason == KVM_EXIT_IO || run->exit_reason == KVM_EXIT_MMIO)
        return 0; /* the kernel completes that access before any signal check */
    if (every != 0) return n % every == 0;
    return n >= once_at && !atomic_exchange(&fired, 1); /* the first eligible call from the Nth on */
}

int ioctl(int fd, unsigned long request, ...) {
    static int (*real)(int, unsigned long, void*);
    va_list ap;
    va_start(ap, request);
    void* arg = va_arg(ap, void*);
    va_end(ap);
    if (real == NULL) real = (int (*)(int, unsigned long, void*))dlsym(RTLD_NEXT, "ioctl");
    if (request == KVM_RUN && should_inject(fd)) {
        atomic_fetch_add(&injected, 1);
        if (fault_errno == EINTR) runs[fd]->exit_reason = KVM_EXIT_INTR;
        errno = fault_errno;
        return -1;
    }
    int rc = real(fd, request, arg);
    if (request == KVM_RUN && rc < 0 && errno == EINTR && enabled) atomic_fetch_add(&real_eintr, 1);
    if (request == KVM_SET_USER_MEMORY_REGION && rc == 0 && fd >= 0 && fd < MAX_FDS &&
        ((const struct kvm_userspace_memory_region*)arg)->memory_size >= (4u << 20))
        atomic_store(&is_machine_vm[fd], 1);
    if (request == KVM_CREATE_VCPU && rc >= 0 && rc < MAX_FDS && fd >= 0 && fd < MAX_FDS)
        atomic_store(&is_vcpu[rc], atomic_load(&is_machine_vm[fd]));
    if (request == KVM_CREATE_VM && rc >= 0 && rc < MAX_FDS) atomic_store(&is_machine_vm[rc], 0);
    return rc;
}

void* mmap(void* addr, size_t len, int prot, int flags, int fd, off_t off) {
    static void* (*real)(void*, size_t, int, int, int, off_t);
    if (real == NULL) real = (void* (*)(void*, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap");
    void* p = real(addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED && fd >= 0 && fd < MAX_FDS && off == 0)
        atomic_store(&runs[fd], atomic_load(&is_vcpu[fd]) ? (struct kvm_run*)p : NULL);
    return p;
}
