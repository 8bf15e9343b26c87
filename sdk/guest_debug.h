/*
 * kvmdbg guest-debug core for hosts that own their VM and vCPU fds
 * (installed as <kvmdbg/guest_debug.h>; docs/embedding.md).
 *
 * The same core as the accel-kvm module's: breakpoint and watchpoint
 * tables with reference counts, software breakpoints written into guest
 * memory (and hidden from the debugger's reads), hardware slot planning,
 * single step and the step over a breakpoint the vCPU sits on, the
 * struct kvm_guest_debug built for every vCPU and pushed with
 * KVM_SET_GUEST_DEBUG, every KVM_EXIT_DEBUG classified, and the guest's own
 * debug exceptions reflected back into it. The host keeps its KVM_CREATE_VM,
 * memory slots, vCPU threads and run loop; it tells the core its RAM and
 * vCPUs and calls two functions around KVM_RUN on each vCPU's thread:
 *
 *     for (;;) {
 *         kvmdbg_guest_debug_before_run(gd, cpu, stepping);  // push
 *         ioctl(vcpu_fd, KVM_RUN, 0);
 *         if (run->exit_reason == KVM_EXIT_DEBUG &&
 *             kvmdbg_guest_debug_handle_exit(gd, cpu, &stop) == 1)
 *             park and report `stop` to the debugger;
 *         ...
 *     }
 *
 * Threads. kvmdbg_guest_debug_before_run(), _handle_exit() and _io_done()
 * on the vCPU's own thread. Everything else on any other thread while the
 * vCPUs are out of KVM_RUN (stopped for the debugger, as gdb's all-stop
 * mode keeps them): those calls use the vCPU fds from the calling thread,
 * and an ioctl on a vCPU inside KVM_RUN waits for it to leave. Calls are
 * serialised inside.
 *
 * Errors: negative errno values; kvmdbg_guest_debug_last_error() has the
 * message of the last failure of the calling thread.
 */
#ifndef KVMDBG_GUEST_DEBUG_H
#define KVMDBG_GUEST_DEBUG_H

#include <stddef.h>
#include <stdint.h>

#include "plugin_abi.h"
#include "sdk_version.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct KvmdbgGuestDebug KvmdbgGuestDebug;

/* The core for the host's VM `vm_fd` (duplicated: the host keeps and
 * closes its own) of ISA `arch` (enum KvmdbgArch, the host's own). Runs
 * kvmdbg's start-up probe of what this host's KVM does for a debugger (a
 * few tiny VMs) and enables the VM capabilities guest debug needs. NULL on
 * error, the message in error[error_size]: no KVM_CAP_SET_GUEST_DEBUG, an
 * ISA other than the host's, a bad fd. */
KvmdbgGuestDebug* kvmdbg_guest_debug_new(int vm_fd, uint32_t arch, char* error, size_t error_size);

/* Guest RAM the host mapped with KVM_SET_USER_MEMORY_REGION: what the
 * debugger's memory access, page walks and software breakpoints use.
 * `host` stays mapped while the core exists. 0 or -EINVAL (overlap). */
int kvmdbg_guest_debug_add_ram(KvmdbgGuestDebug* gd, uint64_t gpa, uint64_t size, void* host);

/* vCPU `cpu` (0, 1, ... in order) is `vcpu_fd` (duplicated; its kvm_run
 * page is mapped again). Every vCPU before the first breakpoint. */
int kvmdbg_guest_debug_add_vcpu(KvmdbgGuestDebug* gd, uint32_t cpu, int vcpu_fd);

/* A breakpoint or watchpoint (enum KvmdbgBreakpointType) for every vCPU,
 * pushed to each at once. -ENOSPC no debug register left, -ENOTSUP a kind
 * the host lacks, -EFAULT a software breakpoint on unmapped memory. */
