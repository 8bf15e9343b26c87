/*
 * The accelerator plugin ABI: the only thing that crosses the boundary between
 * the emulator and an accelerator module (`accel-kvm.so`, or a test plugin).
 *
 * Plain C on purpose: no C++ types, no exceptions, no ownership of
 * framework objects cross this line. A module exports exactly one symbol,
 * KVMDBG_ACCEL_ENTRY_SYMBOL, of type KvmdbgAccelEntryFn, returning a pointer
 * to a static, immutable KvmdbgAccelOps whose `abi_version` must equal
 * KVMDBG_ACCEL_ABI_VERSION and whose `struct_size` must be at least
 * sizeof(KvmdbgAccelOps) as the framework was built. The loader
 * (accel/plugin_loader.h) refuses anything else, naming the file.
 *
 * Error convention: every int-returning op returns 0 on success or a negative
 * errno value; after a failure `last_error()` returns a message with context
 * (valid until the next op on the same instance).
 *
 * vCPU state crosses the boundary as a tagged blob: get_cpu_state and
 * set_cpu_state name the layout they mean (`arch`, enum KvmdbgArch) and its
 * size in bytes. This header defines no layout itself, so that it stays
 * independent of every ISA; each ISA's layout is fixed by its own ABI
 * header, which a module or a host includes only for the ISAs it handles:
 *
 *   arch                 header                      struct            bytes
 *   KVMDBG_ARCH_X86_64   accel/plugin_abi_x86.h      KvmdbgX86State      896
 *   KVMDBG_ARCH_ARM64    accel/plugin_abi_arm64.h    KvmdbgArm64State    888
 *
 * Mandatory ops must be non-NULL. Optional ops may be NULL; the framework
 * treats NULL as "not supported" (-ENOSYS).
 *
 *   op                       mandatory  thread that may call it
 *   ------------------------ ---------  ------------------------------------
 *   create, destroy             yes     main thread
 *   last_error                  yes     the thread that got the error
 *   map_ram                     yes     main thread, before start
 *   create_vcpus                yes     main thread, before start
 *   get_cpu_state/set_cpu_state yes     any thread; runs on the vCPU's own
 *                                       thread through its run-on-vCPU queue
 *   set_mp_runnable             yes     main thread, before start
 *   start                       yes     main thread, once
 *   pause_all                   yes     any thread except a vCPU thread
 *   pause_all_keeping_state      no     any thread except a vCPU thread
 *   resume                      yes     any thread except a vCPU thread
 *   kick                        yes     any thread
 *   set_irq_line                 no     any thread (device models)
 *   supports_guest_debug         no     any thread
 *   insert/remove_breakpoint     no     any thread except a vCPU thread
 *   remove_all_breakpoints       no     any thread except a vCPU thread
 *   update_guest_debug           no     any thread except a vCPU thread
 *   capability                   no     any thread
 *   read_memory/write_memory     no     any thread except a vCPU thread
 *                                       (read_memory also inside debug_stop)
 *   translate                    no     as read_memory
 *   set_debug_option             no     any thread except a vCPU thread
 *   wait_for_sipi                no     any thread except a vCPU thread
 *   power_off_vcpu               no     any thread except a vCPU thread
 *   get_irqchip                  no     any thread except a vCPU thread
 *                                       (a local APIC is read on its vCPU's
 *                                       thread through its run-on-vCPU queue)
 *   debug_report                 no     any thread
 */
#ifndef KVMDBG_ACCEL_PLUGIN_ABI_H
#define KVMDBG_ACCEL_PLUGIN_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KVMDBG_ACCEL_ABI_VERSION 12u /* 12: pause_all_keeping_state; 11: translate, get_irqchip */
#define KVMDBG_ACCEL_ENTRY_SYMBOL "kvmdbg_accel_entry"

/* Guest instruction-set architectures a module may implement; also the tag
 * that names a vCPU state layout (see the table at the top). */
enum KvmdbgArch {
    KVMDBG_ARCH_X86_64 = 1,
    KVMDBG_ARCH_ARM64 = 2,
};

