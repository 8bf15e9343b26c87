/*
 * The SDK's guest-debug core (sdk/guest_debug.h) on a VM this program
 * creates and runs itself, as a VMM embedding kvmdbg does: its own
 * KVM_CREATE_VM, RAM, vCPU and KVM_RUN, the core called around KVM_RUN.
 * Plain C11 against the SDK headers only.
 *
 * The guest (real mode, at 0x1000):
 *   0x1000  b8 01 00   mov ax, 1
 *   0x1003  40         inc ax
 *   0x1004  40         inc ax
 *   0x1005  e6 f4      out 0xf4, al      (the "exit port": AL = 3)
 *   0x1007  f4         hlt
 *
 * Checks: bad input is refused with a message; single steps report each
 * instruction's address; a step over the port write ends through io_done
 * (or the kernel's own step exit); set_state moves the vCPU;
 * the debugger's reads hide a software breakpoint; a hardware breakpoint
 * stops the vCPU where the host's breakpoints fire (the start-up probe's
 * hw_bp=1; where they do not, that part is skipped and says so); after
 * remove_all guest memory is as it was and the guest runs to its port write.
 * SKIPs (77) without a usable /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest_debug.h"
#include "plugin_abi_x86.h"

#define CODE 0x1000u
#define RAM_SIZE (1u << 20)

static int failures;

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);          \
            printf(__VA_ARGS__);                                            \
            printf(" (last error: %s)\n", kvmdbg_guest_debug_last_error()); \
            ++failures;                                                     \
        }                                                                   \
    } while (0)

struct vm {
    int kvm, vm, vcpu;
    struct kvm_run* run;
    unsigned char* ram;
};

static int setup(struct vm* v) {
    static const unsigned char code[] = {0xb8, 0x01, 0x00, 0x40, 0x40, 0xe6, 0xf4, 0xf4};
    v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (v->kvm < 0) {
        printf("SKIP: /dev/kvm is not usable: %s\n", strerror(errno));
        return 77;
    }
    v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
    v->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (v->vm < 0 || v->ram == MAP_FAILED) {
        printf("FAIL: KVM_CREATE_VM or RAM: %s\n", strerror(errno));
        return 1;
    }
    memcpy(v->ram + CODE, code, sizeof code);
    struct kvm_userspace_memory_region region = {.slot = 0,
                                                 .guest_phys_addr = 0,
                                                 .memory_size = RAM_SIZE,
                                                 .userspace_addr = (unsigned long)v->ram};
    v->vcpu = ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &region) == 0 ? ioctl(v->vm, KVM_CREATE_VCPU, 0) : -1;
    int size = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    v->run = v->vcpu >= 0 && size > 0 ? mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0)
                                      : MAP_FAILED;
    if (v->run == MAP_FAILED) {
        printf("FAIL: vCPU: %s\n", strerror(errno));
        return 1;
    }
    struct kvm_sregs sregs;
    struct kvm_regs regs = {.rip = CODE, .rflags = 2};
    if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs) != 0) {
        return 1;
    }
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs) != 0 || ioctl(v->vcpu, KVM_SET_REGS, &regs) != 0) {
        printf("FAIL: KVM_SET_SREGS/REGS: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}

/* One KVM_RUN on this thread (the vCPU's), retried on EINTR. */
static int run_once(struct vm* v) {
    int rc;
    do {
        rc = ioctl(v->vcpu, KVM_RUN, 0);
    } while (rc < 0 && errno == EINTR);
    return rc;
}