int kvmdbg_guest_debug_insert(KvmdbgGuestDebug* gd, uint32_t type, uint64_t addr, uint64_t len);
/* -ENOENT when no such breakpoint is inserted. */
int kvmdbg_guest_debug_remove(KvmdbgGuestDebug* gd, uint32_t type, uint64_t addr, uint64_t len);
/* Removes everything, restores guest memory, turns guest debug off. */
int kvmdbg_guest_debug_remove_all(KvmdbgGuestDebug* gd);

/* The vCPU's registers as the plugin ABI's state blob of its ISA
 * (KvmdbgX86State, KvmdbgArm64State; `size` must be its size). */
int kvmdbg_guest_debug_get_state(KvmdbgGuestDebug* gd, uint32_t cpu, void* state, uint32_t size);
int kvmdbg_guest_debug_set_state(KvmdbgGuestDebug* gd, uint32_t cpu, const void* state, uint32_t size);

/* The debugger's memory access, as vCPU `cpu` sees memory (physical == 0:
 * through its page tables; 1: guest-physical). Reads show the original
 * bytes under software breakpoints; writes over one update its saved
 * bytes. 0 or -EFAULT (nothing written). */
int kvmdbg_guest_debug_read_memory(KvmdbgGuestDebug* gd, uint32_t cpu, uint64_t addr, void* buf, uint64_t len,
                                   int physical);
int kvmdbg_guest_debug_write_memory(KvmdbgGuestDebug* gd, uint32_t cpu, uint64_t addr, const void* buf, uint64_t len,
                                    int physical);

/* The vCPU's own thread, right before KVM_RUN after it was stopped for the
 * debugger (or first runs): arms one single step (step == 1) or a continue,
 * steps over a breakpoint the vCPU sits on, and pushes its
 * KVM_SET_GUEST_DEBUG. Not needed before a KVM_RUN that re-enters after an
 * I/O or MMIO exit. 0 or -errno (the vCPU must not run). */
int kvmdbg_guest_debug_before_run(KvmdbgGuestDebug* gd, uint32_t cpu, int step);

/* The vCPU's own thread, after KVM_RUN returned KVM_EXIT_DEBUG: 1 when the
 * debugger must see this stop (`*stop` filled: the step, breakpoint or
 * watchpoint; the host parks the vCPU and reports it), 0 when the vCPU
 * goes on (the guest's own debug exception was reflected into it, or a
 * step over a breakpoint finished): run it again without before_run.
 * Also for KVM_EXIT_INTERNAL_ERROR: on hosts whose KVM does not intercept
 * int3 but stops at one in x86-64 kernel code as an emulation failure
 * (docs/hosts.md), gdb's software breakpoints there are int3s and such an
 * exit at one of them returns 1 with the breakpoint's stop; any other
 * internal error, and any other exit, returns -EINVAL (the host's own). */
int kvmdbg_guest_debug_handle_exit(KvmdbgGuestDebug* gd, uint32_t cpu, KvmdbgDebugStop* stop);

/* Whether a debugger single step is armed on `cpu` (after before_run). */
int kvmdbg_guest_debug_stepping(KvmdbgGuestDebug* gd, uint32_t cpu);

/* The vCPU's own thread, when a single-stepped instruction was port I/O or
 * MMIO: after the host completed the access (a KVM_RUN with
 * kvm_run->immediate_exit = 1), the step has ended without a
 * KVM_EXIT_DEBUG. Same result as handle_exit for a finished step. */
int kvmdbg_guest_debug_io_done(KvmdbgGuestDebug* gd, uint32_t cpu, KvmdbgDebugStop* stop);

/* What kvmdbg found this host's KVM can do for a debugger (one paragraph),
 * and how the core adapts. Valid until the core is freed. */
const char* kvmdbg_guest_debug_host_report(KvmdbgGuestDebug* gd);

/* The message of the calling thread's last failed call ("" if none). */
const char* kvmdbg_guest_debug_last_error(void);

/* Removes every breakpoint (restoring guest memory) and frees the core.
 * The host's fds stay open. NULL is ignored. */
void kvmdbg_guest_debug_free(KvmdbgGuestDebug* gd);

#ifdef __cplusplus
}
#endif

#endif /* KVMDBG_GUEST_DEBUG_H */
