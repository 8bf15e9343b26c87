// KvmVm: one KVM virtual machine: its fd, memory slots, vCPUs and the ISA
// backend (arch_backend.h) that sets up the irqchip, initialises the vCPUs
// and owns the guest-debug core. The object behind the accel-kvm plugin
// instance.
//
// Documentation/virt/kvm/api.rst: 4.2 KVM_CREATE_VM, 4.35
// KVM_SET_USER_MEMORY_REGION, 4.7 KVM_CREATE_VCPU; the ISA-specific steps
// are cited in the backends.
//
// Threads: created, configured and destroyed on the main thread. pause_all(),
// resume(), kick(), get_state()/set_state() may be called from any non-vCPU
// thread once the vCPUs exist; vCPU threads call host() and guest_bytes().
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "accel/kvm/arch_backend.h"
#include "accel/kvm/guest_debug.h"
#include "accel/kvm/host_debug_probe.h"
#include "accel/kvm/kvm_system.h"
#include "accel/kvm/kvm_vcpu.h"
#include "accel/plugin_abi.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace kvmdbg::accel::kvm {

class KvmVm {
public:
    /// Opens the KVM device, creates the VM for config.arch (ENOTSUP when
    /// this module drives another ISA) and lets the backend set it up.
    /// Errors name the device and the failing step.
    static Result<std::unique_ptr<KvmVm>> create(const KvmdbgVmConfig& config,
                                                 const KvmdbgHostCallbacks& host);
    ~KvmVm();

    Status map_ram(std::uint64_t gpa, std::uint64_t size, void* host, bool read_only);
    Status create_vcpus(std::uint32_t count);
    /// The vCPU's state as the ABI struct of the VM's ISA; `size` must be
    /// backend().state_size() (EINVAL otherwise).
    Status get_state(std::uint32_t cpu, void* out, std::uint32_t size);
    Status set_state(std::uint32_t cpu, const void* in, std::uint32_t size);
    Status set_mp_runnable(std::uint32_t cpu);
    /// Puts an AP back into wait-for-SIPI (machine reset).
    Status wait_for_sipi(std::uint32_t cpu);
    Status start(bool paused);
    Status pause_all();
    Status resume(std::uint32_t cpu, bool single_step);
    Status kick(std::uint32_t cpu);
    Status set_irq_line(std::uint32_t irq, bool level);
    /// The guest-debug core (breakpoints, watchpoints, step, reflection).
    GuestDebug& debug() { return *debug_; }
    /// The vCPU with index `cpu`, or nullptr.
    KvmVcpu* vcpu_at(std::uint32_t cpu) const {
        return cpu < vcpus_.size() ? vcpus_[cpu].get() : nullptr;
    }
    /// What the start-up probe found, and the texts built from it
    /// (enum KvmdbgDebugReport).
    const HostDebugCaps& host_debug_caps() const { return caps_; }
    const std::string& debug_report(std::uint32_t kind) const;

    /// The ISA backend.
    ArchBackend& backend() const { return *backend_; }
    /// The VM fd (VM ioctls are safe from any thread).
    int fd() const { return vm_fd_.get(); }
    /// The open /dev/kvm.
    const KvmSystem& system() const { return system_; }
    /// Whether the machine asked for an in-kernel irqchip.
    bool irqchip() const { return irqchip_; }
    long capability(long cap) const { return system_.check_extension(cap); }
    bool supports_guest_debug() const;

    const KvmdbgHostCallbacks& host() const { return host_; }
    std::uint32_t vcpu_count() const { return static_cast<std::uint32_t>(vcpus_.size()); }
    /// Host view of guest-physical [gpa, gpa+len) if it lies in one slot.
    std::span<std::uint8_t> guest_bytes(std::uint64_t gpa, std::uint64_t len) const;

private:
    struct Slot {
        std::uint64_t gpa;
        std::uint64_t size;
        std::uint8_t* host;
    };

    KvmVm(KvmSystem system, UniqueFd vm_fd, const KvmdbgHostCallbacks& host, bool irqchip,
          std::unique_ptr<ArchBackend> backend);
    Result<KvmVcpu*> vcpu(std::uint32_t cpu);

    KvmSystem system_;
    UniqueFd vm_fd_;
    KvmdbgHostCallbacks host_;
    bool irqchip_;
    std::unique_ptr<ArchBackend> backend_;
    std::vector<Slot> slots_;
    std::vector<std::unique_ptr<KvmVcpu>> vcpus_;
    bool started_ = false;
    std::unique_ptr<GuestDebug> debug_;
    HostDebugCaps caps_{};
    std::string reports_[3];
    mutable std::mutex report_mu_;
    mutable std::string breakpoint_report_;
};

}  // namespace kvmdbg::accel::kvm