/* A single step from where the vCPU is: the stop's pc, or 0 on failure. */
static uint64_t step(KvmdbgGuestDebug* gd, struct vm* v) {
    KvmdbgDebugStop stop;
    CHECK(kvmdbg_guest_debug_before_run(gd, 0, 1) == 0, "before_run(step)");
    CHECK(kvmdbg_guest_debug_stepping(gd, 0) == 1, "stepping");
    if (run_once(v) < 0) {
        return 0;
    }
    if (v->run->exit_reason == KVM_EXIT_IO) {
        /* The stepped instruction was port I/O: complete it without
         * running further, then the step has ended. */
        CHECK(v->run->io.port == 0xf4 && v->run->io.direction == KVM_EXIT_IO_OUT, "port %u", v->run->io.port);
        v->run->immediate_exit = 1;
        int rc = ioctl(v->vcpu, KVM_RUN, 0);
        v->run->immediate_exit = 0;
        if (rc == 0 && v->run->exit_reason == KVM_EXIT_DEBUG) {
            return kvmdbg_guest_debug_handle_exit(gd, 0, &stop) == 1 ? stop.pc : 0;
        }
        return kvmdbg_guest_debug_io_done(gd, 0, &stop) == 1 && stop.reason == KVMDBG_STOP_STEP ? stop.pc : 0;
    }
    CHECK(v->run->exit_reason == KVM_EXIT_DEBUG, "exit reason %u", v->run->exit_reason);
    int r = kvmdbg_guest_debug_handle_exit(gd, 0, &stop);
    CHECK(r == 1 && stop.reason == KVMDBG_STOP_STEP, "handle_exit %d reason %u", r, stop.reason);
    return r == 1 ? stop.pc : 0;
}

static void bad_input(int vm_fd) {
    char error[256] = "";
    CHECK(kvmdbg_guest_debug_new(vm_fd, 99, error, sizeof error) == NULL && strstr(error, "ISA") != NULL, "%s", error);
    CHECK(kvmdbg_guest_debug_new(-1, KVMDBG_ARCH_X86_64, error, sizeof error) == NULL && error[0] != '\0', "%s", error);
    CHECK(kvmdbg_guest_debug_new(STDERR_FILENO, KVMDBG_ARCH_X86_64, error, sizeof error) == NULL &&
              strstr(error, "not a KVM VM") != NULL,
          "%s", error);
    CHECK(kvmdbg_guest_debug_new(-1, KVMDBG_ARCH_X86_64, NULL, 0) == NULL, "no error buffer");
    CHECK(kvmdbg_guest_debug_insert(NULL, KVMDBG_BP_HARDWARE, CODE, 1) == -EINVAL, "NULL core");
    kvmdbg_guest_debug_free(NULL);
}

