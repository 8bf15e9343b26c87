// GuestDebug: what the KVM module's guest-debug core offers the rest of the
// module, whatever the ISA. The plugin hooks insert_breakpoint /
// remove_breakpoint / remove_all_breakpoints / update_guest_debug, the
// debugger's memory access and single step, and the classification of every
// KVM_EXIT_DEBUG (Documentation/virt/kvm/api.rst "KVM_SET_GUEST_DEBUG",
// "KVM_EXIT_DEBUG") go through this interface; the ISA's ArchBackend
// (arch_backend.h) creates the implementation: one generic core
// (guest_debug_core.h) with the ISA's hooks (guest_debug_isa.h):
//
//   x86_debug_hooks.h    DR0-3/DR7 through USE_HW_BP, int3, RFLAGS.TF steps,
//                        #DB/#BP reflection with KVM_SET_VCPU_EVENTS
//   arm64_debug_hooks.h  dbg_bcr/bvr/wcr/wvr through USE_HW, BRK #0 through
//                        USE_SW_BP, SINGLESTEP with DAIF kept, reflection by
//                        emulating the exception entry to EL1 with ONE_REG
//
// The core keeps one guest-debug value per vCPU and rebuilds struct
// kvm_guest_debug whole from it on every change (docs/design.md
// "Threads"), and steps over the debugger's breakpoint a vCPU sits on
// before a continue.
//
// Threads: the hooks from any non-vCPU thread; on_debug_exit() and
// on_step_completed() on the vCPU's own thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "accel/plugin_abi.h"
#include "common/result.h"

namespace kvmdbg::accel::kvm {

class KvmVcpu;

class GuestDebug {
public:
    virtual ~GuestDebug() = default;

    /// Sizes the per-vCPU state. Main thread, once per vCPU, before start.
    virtual void set_vcpu_count(std::uint32_t count) = 0;

    /// Inserts a breakpoint or watchpoint (enum KvmdbgBreakpointType) for
    /// every vCPU. Errors: ENOTSUP for a combination the ISA lacks, ENOSPC
    /// when no hardware slot is left, EFAULT for an unmapped software
    /// breakpoint address, EINVAL for a bad type or length.
    virtual Status insert(std::uint32_t type, std::uint64_t addr, std::uint64_t len) = 0;
    /// Errors: ENOENT when no such breakpoint exists.
    virtual Status remove(std::uint32_t type, std::uint64_t addr, std::uint64_t len) = 0;
    /// Removes everything and restores guest memory; guest debug is then off.
    virtual Status remove_all() = 0;
    /// Rebuilds and pushes the guest-debug state of `cpu` on its thread.
    virtual Status update(std::uint32_t cpu) = 0;

    /// Work on the vCPU's own thread right before its next KVM_RUN.
    using PreRunJob = std::function<Status(KvmVcpu&)>;

    /// Called by KvmVm::resume before the vCPU runs: arms or disarms the
    /// debugger's single step and sets up the step-over of a breakpoint the
    /// vCPU sits on. Returns the guest-debug push (KVM_SET_GUEST_DEBUG and
    /// what goes with it), which KvmVcpu::resume runs on the vCPU's thread
    /// just before KVM_RUN: no round trip to the vCPU thread per resume.
    /// Also safe on `cpu`'s own thread (a false target-side condition
    /// continues from there): it never waits for that vCPU (run_on_vcpu
    /// runs inline there), and the caller runs the returned job itself
    /// before its next KVM_RUN. x86 decides there, from the vCPU's
    /// registers, whether the continue leaves a hardware breakpoint with
    /// RFLAGS.RF or by a step-over (x86_debug_hooks.h).
    virtual Result<PreRunJob> prepare_resume(std::uint32_t cpu, bool single_step) = 0;

    /// Debugger memory access at a virtual address of `cpu` (its current
    /// translation regime) or physical. Reads show the original bytes under
    /// software breakpoints; writes over one update its saved bytes.
    virtual Status read_memory(std::uint32_t cpu, std::uint64_t addr, std::span<std::uint8_t> out, bool physical) = 0;
    virtual Status write_memory(std::uint32_t cpu, std::uint64_t addr, std::span<const std::uint8_t> in,
                                bool physical) = 0;
    /// The guest-physical address of virtual `addr` in `cpu`'s current
    /// translation regime, RAM or not (device memory too). EFAULT: not mapped.
    virtual Result<std::uint64_t> translate(std::uint32_t cpu, std::uint64_t addr) = 0;

    /// KVM_EXIT_DEBUG on the vCPU's thread: the stop to report (the vCPU then
    /// parks), or nothing when the vCPU goes on (a reflected guest event, a
    /// finished step-over of a continue).
    virtual std::optional<KvmdbgDebugStop> on_debug_exit(KvmVcpu& vcpu) = 0;

    /// Another exit on the vCPU's thread (not KVM_EXIT_DEBUG, I/O or MMIO):
    /// the stop to report when it is the host's way of stopping at one of
    /// the debugger's software breakpoints where the host does not
    /// intercept the breakpoint instruction (GuestDebugIsa::
    /// plants_uncaught_breakpoint); nothing when it is not (the exit is the
    /// ISA backend's business then).
    virtual std::optional<KvmdbgDebugStop> on_uncaught_breakpoint(KvmVcpu& vcpu) = 0;

    /// A single step that ended without a KVM_EXIT_DEBUG (the stepped
    /// instruction was port I/O or MMIO, completed by an immediate-exit
    /// KVM_RUN). Same result as on_debug_exit for a finished step.
    virtual std::optional<KvmdbgDebugStop> on_step_completed(KvmVcpu& vcpu) = 0;

    /// Whether debugger single steps keep interrupts out. Errors: ENOTSUP
    /// to enable it where the host cannot.
    virtual Status set_step_blocks_irq(bool enable) = 0;

    /// Text for `monitor info breakpoints`.
    virtual std::string describe_breakpoints() const = 0;

    /// True while `cpu` runs a debugger (or internal step-over) single step.
    virtual bool stepping(std::uint32_t cpu) const = 0;
};

}  // namespace kvmdbg::accel::kvm