/* ------------------------------------------------------------------ events */
enum KvmdbgEventKind {
    KVMDBG_EVENT_SHUTDOWN = 1,       /* triple fault / KVM_EXIT_SHUTDOWN */
    KVMDBG_EVENT_INTERNAL_ERROR = 2, /* KVM_EXIT_INTERNAL_ERROR */
    KVMDBG_EVENT_FAIL_ENTRY = 3,     /* KVM_EXIT_FAIL_ENTRY */
    KVMDBG_EVENT_HALTED = 4,         /* HLT reached userspace (no in-kernel irqchip) */
    KVMDBG_EVENT_RUN_ERROR = 5,      /* KVM_RUN failed with an unexpected errno */
    KVMDBG_EVENT_UNHANDLED_EXIT = 6, /* an exit reason the module does not handle */
    KVMDBG_EVENT_PAUSED = 7,         /* the vCPU parked after pause_all */
    KVMDBG_EVENT_DEBUG = 8,          /* the vCPU stopped for the debugger: see `debug` */
    KVMDBG_EVENT_POWEROFF = 9,       /* the guest powered the machine off (arm64: PSCI SYSTEM_OFF) */
    KVMDBG_EVENT_RESET = 10,         /* the guest asked for a machine reset (arm64: PSCI SYSTEM_RESET) */
};

/* Why a vCPU stopped for the debugger (KVMDBG_EVENT_DEBUG). */
enum KvmdbgStopReason {
    KVMDBG_STOP_STEP = 1,     /* a single step finished */
    KVMDBG_STOP_SW_BREAK = 2, /* a software breakpoint at `addr` */
    KVMDBG_STOP_HW_BREAK = 3, /* a hardware breakpoint at `addr` */
    KVMDBG_STOP_WATCH = 4,    /* a watchpoint on [addr, addr+len) was hit */
    KVMDBG_STOP_DEVICE = 5,   /* the host asked to stop after a device access (pio/mmio returned
                                 KVMDBG_IO_STOP): addr = the port or guest-physical address,
                                 len = the access size, type = KVMDBG_WP_WRITE or KVMDBG_WP_READ;
                                 the accessing instruction has completed */
};

typedef struct KvmdbgDebugStop {
    uint32_t reason; /* enum KvmdbgStopReason */
    uint32_t type;   /* KVMDBG_WP_WRITE/READ/ACCESS for WATCH, the bp type otherwise */
    uint64_t addr;   /* breakpoint address, or watched range start */
    uint64_t len;    /* watched range length (WATCH) */
    uint64_t pc;     /* the vCPU's linear PC at the stop */
} KvmdbgDebugStop;

typedef struct KvmdbgEvent {
    uint32_t kind;               /* enum KvmdbgEventKind */
    uint32_t cpu;                /* vCPU index */
    int32_t error;               /* negative errno for RUN_ERROR, suberror for INTERNAL_ERROR */
    uint32_t interrupts_enabled; /* HALTED: RFLAGS.IF at the HLT */
    const char* message;         /* one or more lines for the user; valid during the call */
    KvmdbgDebugStop debug;       /* KVMDBG_EVENT_DEBUG only */
    /* KVMDBG_EVENT_DEBUG: the vCPU's whole state at the stop, read on its
     * thread as it parks (the layout of the VM's KvmdbgVmConfig.arch, as
     * get_cpu_state returns it; state_size bytes), so the
     * host needs no get_cpu_state round trip for the stop; NULL when the
     * module did not capture it (the KVM module sends it with every
     * debug stop). Valid during the call. */
    const void* state;
    uint32_t state_size;
} KvmdbgEvent;

/* Callbacks the framework gives the module. All are called on vCPU threads,
 * possibly concurrently from several vCPUs; the framework serialises its
 * devices itself. `data` holds `size` bytes (1, 2, 4 or 8); for reads the
 * callback fills it. pio/mmio return KVMDBG_IO_CONTINUE, KVMDBG_IO_PARK
 * when the machine is ending (e.g. a debug-exit write): the vCPU then parks
 * instead of re-entering the guest, or KVMDBG_IO_STOP when the debugger
 * wants to see this access (a device-access catch): the module completes
 * the accessing instruction (a read's value reaches the guest register, the
 * PC moves past it) without running further, then parks the vCPU with a
 * KVMDBG_EVENT_DEBUG event of reason KVMDBG_STOP_DEVICE. A string
 * instruction (`rep outsb`) stops after the accesses KVM reported in that
 * exit: all of them (the PC past the instruction), or, where KVM exits per
 * element, the first (the PC still on the instruction, its count not yet
 * done). */