int main(void) {
    struct vm v;
    int rc = setup(&v);
    if (rc != 0) {
        return rc;
    }
    bad_input(v.vm);
    CHECK(kvmdbg_sdk_version() == KVMDBG_SDK_VERSION, "version %u", kvmdbg_sdk_version());

    char error[512] = "";
    KvmdbgGuestDebug* gd = kvmdbg_guest_debug_new(v.vm, KVMDBG_ARCH_X86_64, error, sizeof error);
    if (gd == NULL) {
        printf("FAIL: kvmdbg_guest_debug_new: %s\n", error);
        return 1;
    }
    const char* report = kvmdbg_guest_debug_host_report(gd);
    printf("host: %s\n", report);
    CHECK(kvmdbg_guest_debug_insert(gd, KVMDBG_BP_HARDWARE, CODE, 1) == -EINVAL, "insert before any vCPU");
    CHECK(kvmdbg_guest_debug_add_vcpu(gd, 1, v.vcpu) == -EINVAL &&
              strstr(kvmdbg_guest_debug_last_error(), "out of order") != NULL,
          "vCPU 1 first");
    CHECK(kvmdbg_guest_debug_add_ram(gd, 0, RAM_SIZE, v.ram) == 0, "add_ram");
    CHECK(kvmdbg_guest_debug_add_ram(gd, 0x1000, 0x1000, v.ram) == -EINVAL, "overlapping RAM");
    CHECK(kvmdbg_guest_debug_add_vcpu(gd, 0, v.vcpu) == 0, "add_vcpu");
    KvmdbgDebugStop stop;
    CHECK(kvmdbg_guest_debug_handle_exit(gd, 0, &stop) == -EINVAL, "handle_exit without a debug exit");
    CHECK(kvmdbg_guest_debug_before_run(gd, 5, 0) == -EINVAL, "no vCPU 5");

    KvmdbgX86State state;
    CHECK(kvmdbg_guest_debug_get_state(gd, 0, &state, sizeof state) == 0 && state.rip == CODE, "rip %#llx",
          (unsigned long long)state.rip);
    CHECK(kvmdbg_guest_debug_get_state(gd, 0, &state, 3) == -EINVAL, "short state");

    /* Single steps: each stop is at the next instruction. */
    CHECK(step(gd, &v) == 0x1003, "first step");
    CHECK(step(gd, &v) == 0x1004, "second step");
    CHECK(kvmdbg_guest_debug_get_state(gd, 0, &state, sizeof state) == 0 && (state.gpr[0] & 0xffff) == 2, "ax %#llx",
          (unsigned long long)state.gpr[0]);

    /* A software breakpoint on the port write: the debugger reads the
     * original bytes, wherever the core serves it (int3 in memory, or a
     * hardware slot on hosts that do not intercept int3). */
    unsigned char bytes[2] = {0, 0};
    CHECK(kvmdbg_guest_debug_insert(gd, KVMDBG_BP_SOFTWARE, 0x1005, 1) == 0, "insert sw");
    CHECK(kvmdbg_guest_debug_read_memory(gd, 0, 0x1005, bytes, 2, 0) == 0 && bytes[0] == 0xe6 && bytes[1] == 0xf4,
          "read %02x %02x", bytes[0], bytes[1]);
    CHECK(kvmdbg_guest_debug_remove(gd, KVMDBG_BP_SOFTWARE, 0x1005, 1) == 0, "remove sw");
    CHECK(kvmdbg_guest_debug_remove(gd, KVMDBG_BP_SOFTWARE, 0x1005, 1) == -ENOENT, "remove twice");
    CHECK(v.ram[0x1005] == 0xe6, "guest memory %02x after remove", v.ram[0x1005]);

    /* Step onto the port write, then over it: the step ends through io_done. */
    CHECK(step(gd, &v) == 0x1005, "third step");
    CHECK(step(gd, &v) == 0x1007, "step over the port write");

    /* Back to the start (set_state), a hardware breakpoint on the port
     * write, and a continue: it stops there where the host's hardware
     * breakpoints fire; then, removed, the guest runs to its port write. */
    CHECK(kvmdbg_guest_debug_get_state(gd, 0, &state, sizeof state) == 0, "get_state");
    state.rip = CODE;
    CHECK(kvmdbg_guest_debug_set_state(gd, 0, &state, sizeof state) == 0, "set_state");
    int hw_fires = strstr(report, "hw_bp=1") != NULL;
    CHECK(kvmdbg_guest_debug_insert(gd, KVMDBG_BP_HARDWARE, 0x1005, 1) == 0, "insert hw");
    CHECK(kvmdbg_guest_debug_before_run(gd, 0, 0) == 0, "before_run(continue)");
    CHECK(run_once(&v) == 0, "KVM_RUN");
    if (hw_fires) {
        CHECK(v.run->exit_reason == KVM_EXIT_DEBUG, "exit %u", v.run->exit_reason);
        CHECK(kvmdbg_guest_debug_handle_exit(gd, 0, &stop) == 1 && stop.reason == KVMDBG_STOP_HW_BREAK &&
                  stop.addr == 0x1005,
              "hw stop reason %u addr %#llx", stop.reason, (unsigned long long)stop.addr);
        CHECK(kvmdbg_guest_debug_remove_all(gd) == 0, "remove_all");
        CHECK(kvmdbg_guest_debug_before_run(gd, 0, 0) == 0, "before_run(continue)");
        CHECK(run_once(&v) == 0, "KVM_RUN");
    } else {
        printf(
            "note: hardware breakpoints do not fire on this host's KVM (start-up probe): "
            "the breakpoint stop is not checked\n");
        CHECK(kvmdbg_guest_debug_remove_all(gd) == 0, "remove_all");
    }
    CHECK(v.run->exit_reason == KVM_EXIT_IO && v.run->io.port == 0xf4, "exit %u", v.run->exit_reason);
    unsigned char al = ((unsigned char*)v.run)[v.run->io.data_offset];
    CHECK(al == 3, "the guest wrote %u to its exit port", al);
    CHECK(memcmp(v.ram + CODE, "\xb8\x01\x00\x40\x40\xe6\xf4\xf4", 8) == 0, "guest code unchanged");

    kvmdbg_guest_debug_free(gd);
    /* The program's own fds are still its own. */
    CHECK(ioctl(v.vcpu, KVM_GET_REGS, &(struct kvm_regs){0}) == 0, "vCPU fd after free");
    if (failures != 0) {
        printf("%d check(s) failed\n", failures);
        return 1;
    }
    printf("PASS\n");
    return 0;
}
