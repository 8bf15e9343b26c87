/*
 * kvmdbg gdb stub for hosts that own their vCPU loop (installed as
 * <kvmdbg/gdbstub.h>; docs/embedding.md).
 *
 * The stub is kvmdbg's own: the same GDB remote protocol engine, target
 * descriptions, target-side conditions (agent expressions) and transports
 * as `kvmdbg -gdb`. A host gives it a table of callbacks (the target) and
 * gets gdb's `-s -S`: registers, memory, breakpoints and watchpoints,
 * continue, single step, Ctrl-C, detach, kill.
 *
 * Threads. kvmdbg_gdbstub_listen() starts the stub's own thread (with a
 * GLib main context of its own: the host needs no main loop), which
 * serves the connection and makes every call of the target (never two at
 * once; before listen, a reported stop's resume is made on the reporting
 * thread). The host's vCPU threads tell it about stops with
 * kvmdbg_gdbstub_report_stop() (any thread). The target's calls other than
 * resume/stop_all are made only while every vCPU is stopped for the
 * debugger (gdb's all-stop mode).
 *
 * Registers cross the interface as the plugin ABI's state blob of the
 * target's ISA (KvmdbgX86State in <kvmdbg/plugin_abi_x86.h>,
 * KvmdbgArm64State in <kvmdbg/plugin_abi_arm64.h>); the stub converts them
 * to gdb's register layout. A host that uses the guest-debug core
 * (<kvmdbg/guest_debug.h>) gets them from kvmdbg_guest_debug_get_state().
 *
 * Errors are negative errno values: -EFAULT an unreadable address, -ENOSPC
 * no free debug register, -ENOTSUP/-EOPNOTSUPP a breakpoint kind the target
 * lacks (gdb falls back), anything else is reported to gdb as E<errno>.
 *
 * The stub writes a line to stderr when a debugger goes away without
 * detaching and when a second debugger is refused, as `kvmdbg -gdb` does.
 */
#ifndef KVMDBG_GDBSTUB_H
#define KVMDBG_GDBSTUB_H

#include <stddef.h>
#include <stdint.h>

#include "plugin_abi.h"
#include "sdk_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the stub asks of the host. Zero-initialise, then fill. */
typedef struct KvmdbgGdbTarget {
    uint32_t struct_size; /* sizeof(KvmdbgGdbTarget) as the host was built */
    uint32_t arch;        /* enum KvmdbgArch: the ISA of the state blob */
    uint32_t cpus;        /* vCPUs 0..cpus-1 are gdb threads 1..cpus */
    uint32_t reserved0;
    void* opaque; /* passed to every callback */

    /* Mandatory. The whole state blob of a stopped vCPU (`size` is the
     * ISA's KVMDBG_*_STATE_SIZE); set_state writes it back. 0 or -errno. */
    int (*get_state)(void* opaque, uint32_t cpu, void* state, uint32_t size);
    int (*set_state)(void* opaque, uint32_t cpu, const void* state, uint32_t size);
    /* Mandatory. Guest memory as vCPU `cpu` sees it (physical == 0: a
     * virtual address through its page tables; 1: guest-physical). Reads
     * return how many bytes were read from the start (>= 1; fewer when the
     * range runs into unmapped memory) or -EFAULT; writes 0 or -errno
     * having written nothing. The debugger's software breakpoints must not
     * be visible (kvmdbg_guest_debug_read_memory hides them). */
    int64_t (*read_memory)(void* opaque, uint32_t cpu, uint64_t addr, void* buf, uint64_t len, int physical);
    int (*write_memory)(void* opaque, uint32_t cpu, uint64_t addr, const void* buf, uint64_t len, int physical);
    /* Mandatory. One breakpoint or watchpoint (enum KvmdbgBreakpointType)
     * for every vCPU; `len` is gdb's kind (instruction length) or the
     * watched length. The stub calls insert once per distinct (type, addr,
     * len) and keeps gdb's duplicates and conditions itself. */
    int (*insert_breakpoint)(void* opaque, uint32_t type, uint64_t addr, uint64_t len);
    int (*remove_breakpoint)(void* opaque, uint32_t type, uint64_t addr, uint64_t len);
    void (*remove_all_breakpoints)(void* opaque);
    /* Mandatory. Lets stopped vCPU `cpu` run (step == 0) or execute one
     * instruction (step == 1, interrupts kept out where the host can).
     * Returns once the vCPU was told; it reports its next stop through
     * kvmdbg_gdbstub_report_stop(). 0 or -errno. */
    int (*resume)(void* opaque, uint32_t cpu, int step);
    /* Mandatory. Stops every vCPU and returns when all are out of the
     * guest (gdb's Ctrl-C, and before a stop is reported). Stopping a vCPU
     * this way is not reported as a stop. */
    void (*stop_all)(void* opaque);
    /* Mandatory. The debugger detached or went away: its breakpoints are
     * already removed; clear any step and let every vCPU run. */
    void (*detach)(void* opaque);
    /* Optional. gdb's `kill`: end the VM (the stub has answered and closed
     * the connection). Without it a kill acts as a detach: breakpoints
     * removed, then detach(). */
    void (*kill)(void* opaque);
    /* Optional. gdb's `monitor CMD`: a malloc()ed reply the stub frees, or
     * NULL for a command the host does not know (then the stub answers:
     * its own `monitor help`, or that the command is unknown). */
    char* (*monitor)(void* opaque, const char* command);
} KvmdbgGdbTarget;