enum KvmdbgIoResult {
    KVMDBG_IO_CONTINUE = 0,
    KVMDBG_IO_PARK = 1,
    KVMDBG_IO_STOP = 2,
};

/* What debug_stop answers. */
enum KvmdbgStopVerdict {
    KVMDBG_STOP_REPORT = 0, /* park the vCPU and send the KVMDBG_EVENT_DEBUG event */
    KVMDBG_STOP_PASS = 1,   /* not wanted (e.g. a false target-side condition):
                               step over the breakpoint and go on running */
};

typedef struct KvmdbgHostCallbacks {
    void* opaque;
    int (*pio)(void* opaque, uint32_t cpu, uint16_t port, uint8_t* data, uint32_t size, int is_write);
    int (*mmio)(void* opaque, uint32_t cpu, uint64_t gpa, uint8_t* data, uint32_t size, int is_write);
    void (*event)(void* opaque, const KvmdbgEvent* event);
    /* Optional (NULL: every stop is reported). A debugger breakpoint stop
     * (KVMDBG_STOP_SW_BREAK or KVMDBG_STOP_HW_BREAK) of vCPU `cpu` that was
     * continuing (not stepping), asked on that vCPU's own thread before it parks, so that the host can drop a
     * stop nobody wants without any thread hand-off: it returns enum
     * KvmdbgStopVerdict. During the call the host may use get_cpu_state and
     * read_memory for this `cpu` (they run inline on its thread) and
     * nothing else of the module. */
    int (*debug_stop)(void* opaque, uint32_t cpu, const KvmdbgDebugStop* stop);
} KvmdbgHostCallbacks;

typedef struct KvmdbgVmConfig {
    uint32_t arch;           /* enum KvmdbgArch */
    uint32_t kernel_irqchip; /* 1: in-kernel irqchip (x86: PIC/IOAPIC/LAPIC/PIT; arm64: GICv3);
                                 0: none (x86: HLT exits) */
    const char* device_path; /* "/dev/kvm" unless overridden (tests) */
    /* arm64 with kernel_irqchip: where the machine puts the GICv3
     * distributor and redistributor frames (guest-physical), and the number
     * of INTIDs (32 private + SPIs, a multiple of 32; 0 = KVM's default).
     * Ignored on x86. */
    uint64_t gic_dist_base;
    uint64_t gic_redist_base;
    uint32_t gic_nr_irqs;
    uint32_t reserved0;
} KvmdbgVmConfig;

/* Breakpoint types of insert_breakpoint, numbered as gdb's Z packets. */
enum KvmdbgBreakpointType {
    KVMDBG_BP_SOFTWARE = 0,
    KVMDBG_BP_HARDWARE = 1,
    KVMDBG_WP_WRITE = 2,
    KVMDBG_WP_READ = 3,
    KVMDBG_WP_ACCESS = 4,
};

/* How resume() lets a vCPU go. */
enum KvmdbgResumeMode {
    KVMDBG_RESUME_RUN = 0,
    KVMDBG_RESUME_STEP = 1,
};

/* Options of set_debug_option. */
enum KvmdbgDebugOption {
    /* 1 (default where the host offers KVM_GUESTDBG_BLOCKIRQ): a debugger
     * single step executes with interrupts blocked; 0: interrupts may be
     * taken during the step (QEMU's `sstep` IRQ flag). */
    KVMDBG_OPT_STEP_BLOCK_IRQ = 1,
    /* Microseconds a vCPU parked for the debugger busy-polls for its next
     * request (a resume or a state read) before it sleeps; 0 (default):
     * it sleeps at once. Waking a sleeping thread on an idle CPU costs
     * tens of us on nested hosts; busy-polling costs CPU time. */
    KVMDBG_OPT_PARK_SPIN_US = 2,
};

