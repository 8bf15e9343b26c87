// Accelerator: the framework-facing C++ interface to an accelerator
// instance (a VM), built on an AccelPlugin's C ops table.
//
// Mandatory operations (every accelerator has them):
//   create a VM (create()), map guest RAM, create vCPUs, get/set a vCPU's
//   state, mark APs runnable, start, pause every vCPU, resume one (run or
//   step), kick one.
// vCPU state: get_state/set_state carry it as a blob in the layout of the
// VM's ISA (state_size() bytes; accel/plugin_abi_x86.h,
// accel/plugin_abi_arm64.h), which the ISA descriptor of system/ interprets.
// The typed helpers (get/set_x86_state, get/set_arm64_state) are for callers
// that already know their ISA, e.g. the machine that builds a boot state; on
// a VM of another ISA they fail with EINVAL from the plugin.
// Optional operations (a plugin may leave them NULL; they then fail with
// ENOSYS and a message naming the accelerator):
//   set_irq_line, the guest-debug hooks supports_guest_debug,
//   insert_breakpoint(type, addr, len), remove_breakpoint,
//   remove_all_breakpoints, update_guest_debug, capability(), the
//   debugger's read_memory/write_memory, the machine-reset ops
//   wait_for_sipi (x86) and power_off_vcpu (arm64), and get_irqchip (the
//   in-kernel interrupt controllers' state; typed x86 helpers beside it).
//   pause_all_keeping_state is optional too, but falls back to pause_all.
//
// Threads: see the table in accel/plugin_abi.h. Errors come back as Status
// with the plugin's own message. The AccelHost receives the plugin's
// callbacks on vCPU threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "accel/plugin_abi.h"
#include "accel/plugin_abi_arm64.h"
#include "accel/plugin_abi_x86.h"
#include "accel/plugin_loader.h"
#include "common/result.h"

namespace kvmdbg::accel {

/// What the machine offers the accelerator. Called on vCPU threads.
class AccelHost {
public:
    virtual ~AccelHost() = default;
    /// One port access: KVMDBG_IO_CONTINUE, KVMDBG_IO_PARK (machine ending)
    /// or KVMDBG_IO_STOP (stop for the debugger once it completed).
    virtual KvmdbgIoResult pio(std::uint32_t cpu, std::uint16_t port, std::uint8_t* data, std::uint32_t size,
                               bool is_write) = 0;
    /// One MMIO access, answered as pio().
    virtual KvmdbgIoResult mmio(std::uint32_t cpu, std::uint64_t gpa, std::uint8_t* data, std::uint32_t size,
                                bool is_write) = 0;
    /// A vCPU stopped for a reason the framework must handle.
    virtual void event(const KvmdbgEvent& event) = 0;
    /// A debugger breakpoint stop of `cpu`, asked on that vCPU's thread
    /// before it parks (KvmdbgHostCallbacks.debug_stop): false lets the
    /// vCPU step over the breakpoint and run on, with no event. The host
    /// may read this vCPU's state and memory through the Accelerator
    /// meanwhile (inline on its thread). Default: every stop is wanted.
    virtual bool wants_stop(std::uint32_t cpu, const KvmdbgDebugStop& stop) {
        (void)cpu;
        (void)stop;
        return true;
    }
};

struct AccelConfig {
    KvmdbgArch arch = KVMDBG_ARCH_X86_64;
    bool kernel_irqchip = true;
    std::string device_path = "/dev/kvm";
    /// arm64 with kernel_irqchip: GICv3 frames and INTID count (plugin_abi.h).
    std::uint64_t gic_dist_base = 0;
    std::uint64_t gic_redist_base = 0;
    std::uint32_t gic_nr_irqs = 0;
};

/// The ISA of the machine kvmdbg was built for (KVM runs guests of the host's ISA only).
constexpr KvmdbgArch host_arch() {
#if defined(__aarch64__)
    return KVMDBG_ARCH_ARM64;
#else
    return KVMDBG_ARCH_X86_64;
#endif
}

/// Bytes of the plugin-ABI state blob of `arch` (KVMDBG_X86_64_STATE_SIZE,
/// KVMDBG_ARM64_STATE_SIZE); 0 for an ISA the ABI has no layout for. Any thread.
std::uint32_t cpu_state_size(KvmdbgArch arch);

class Accelerator {
public:
    /// Creates a VM through `plugin`. `host` must outlive the Accelerator.
    static Result<std::unique_ptr<Accelerator>> create(AccelPlugin plugin, const AccelConfig& config, AccelHost& host);
    /// Destroys the VM: stops and joins every vCPU thread.
    ~Accelerator();
    Accelerator(const Accelerator&) = delete;
    Accelerator& operator=(const Accelerator&) = delete;

    const std::string& plugin_path() const { return plugin_.path; }
    const char* name() const { return plugin_.ops->name; }
    /// The VM's ISA (AccelConfig.arch), which names its state layout.
    KvmdbgArch arch() const { return arch_; }
    /// Bytes of this VM's state blob: cpu_state_size(arch()).
    std::uint32_t state_size() const { return cpu_state_size(arch_); }