typedef struct KvmdbgGdbStub KvmdbgGdbStub;

/* A stub for `target` (copied; a table shorter than this header's, from a
 * host built against an older one, has its missing optional callbacks
 * NULL). NULL on error, with a message in error[error_size] (error may be
 * NULL): a NULL target, a struct_size short of the mandatory callbacks, an
 * unknown arch, cpus 0, a missing mandatory callback. */
KvmdbgGdbStub* kvmdbg_gdbstub_new(const KvmdbgGdbTarget* target, char* error, size_t error_size);

/* Listens on `endpoint`, in `-gdb`'s syntax: "tcp::PORT" (127.0.0.1 only),
 * "tcp:HOST:PORT", "unix:PATH" (mode 0600, removed at the end), "stdio"
 * (the process's stdin/stdout, made non-blocking; the host must not use
 * them); NULL is "tcp::1234" (`-s`). Starts the stub's thread. One
 * debugger at a time; a second is refused with an error reply; the stub
 * keeps listening after a detach. 0, or -errno with a message in error[]:
 * -EINVAL a NULL stub or a bad endpoint, -EADDRINUSE the address in use or
 * the socket not creatable, -EBUSY listening already (once per stub; a
 * failed listen may be retried). */
int kvmdbg_gdbstub_listen(KvmdbgGdbStub* stub, const char* endpoint, char* error, size_t error_size);

/* The address bound: "tcp 127.0.0.1:1234", "unix PATH", "stdio". Valid
 * until the stub is freed; "" before listen. */
const char* kvmdbg_gdbstub_address(const KvmdbgGdbStub* stub);

/* vCPU `cpu` stopped for the debugger (KvmdbgDebugStop as the guest-debug
 * core fills it: a breakpoint, watchpoint, finished step; NULL is taken for
 * a finished step) and waits for the next resume. Any thread; queued for
 * the stub's thread. Without a debugger attached (also before listen) the
 * stub resumes it at once. A `cpu` out of range is ignored. */
void kvmdbg_gdbstub_report_stop(KvmdbgGdbStub* stub, uint32_t cpu, const KvmdbgDebugStop* stop);

/* The guest ended with `status` (gdb sees "exited with code"; the stub
 * closes that connection and keeps listening). Any thread. */
void kvmdbg_gdbstub_report_exit(KvmdbgGdbStub* stub, int status);

/* Whether a debugger is connected now. Any thread. */
int kvmdbg_gdbstub_attached(const KvmdbgGdbStub* stub);

/* Closes the connection and the listener (a unix socket's file is
 * removed), stops the stub's thread. A debugger still attached is dropped
 * as if it went away (remove_all_breakpoints, detach) and stops still
 * queued are resumed. Not from a target callback, and no report_* call may
 * run during or after it. NULL is ignored. */
void kvmdbg_gdbstub_free(KvmdbgGdbStub* stub);

#ifdef __cplusplus
}
#endif

#endif /* KVMDBG_GDBSTUB_H */
