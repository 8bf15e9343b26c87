// ArchBackend: everything the KVM module does differently per host ISA,
// behind one interface so that the VM, the vCPU threads and the run loop
// (kvm_vm.h, kvm_vcpu.h) stay ISA-neutral.
//
//   step              x86 (x86_backend.cc)               arm64 (arm64_backend.cc)
//   ----------------  ---------------------------------  ------------------------------------------
//   setup_vm          KVM_SET_TSS_ADDR, identity map,    nothing (the GIC needs the vCPUs)
//                     KVM_CREATE_IRQCHIP + PIT2
//   init_vcpu         KVM_SET_CPUID2 (own APIC ID)       KVM_ARM_VCPU_INIT: preferred target,
//                                                        PSCI 0.2, APs powered off
//   vcpus_created     nothing                            GICv3: KVM_CREATE_DEVICE, DIST/REDIST
//                                                        addresses, KVM_DEV_ARM_VGIC_CTRL_INIT
//   state             KVM_GET/SET_REGS, SREGS, FPU,      KVM_GET/SET_ONE_REG: core, FP/SIMD,
//                     DEBUGREGS, MSRS -> KvmdbgX86State  EL1 system registers -> KvmdbgArm64State
//                     (accel/plugin_abi_x86.h)           (accel/plugin_abi_arm64.h)
//   machine reset     wait_for_sipi: KVM_SET_MP_STATE    power_off_vcpu: KVM_ARM_VCPU_INIT with
//                     INIT_RECEIVED                      KVM_ARM_VCPU_POWER_OFF
//   set_irq_line      KVM_IRQ_LINE, GSI number           KVM_IRQ_LINE, SPI encoding
//   get_irqchip       KVM_GET_IRQCHIP (PICs, IOAPIC),    ENOTSUP (the ABI defines no GIC layout)
//                     KVM_GET_LAPIC (x86_irqchip.h)
//   other exits       SHUTDOWN (triple fault),           SYSTEM_EVENT: PSCI SYSTEM_OFF ->
//                     INTERNAL_ERROR (+ hint-NOP         POWEROFF event, SYSTEM_RESET -> RESET
//                     completion), FAIL_ENTRY            event
//   guest debug       GuestDebugCore + X86DebugHooks     GuestDebugCore + Arm64DebugHooks
//   start-up probe    tiny VMs (host_debug_probe.h)      capabilities HW_BPS/HW_WPS, GUEST_DEBUG2
//
// Documentation/virt/kvm/api.rst sections are cited where each is done.
// Threads: setup_vm/vcpus_created/make_guest_debug on the main thread;
// init_vcpu, load_state, store_state, handle_exit on the vCPU's own thread
// (inside a KvmVcpu job or the run loop); set_irq_line from any thread,
// get_irqchip from any thread but a vCPU's.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "accel/kvm/guest_debug.h"
#include "accel/kvm/host_debug_probe.h"
#include "accel/kvm/kvm_system.h"
#include "accel/plugin_abi.h"
#include "common/result.h"

namespace kvmdbg::accel::kvm {

class KvmVm;
class KvmVcpu;

/// What to do after an exit the ISA backend handled: keep running, or park
/// the vCPU and report `kind` (enum KvmdbgEventKind) with `message`.
struct ArchExitOutcome {
    bool keep_running = false;
    std::uint32_t kind = KVMDBG_EVENT_UNHANDLED_EXIT;
    int error = 0;
    std::string message;
};

/// The three fixed texts of debug_report (SUMMARY, DETAILS, ADAPTATION).
using DebugReportTexts = std::array<std::string, 3>;

class ArchBackend {
public:
    virtual ~ArchBackend() = default;

    /// KVMDBG_ARCH_* this backend drives.
    virtual KvmdbgArch arch() const = 0;
    /// Size of the plugin-ABI state blob of arch() (KVMDBG_X86_64_STATE_SIZE,
    /// KVMDBG_ARM64_STATE_SIZE).
    virtual std::uint32_t state_size() const = 0;
    /// KVM_CREATE_VM's type argument (arm64: the IPA size; 0 = default).
    virtual unsigned long vm_type(const KvmSystem& system) const = 0;

    /// After KVM_CREATE_VM, before memory and vCPUs.
    virtual Status setup_vm(KvmVm& vm) = 0;
    /// On the new vCPU's thread, right after KVM_CREATE_VCPU.
    virtual Status init_vcpu(KvmVm& vm, KvmVcpu& vcpu) = 0;
    /// Once every vCPU exists and is initialised.
    virtual Status vcpus_created(KvmVm& vm) = 0;

    /// The vCPU's whole state in the plugin-ABI layout of arch()
    /// (state_size() bytes; the caller checked the size).
    virtual Status load_state(KvmVcpu& vcpu, void* out) = 0;
    virtual Status store_state(KvmVcpu& vcpu, const void* in) = 0;

    /// Marks an AP runnable at start (x86 without INIT/SIPI; arm64: powered
    /// on at its boot state instead of waiting for PSCI CPU_ON).
    virtual Status set_mp_runnable(KvmVm& vm, KvmVcpu& vcpu) = 0;
    /// x86 machine reset of an AP: it waits for INIT/SIPI again. ENOTSUP on
    /// an ISA without INIT/SIPI.
    virtual Status wait_for_sipi(KvmVm& vm, KvmVcpu& vcpu) = 0;
    /// arm64 machine reset of any vCPU: reset values, powered off until PSCI
    /// CPU_ON or set_mp_runnable. ENOTSUP on an ISA whose CPUs the machine
    /// does not power (x86).
    virtual Status power_off_vcpu(KvmVm& vm, KvmVcpu& vcpu) = 0;

    /// Drives interrupt line `irq` of the machine's interrupt controller.
    virtual Status set_irq_line(KvmVm& vm, std::uint32_t irq, bool level) = 0;
    /// Copies the state of in-kernel interrupt controller `chip` (the ABI's
    /// get_irqchip: a chip number of arch(), `cpu` for a per-vCPU chip) into
    /// `out`, `size` bytes. The VM has an in-kernel irqchip (KvmVm checked).
    /// Errors: EINVAL for an unknown chip or vCPU or a wrong size, ENOTSUP
    /// on an ISA whose chips the ABI does not define.
    virtual Status get_irqchip(KvmVm& vm, std::uint32_t chip, std::uint32_t cpu, void* out, std::uint64_t size) = 0;

    /// An exit the generic loop does not handle (it handles IO, MMIO, INTR,
    /// DEBUG and HLT). On the vCPU's thread.
    virtual ArchExitOutcome handle_exit(KvmVcpu& vcpu) = 0;

    /// The start-up probe: what this host's KVM does for a debugger.
    virtual Result<HostDebugCaps> probe_debug(const KvmSystem& system) = 0;
    /// SUMMARY, DETAILS and ADAPTATION texts for `caps`.
    virtual DebugReportTexts debug_reports(const HostDebugCaps& caps) const = 0;
    /// The guest-debug core for this ISA (may enable VM capabilities).
    virtual Result<std::unique_ptr<GuestDebug>> make_guest_debug(KvmVm& vm, const HostDebugCaps& caps) = 0;
};

/// The backend for `config.arch` when this module was built for a host of that
/// ISA. Errors: ENOTSUP naming the ISA the module drives.
Result<std::unique_ptr<ArchBackend>> make_arch_backend(const KvmdbgVmConfig& config);

}  // namespace kvmdbg::accel::kvm
