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
//
// The state cache. Every read of guest memory by virtual address needs the
// vCPU's paging state, and a get_state() that asks the vCPU's thread costs
// a cross-thread wake-up plus 5 ioctls (x86; one ONE_REG each on arm64),
// tens of microseconds on a nested host, per gdb `m`/`x` packet. So each
// vCPU has a copy of its last state, under these rules:
//
//   filled by   get_state() of a PARKED vCPU (KvmVcpu::parked(): parked
//               with no resume pending, checked before the read), or
//               remember_state() from the vCPU's own thread as it parks
//   served      only while the vCPU is still parked: a running vCPU is
//               always read from KVM (on its thread)
//   dropped     resume(), start(), set_state(), set_mp_runnable(),
//               wait_for_sipi(), power_off_vcpu(), create_vcpus(): each
//               bumps the vCPU's epoch before AND after it acts, so a read
//               that raced with it is never stored (a fill stores only if
//               the epoch it saw before its read is still current)
//
// Whatever else changes a parked vCPU's registers must go through one of
// those (or call forget_state()): the guest-debug core only pushes
// KVM_SET_GUEST_DEBUG to a parked vCPU, which leaves the registers that
// get_state() returns as they are (x86: the kernel keeps the debugger's
// debug registers apart from the guest's that KVM_GET_DEBUGREGS returns,
// and hides the TF it sets for a step from KVM_GET_REGS; arm64: they are
// switched in only around KVM_RUN). The
// cache's lock is taken before a vCPU's lock (parked()), never the other
// way round: remember_state() must not be called with the vCPU's lock held.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
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
    static Result<std::unique_ptr<KvmVm>> create(const KvmdbgVmConfig& config, const KvmdbgHostCallbacks& host);
    ~KvmVm();

    /// A VM another program created and runs (the SDK's guest-debug core,
    /// sdk/guest_debug.h): `vm_fd` is duplicated (the caller keeps its
    /// own), nothing is set up in it, and its vCPUs (adopt_vcpu) have no
    /// thread here: the program's own vCPU threads call the guest-debug
    /// core around their KVM_RUN, and every other call runs its vCPU
    /// ioctls on the calling thread (KvmVcpu::run_on_host_thread). Runs
    /// the start-up probe. Errors: a bad fd, ENOTSUP for another ISA.
    static Result<std::unique_ptr<KvmVm>> adopt(int vm_fd, KvmdbgArch arch, const std::string& device_path);
    /// Whether this VM was adopted (above).
    bool host_owned() const { return host_owned_; }
    /// Adopted VMs: RAM the program mapped itself, recorded for the
    /// debugger's memory access. EINVAL for an overlap.
    Status adopt_ram(std::uint64_t gpa, std::uint64_t size, void* host);
    /// Adopted VMs: the program's vCPU `cpu` (the next index) as `vcpu_fd`
    /// (duplicated; its kvm_run page mapped again).
    Status adopt_vcpu(std::uint32_t cpu, int vcpu_fd);

    Status map_ram(std::uint64_t gpa, std::uint64_t size, void* host, bool read_only);
    Status create_vcpus(std::uint32_t count);
    /// The vCPU's state as the ABI struct of the VM's ISA; `size` must be
    /// backend().state_size() (EINVAL otherwise). From the state cache
    /// (above) when the vCPU is parked and its state was read since it last
    /// ran; otherwise read on the vCPU's thread (and cached if it is parked).
    Status get_state(std::uint32_t cpu, void* out, std::uint32_t size);
    /// vCPU `cpu`'s own thread, as it parks with its state already read
    /// (backend().state_size() bytes at `state`, read after any pending I/O
    /// was completed): get_state() serves it until the vCPU runs again.
    /// Ignored unless the vCPU is parked (parked()) when it is called, so
    /// call it after the vCPU marked itself parked and before the host
    /// hears of the stop, without holding the vCPU's lock. With `epoch`
    /// (state_epoch() taken before the read), also ignored when the state
    /// was dropped since.
    void remember_state(std::uint32_t cpu, const void* state, std::optional<std::uint64_t> epoch = std::nullopt);
    /// vCPU `cpu`'s cache epoch (bumped by every drop of its state). Any
    /// thread not holding the vCPU's lock.
    std::uint64_t state_epoch(std::uint32_t cpu) const;
    /// Drops vCPU `cpu`'s cached state (for a change of its registers that
    /// does not go through this class). Any thread.
    void forget_state(std::uint32_t cpu);
    /// How many times get_state() read vCPU `cpu`'s state from KVM rather
    /// than from the cache (tests, diagnostics).
    std::uint64_t state_loads(std::uint32_t cpu) const;
    Status set_state(std::uint32_t cpu, const void* in, std::uint32_t size);
    Status set_mp_runnable(std::uint32_t cpu);
    /// Puts an AP back into wait-for-SIPI (x86 machine reset).
    Status wait_for_sipi(std::uint32_t cpu);
    /// Resets a vCPU and powers it off (arm64 machine reset).
    Status power_off_vcpu(std::uint32_t cpu);
    Status start(bool paused);
    /// Parks every vCPU. `keep_state_of`: that vCPU, if it was running,
    /// leaves its state in the cache as it parks (the stop reply that
    /// follows reads it without a round trip to its thread).
    Status pause_all(std::optional<std::uint32_t> keep_state_of = std::nullopt);
    Status resume(std::uint32_t cpu, bool single_step);
    Status kick(std::uint32_t cpu);
    Status set_irq_line(std::uint32_t irq, bool level);
    /// The ABI's get_irqchip: ENOTSUP without an in-kernel irqchip, else
    /// the backend's answer. Any thread but a vCPU's.
    Status get_irqchip(std::uint32_t chip, std::uint32_t cpu, void* out, std::uint64_t size);
    /// How long a vCPU parked for the debugger busy-polls before it sleeps
    /// (KVMDBG_OPT_PARK_SPIN_US), for every vCPU. Any thread.
    void set_park_spin(std::chrono::microseconds budget);
    /// The guest-debug core (breakpoints, watchpoints, step, reflection).
    GuestDebug& debug() { return *debug_; }
    /// The vCPU with index `cpu`, or nullptr.
    KvmVcpu* vcpu_at(std::uint32_t cpu) const { return cpu < vcpus_.size() ? vcpus_[cpu].get() : nullptr; }
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

    // One vCPU's cached state (see "The state cache" above). cache_mu_.
    struct StateCache {
        std::uint64_t epoch = 0;  // bumped by every invalidation
        bool valid = false;
        std::uint64_t loads = 0;  // reads from KVM by get_state()
        std::vector<std::uint8_t> state;
    };

    KvmVm(KvmSystem system, UniqueFd vm_fd, const KvmdbgHostCallbacks& host, bool irqchip,
          std::unique_ptr<ArchBackend> backend);
    /// The start-up probe, the report texts and the guest-debug core.
    Status init_guest_debug();
    Result<KvmVcpu*> vcpu(std::uint32_t cpu);
    /// Runs `job` (which changes the vCPU's registers) on vCPU `cpu`'s
    /// thread, dropping its cached state before and after.
    Status changing_state(std::uint32_t cpu, const KvmVcpu::Job& job);

    KvmSystem system_;
    UniqueFd vm_fd_;
    KvmdbgHostCallbacks host_;
    bool irqchip_;
    std::unique_ptr<ArchBackend> backend_;
    std::vector<Slot> slots_;
    std::vector<std::unique_ptr<KvmVcpu>> vcpus_;
    bool started_ = false;
    bool host_owned_ = false;  // adopt()
    std::unique_ptr<GuestDebug> debug_;
    HostDebugCaps caps_{};
    std::string reports_[3];
    mutable std::mutex report_mu_;
    mutable std::mutex cache_mu_;    // taken before any vCPU's lock
    std::vector<StateCache> cache_;  // one per vCPU
    mutable std::string breakpoint_report_;
};

}  // namespace kvmdbg::accel::kvm