/* Reports of debug_report. */
enum KvmdbgDebugReport {
    KVMDBG_REPORT_SUMMARY = 0,     /* one line: the start-up probe's answers */
    KVMDBG_REPORT_DETAILS = 1,     /* several lines: every capability and probe */
    KVMDBG_REPORT_ADAPTATION = 2,  /* one line to print at start-up, or "" */
    KVMDBG_REPORT_BREAKPOINTS = 3, /* the debugger's breakpoints and every vCPU's debug slots, now */
};

/* Flags of read_memory/write_memory. */
#define KVMDBG_MEM_PHYS 1u

typedef struct KvmdbgAccel KvmdbgAccel; /* opaque module instance */

typedef struct KvmdbgAccelOps {
    uint32_t abi_version; /* KVMDBG_ACCEL_ABI_VERSION */
    uint32_t struct_size; /* sizeof(KvmdbgAccelOps) as the module was built */
    const char* name;     /* "kvm" */

    /* -------- mandatory -------- */
    /* Creates a VM. On failure returns NULL and writes a message to err.
     * `config`, `config->device_path` and `callbacks` are valid only during
     * the call: the module copies what it keeps (the callbacks' `opaque`
     * must stay valid until destroy). */
    KvmdbgAccel* (*create)(const KvmdbgVmConfig* config, const KvmdbgHostCallbacks* callbacks, char* err,
                           size_t err_size);
    /* Stops and joins every vCPU thread, closes every fd. NULL is allowed. */
    void (*destroy)(KvmdbgAccel* accel);
    const char* (*last_error)(KvmdbgAccel* accel);
    /* Maps `size` bytes of host memory at guest-physical `gpa` (page aligned).
     * The framework keeps ownership and keeps the memory alive. */
    int (*map_ram)(KvmdbgAccel* accel, uint64_t gpa, uint64_t size, void* host, int read_only);
    int (*create_vcpus)(KvmdbgAccel* accel, uint32_t count);
    /* State of one vCPU as a tagged blob: `arch` names the layout (it must
     * be the VM's KvmdbgVmConfig.arch) and `size` must be that layout's
     * size (KVMDBG_X86_64_STATE_SIZE, KVMDBG_ARM64_STATE_SIZE); anything
     * else is -EINVAL and leaves the buffer and the vCPU unchanged. */
    int (*get_cpu_state)(KvmdbgAccel* accel, uint32_t cpu, uint32_t arch, void* state, uint32_t size);
    int (*set_cpu_state)(KvmdbgAccel* accel, uint32_t cpu, uint32_t arch, const void* state, uint32_t size);
    /* Marks an AP runnable at start instead of waiting for INIT/SIPI (direct
     * ELF boot of every vCPU). x86: no effect without an in-kernel irqchip.
     * arm64: APs start powered off (waiting for PSCI CPU_ON), and every
     * vCPU after power_off_vcpu; this powers one on at the state set with
     * set_cpu_state. */
    int (*set_mp_runnable)(KvmdbgAccel* accel, uint32_t cpu);
    /* Spawns one thread per vCPU. paused=1: no vCPU runs until resume(). */
    int (*start)(KvmdbgAccel* accel, int paused);
    /* Stops every vCPU and returns once all of them are parked. */
    int (*pause_all)(KvmdbgAccel* accel);
    /* Lets a parked vCPU run (or step once, then park and report). */
    int (*resume)(KvmdbgAccel* accel, uint32_t cpu, uint32_t mode);
    /* Forces the vCPU out of KVM_RUN (signal + immediate_exit). */
    int (*kick)(KvmdbgAccel* accel, uint32_t cpu);

    /* -------- optional (NULL = not supported) -------- */
    /* x86: `irq` is a GSI of the in-kernel PIC/IOAPIC. arm64: `irq` is an
     * SPI number (INTID 32 + irq, as a device tree's GIC_SPI cell). */
    int (*set_irq_line)(KvmdbgAccel* accel, uint32_t irq, int level);
    /* 1 if the host can debug guests (KVM_CAP_SET_GUEST_DEBUG), else 0. */
    int (*supports_guest_debug)(KvmdbgAccel* accel);
    int (*insert_breakpoint)(KvmdbgAccel* accel, uint32_t type, uint64_t addr, uint64_t len);
    int (*remove_breakpoint)(KvmdbgAccel* accel, uint32_t type, uint64_t addr, uint64_t len);
    int (*remove_all_breakpoints)(KvmdbgAccel* accel);
    /* Rebuilds and pushes the guest-debug state of `cpu` on its own thread. */
    int (*update_guest_debug)(KvmdbgAccel* accel, uint32_t cpu);
    /* Value of a host capability (KVM_CHECK_EXTENSION number), or negative errno. */
    long (*capability)(KvmdbgAccel* accel, long cap);
    /* Debugger access to guest memory at a virtual address of `cpu` (its
     * current paging), or physical with KVMDBG_MEM_PHYS. Reads show the
     * original bytes under software breakpoints; writes over a breakpoint
     * update its saved bytes. -EFAULT for an unmapped address. */
    int (*read_memory)(KvmdbgAccel* accel, uint32_t cpu, uint64_t addr, void* buf, uint64_t len, uint32_t flags);
    int (*write_memory)(KvmdbgAccel* accel, uint32_t cpu, uint64_t addr, const void* buf, uint64_t len, uint32_t flags);
    /* Sets a guest-debug option (enum KvmdbgDebugOption); -EINVAL if unknown,
     * -ENOTSUP if the host cannot do it. */
    int (*set_debug_option)(KvmdbgAccel* accel, uint32_t option, uint64_t value);
    /* Text about the host's debug abilities or the debug state (enum
     * KvmdbgDebugReport). SUMMARY/DETAILS/ADAPTATION stay valid as long as
     * the instance; BREAKPOINTS until the next debug_report call. */
    const char* (*debug_report)(KvmdbgAccel* accel, uint32_t kind);
    /* Machine reset of an x86 AP: it waits for INIT/SIPI again (in-kernel
     * LAPIC: KVM_MP_STATE_INIT_RECEIVED; no effect without an in-kernel
     * irqchip). -ENOTSUP on an ISA without INIT/SIPI (arm64). */
    int (*wait_for_sipi)(KvmdbgAccel* accel, uint32_t cpu);
    /* Machine reset of a vCPU on an ISA whose CPUs the firmware powers
     * (arm64, PSCI): the vCPU returns to its architectural reset values and
     * is powered off, until the guest starts it (PSCI CPU_ON) or the host
     * calls set_mp_runnable. -ENOTSUP on an ISA without it (x86: use
     * wait_for_sipi). */
    int (*power_off_vcpu)(KvmdbgAccel* accel, uint32_t cpu);
    /* The guest-physical address of virtual `addr` in `cpu`'s current
     * translation regime, whether RAM, ROM or device memory backs it (the
     * host uses it to tell a debugger's watchpoint on device memory from
     * one on RAM). -EFAULT if the paging does not map it. Same threads as
     * read_memory. */
    int (*translate)(KvmdbgAccel* accel, uint32_t cpu, uint64_t addr, uint64_t* gpa);
    /* The state of one in-kernel interrupt controller, copied into `buf`:
     * `chip` is a number of the VM's ISA (x86-64: enum KvmdbgX86Irqchip in
     * accel/plugin_abi_x86.h, which fixes each chip's layout and size),
     * `cpu` the vCPU whose controller is meant for a per-vCPU chip (the
     * x86 local APIC; ignored otherwise). `size` must be the chip's size.
     * -EINVAL for an unknown chip or vCPU or a wrong size (buf untouched),
     * -ENOTSUP when the VM has no in-kernel irqchip or the ABI defines no
     * chips for its ISA (arm64). */
    int (*get_irqchip)(KvmdbgAccel* accel, uint32_t chip, uint32_t cpu, void* buf, uint64_t size);
    /* pause_all, and vCPU `cpu`, if it was running, reads its state on its
     * own thread as it parks, so that the get_cpu_state which follows (a
     * debugger's stop reply) is answered without a round trip to that
     * thread. -EINVAL for an unknown vCPU (nothing paused). */
    int (*pause_all_keeping_state)(KvmdbgAccel* accel, uint32_t cpu);
} KvmdbgAccelOps;

typedef const KvmdbgAccelOps* (*KvmdbgAccelEntryFn)(void);

#ifdef __cplusplus
}
#endif

#endif /* KVMDBG_ACCEL_PLUGIN_ABI_H */