    // ---- mandatory
    Status map_ram(std::uint64_t gpa, std::uint64_t size, void* host, bool read_only);
    Status create_vcpus(std::uint32_t count);
    /// vCPU `cpu`'s state in the VM's layout (state_size() bytes). Any
    /// thread (the plugin runs it on the vCPU's thread). Errors: EINVAL for
    /// an unknown vCPU, the plugin's error otherwise.
    Result<std::vector<std::uint8_t>> get_state(std::uint32_t cpu);
    /// Sets vCPU `cpu`'s whole state. Errors: EINVAL when `state` is not
    /// state_size() bytes or the vCPU is unknown (nothing changed).
    Status set_state(std::uint32_t cpu, std::span<const std::uint8_t> state);
    /// Typed helpers for callers that know their ISA (see above).
    Result<KvmdbgX86State> get_x86_state(std::uint32_t cpu);
    Status set_x86_state(std::uint32_t cpu, const KvmdbgX86State& state);
    Result<KvmdbgArm64State> get_arm64_state(std::uint32_t cpu);
    Status set_arm64_state(std::uint32_t cpu, const KvmdbgArm64State& state);
    Status set_mp_runnable(std::uint32_t cpu);
    Status start(bool paused);
    Status pause_all();
    /// pause_all; vCPU `cpu` keeps its state at hand for the read that
    /// follows (the optional op; plain pause_all where the module lacks it).
    Status pause_all_keeping_state(std::uint32_t cpu);
    Status resume(std::uint32_t cpu, KvmdbgResumeMode mode);
    Status kick(std::uint32_t cpu);

    // ---- optional
    Status set_irq_line(std::uint32_t irq, bool level);
    /// True when the host can debug guests (KVM: KVM_CAP_SET_GUEST_DEBUG).
    bool supports_guest_debug();
    Status insert_breakpoint(KvmdbgBreakpointType type, std::uint64_t addr, std::uint64_t len);
    Status remove_breakpoint(KvmdbgBreakpointType type, std::uint64_t addr, std::uint64_t len);
    Status remove_all_breakpoints();
    Status update_guest_debug(std::uint32_t cpu);
    /// Value of a host capability; ENOSYS if the plugin cannot say.
    Result<long> capability(long cap);
    /// Debugger memory access (virtual through `cpu`'s paging, or physical).
    Status read_memory(std::uint32_t cpu, std::uint64_t addr, std::span<std::uint8_t> out, bool physical);
    Status write_memory(std::uint32_t cpu, std::uint64_t addr, std::span<const std::uint8_t> in, bool physical);
    /// The guest-physical address of virtual `addr` for `cpu` (RAM or not).
    Result<std::uint64_t> translate(std::uint32_t cpu, std::uint64_t addr);
    /// Sets a guest-debug option (KvmdbgDebugOption).
    Status set_debug_option(KvmdbgDebugOption option, std::uint64_t value);
    /// The accelerator's text about the host's debug abilities; "" if the
    /// plugin has none.
    std::string debug_report(KvmdbgDebugReport kind);
    /// x86 machine reset: the AP waits for INIT/SIPI again. ENOTSUP on an
    /// ISA without INIT/SIPI.
    Status wait_for_sipi(std::uint32_t cpu);
    /// arm64 machine reset: the vCPU returns to its reset values, powered
    /// off until PSCI CPU_ON or set_mp_runnable. ENOTSUP on x86.
    Status power_off_vcpu(std::uint32_t cpu);
    /// The state of in-kernel interrupt controller `chip` (a number of the
    /// VM's ISA; x86: KvmdbgX86Irqchip) into `out`, which must be that
    /// chip's size; `cpu` names the vCPU of a per-vCPU chip (x86 local
    /// APIC). Not on a vCPU thread. Errors: ENOTSUP without an in-kernel
    /// irqchip or on an ISA without chips in the ABI, EINVAL for an unknown
    /// chip or vCPU or a wrong size, ENOSYS when the plugin lacks the op.
    Status get_irqchip(std::uint32_t chip, std::uint32_t cpu, std::span<std::uint8_t> out);
    /// Typed x86 helpers: one 8259A (`slave` false: the master), the
    /// IOAPIC, vCPU `cpu`'s local APIC. Errors as get_irqchip's (a VM of
    /// another ISA: ENOTSUP from accel-kvm).
    Result<KvmdbgX86PicState> get_x86_pic(bool slave);
    Result<KvmdbgX86IoapicState> get_x86_ioapic();
    Result<KvmdbgX86LapicState> get_x86_lapic(std::uint32_t cpu);

private:
    Accelerator(AccelPlugin plugin, KvmdbgAccel* instance, KvmdbgArch arch);
    Status check(int rc, const char* op);
    /// get/set_cpu_state with the layout tag `layout` and `size` bytes.
    Status read_state(std::uint32_t cpu, KvmdbgArch layout, void* out, std::uint32_t size);
    Status write_state(std::uint32_t cpu, KvmdbgArch layout, const void* in, std::uint32_t size);
    Status missing(const char* op) const;

    static int host_pio(void* opaque, uint32_t cpu, uint16_t port, uint8_t* data, uint32_t size, int is_write);
    static int host_mmio(void* opaque, uint32_t cpu, uint64_t gpa, uint8_t* data, uint32_t size, int is_write);
    static void host_event(void* opaque, const KvmdbgEvent* event);
    static int host_debug_stop(void* opaque, uint32_t cpu, const KvmdbgDebugStop* stop);

    AccelPlugin plugin_;
    KvmdbgAccel* instance_ = nullptr;
    KvmdbgArch arch_;
};

}  // namespace kvmdbg::accel
