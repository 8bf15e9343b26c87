// The arm64 ArchBackend (arch_backend.h) for the `virt` machine on an
// aarch64 host's KVM:
//
//   vCPUs   KVM_ARM_PREFERRED_TARGET, then KVM_ARM_VCPU_INIT with
//           KVM_ARM_VCPU_PSCI_0_2 (PSCI in the kernel) and, for every vCPU
//           but 0, KVM_ARM_VCPU_POWER_OFF (APs wait for PSCI CPU_ON)
//           (api.rst 4.82 KVM_ARM_VCPU_INIT, 4.83 KVM_ARM_PREFERRED_TARGET);
//           a machine reset powers every vCPU off again (power_off_vcpu)
//   GICv3   KVM_CREATE_DEVICE(KVM_DEV_TYPE_ARM_VGIC_V3) once the vCPUs
//           exist; KVM_DEV_ARM_VGIC_GRP_ADDR DIST and REDIST, optionally
//           GRP_NR_IRQS, then GRP_CTRL/KVM_DEV_ARM_VGIC_CTRL_INIT
//           (Documentation/virt/kvm/devices/arm-vgic-v3.rst)
//   IRQs    KVM_IRQ_LINE with irq = KVM_ARM_IRQ_TYPE_SPI << 24 | (32 + spi)
//           (api.rst 4.25 "KVM_IRQ_LINE", ARM64 encoding)
//   state   KVM_GET/SET_ONE_REG (arm64_vcpu_state.h)
//   exits   KVM_EXIT_SYSTEM_EVENT: SHUTDOWN (PSCI SYSTEM_OFF) -> POWEROFF,
//           RESET (PSCI SYSTEM_RESET) -> RESET, CRASH -> SHUTDOWN;
//           INTERNAL_ERROR, FAIL_ENTRY and the rest park with the PC
//   probe   capabilities only: SET_GUEST_DEBUG, SET_GUEST_DEBUG2 (the
//           control bits), GUEST_DEBUG_HW_BPS / _HW_WPS. arm64 KVM
//           forwards every debug exception class to userspace while guest
//           debug is on (Linux arch/arm64/kvm/handle_exit.c and
//           arch/arm64/kvm/debug.c); the exits measured on the nested
//           arm64 KVM (docs/hosts.md) agree.
// Compiled only into a module built for an aarch64 host.
#include <linux/kvm.h>

#include <cstdio>
#include <cstring>

#include "accel/kvm/arch_backend.h"
#include "accel/kvm/arm64_debug_hooks.h"
#include "accel/kvm/arm64_vcpu_state.h"
#include "accel/kvm/guest_debug_core.h"
#include "accel/kvm/kvm_vcpu.h"
#include "accel/kvm/kvm_vm.h"
#include "accel/kvm/one_reg.h"
#include "accel/plugin_abi_arm64.h"
#include "arch/arm64/debug_regs.h"
#include "arch/arm64/regs_kvm.h"
#include "common/hex_string.h"
#include "common/ioctl_status.h"

namespace kvmdbg::accel::kvm {

namespace {

ArchExitOutcome park(std::uint32_t kind, int error, std::string message) {
    ArchExitOutcome out;
    out.kind = kind;
    out.error = error;
    out.message = std::move(message);
    return out;
}

const char* exit_name(std::uint32_t reason) {
    switch (reason) {
    case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
    case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
    case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN";
    case KVM_EXIT_EXCEPTION: return "KVM_EXIT_EXCEPTION";
    case KVM_EXIT_HYPERCALL: return "KVM_EXIT_HYPERCALL";
    case KVM_EXIT_ARM_NISV: return "KVM_EXIT_ARM_NISV";
    default: return nullptr;
    }
}

class Arm64Backend final : public ArchBackend {
public:
    explicit Arm64Backend(const KvmdbgVmConfig& config)
        : dist_base_(config.gic_dist_base), redist_base_(config.gic_redist_base), nr_irqs_(config.gic_nr_irqs) {}

    KvmdbgArch arch() const override { return KVMDBG_ARCH_ARM64; }
    std::uint32_t state_size() const override { return KVMDBG_ARM64_STATE_SIZE; }
    // 0: the default 40-bit IPA space, enough for the virt machine's RAM.
    unsigned long vm_type(const KvmSystem&) const override { return 0; }

    Status setup_vm(KvmVm& vm) override {
        if (vm.irqchip() && (dist_base_ == 0 || redist_base_ == 0)) {
            return make_error(EINVAL,
                              "arm64 with an in-kernel irqchip needs the GICv3 distributor and "
                              "redistributor addresses");
        }
        if (vm.system().check_extension(KVM_CAP_ARM_PSCI_0_2) <= 0) {
            return make_error(ENOTSUP, "the host's KVM has no in-kernel PSCI 0.2 (KVM_CAP_ARM_PSCI_0_2)");
        }
        long rc = xioctl(vm.fd(), KVM_ARM_PREFERRED_TARGET, &init_);
        return ioctl_status(rc, "KVM_ARM_PREFERRED_TARGET");
    }

    Status init_vcpu(KvmVm&, KvmVcpu& vcpu) override {
        // The boot vCPU starts running; the APs wait for PSCI CPU_ON.
        return vcpu_init(vcpu, vcpu.index() != 0);
    }

    Status vcpus_created(KvmVm& vm) override {
        if (!vm.irqchip()) {
            return ok_status();
        }
        kvm_create_device dev{};
        dev.type = KVM_DEV_TYPE_ARM_VGIC_V3;
        if (auto s = ioctl_status(xioctl(vm.fd(), KVM_CREATE_DEVICE, &dev), "KVM_CREATE_DEVICE(VGIC_V3)"); !s) {
            return make_error(s.error().code, s.error().message + " (the host has no GICv3 KVM support)");
        }
        gic_fd_ = UniqueFd(static_cast<int>(dev.fd));
        if (auto s = set_attr(KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist_base_, "GIC DIST address");
            !s) {
            return s;
        }
        if (auto s = set_attr(KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist_base_,
                              "GIC REDIST address");
            !s) {
            return s;
        }
        if (nr_irqs_ != 0) {
            if (auto s = set_attr(KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs_, "GIC NR_IRQS"); !s) {
                return s;
            }
        }
        return set_attr(KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, nullptr, "GIC CTRL_INIT");
    }

    Status load_state(KvmVcpu& vcpu, void* out) override {
        return load_arm64_state(vcpu.fd(), *static_cast<KvmdbgArm64State*>(out));
    }
    Status store_state(KvmVcpu& vcpu, const void* in) override {
        return store_arm64_state(vcpu.fd(), *static_cast<const KvmdbgArm64State*>(in));
    }

    Status set_mp_runnable(KvmVm&, KvmVcpu& vcpu) override {
        kvm_mp_state mp{KVM_MP_STATE_RUNNABLE};
        return ioctl_status(xioctl(vcpu.fd(), KVM_SET_MP_STATE, &mp), "KVM_SET_MP_STATE(RUNNABLE)");
    }

    Status wait_for_sipi(KvmVm&, KvmVcpu& vcpu) override {
        return make_error(ENOTSUP, "vCPU " + std::to_string(vcpu.index()) +
                                       ": arm64 has no INIT/SIPI (a machine reset powers vCPUs off: "
                                       "power_off_vcpu)");
    }

    Status power_off_vcpu(KvmVm&, KvmVcpu& vcpu) override {
        // Machine reset: KVM_ARM_VCPU_INIT again puts every register at its
        // reset value (api.rst 4.82: "Userspace can call this function
        // multiple times for a given vcpu, including after the vcpu has been
        // run"). It is repeated with the vCPU's first feature set, because
        // kernels before KVM_ARM_VCPU_POWER_OFF became a one-call flag refuse
        // a changed set (EINVAL); the boot vCPU, initialised powered on, is
        // then stopped with KVM_SET_MP_STATE (api.rst 4.38, arm64: STOPPED).
        // The guest's PSCI CPU_ON or the machine's set_mp_runnable starts it.
        if (auto s = vcpu_init(vcpu, vcpu.index() != 0); !s || vcpu.index() != 0) {
            return s;
        }
        kvm_mp_state mp{KVM_MP_STATE_STOPPED};
        return ioctl_status(xioctl(vcpu.fd(), KVM_SET_MP_STATE, &mp), "KVM_SET_MP_STATE(STOPPED)");
    }

    Status set_irq_line(KvmVm& vm, std::uint32_t irq, bool level) override {
        if (irq > 987) {  // INTIDs 32..1019 are SPIs
            return make_error(EINVAL, "SPI " + std::to_string(irq) + " is out of range");
        }
        kvm_irq_level line{};
        line.irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (32 + irq);
        line.level = level ? 1 : 0;
        return ioctl_status(xioctl(vm.fd(), KVM_IRQ_LINE, &line), "KVM_IRQ_LINE(SPI " + std::to_string(irq) + ")");
    }

    Status get_irqchip(KvmVm&, std::uint32_t, std::uint32_t, void*, std::uint64_t) override {
        return make_error(ENOTSUP,
                          "arm64: the plugin ABI defines no interrupt-controller state for the GICv3 "
                          "(get_irqchip is x86 only)");
    }

    ArchExitOutcome handle_exit(KvmVcpu& vcpu) override {
        const kvm_run& r = *vcpu.run();
        const std::string who = "vCPU " + std::to_string(vcpu.index());
        auto pc = read_one_reg(vcpu.fd(), arch::arm64::reg_id::pc(), "pc");
        std::string at = pc ? " at PC=" + hex_string(*pc) : " (PC unavailable: " + pc.error().message + ")";
        switch (r.exit_reason) {
        case KVM_EXIT_SYSTEM_EVENT:
            switch (r.system_event.type) {
            case KVM_SYSTEM_EVENT_SHUTDOWN: return park(KVMDBG_EVENT_POWEROFF, 0, who + ": PSCI SYSTEM_OFF");
            case KVM_SYSTEM_EVENT_RESET: return park(KVMDBG_EVENT_RESET, 0, who + ": PSCI SYSTEM_RESET");
            case KVM_SYSTEM_EVENT_CRASH:
                return park(KVMDBG_EVENT_SHUTDOWN, 0, who + ": the guest reported a crash (PSCI)" + at);
            default:
                return park(KVMDBG_EVENT_UNHANDLED_EXIT, static_cast<int>(r.exit_reason),
                            who + ": unhandled system event " + std::to_string(r.system_event.type) + at);
            }
        case KVM_EXIT_INTERNAL_ERROR:
            return park(KVMDBG_EVENT_INTERNAL_ERROR, static_cast<int>(r.internal.suberror),
                        who + ": KVM internal error, suberror " + std::to_string(r.internal.suberror) + at);
        case KVM_EXIT_FAIL_ENTRY:
            return park(KVMDBG_EVENT_FAIL_ENTRY, 0,
                        who + ": KVM_EXIT_FAIL_ENTRY, hardware reason " +
                            hex_string(r.fail_entry.hardware_entry_failure_reason) + at);
        case KVM_EXIT_ARM_NISV:
            // A data abort on MMIO without a valid syndrome (e.g. a load/store
            // pair or writeback to a device): KVM cannot emulate it.
            return park(KVMDBG_EVENT_UNHANDLED_EXIT, static_cast<int>(r.exit_reason),
                        who + ": MMIO access without instruction syndrome at " + hex_string(r.arm_nisv.fault_ipa) +
                            " (KVM_EXIT_ARM_NISV: use single loads/stores for device registers)" + at);
        default: {
            const char* name = exit_name(r.exit_reason);
            return park(KVMDBG_EVENT_UNHANDLED_EXIT, static_cast<int>(r.exit_reason),
                        who + ": unhandled " +
                            (name != nullptr ? std::string(name) : "exit reason " + std::to_string(r.exit_reason)) +
                            at);
        }
        }
    }

    Result<HostDebugCaps> probe_debug(const KvmSystem& system) override {
        HostDebugCaps caps;
        caps.set_guest_debug = system.check_extension(KVM_CAP_SET_GUEST_DEBUG) > 0;
        long mask = system.check_extension(KVM_CAP_SET_GUEST_DEBUG2);
        caps.guest_debug_mask = mask > 0 ? static_cast<std::uint32_t>(mask) : 0;
        auto counts =
            arch::arm64::slot_counts_from_caps(static_cast<int>(system.check_extension(KVM_CAP_GUEST_DEBUG_HW_BPS)),
                                               static_cast<int>(system.check_extension(KVM_CAP_GUEST_DEBUG_HW_WPS)));
        caps.hw_breakpoints = counts.breakpoints;
        caps.hw_watchpoints = counts.watchpoints;
        // Without SET_GUEST_DEBUG2 (kernels before 5.16) every arm64 flag is
        // taken to be there, as those kernels accept all of them.
        auto offered = [&](std::uint32_t bit) { return caps.set_guest_debug && (mask <= 0 || (mask & bit) != 0); };
        caps.single_step = offered(KVM_GUESTDBG_SINGLESTEP);
        caps.sw_breakpoint_exits = offered(KVM_GUESTDBG_USE_SW_BP);
        caps.hw_exec_breakpoint = offered(KVM_GUESTDBG_USE_HW) && caps.hw_breakpoints > 0;
        caps.data_watchpoints_fire = offered(KVM_GUESTDBG_USE_HW) && caps.hw_watchpoints > 0;
        caps.notes =
            "arm64: answers from KVM_CHECK_EXTENSION (SET_GUEST_DEBUG2 mask, HW_BPS, HW_WPS); "
            "KVM forwards every debug exception class while guest debug is on\n";
        return caps;
    }

    DebugReportTexts debug_reports(const HostDebugCaps& caps) const override {
        char line[320];
        std::snprintf(line, sizeof line,
                      "host guest-debug probe: arch=arm64 set_guest_debug=%d mask=0x%x step=%d sw_bp=%d hw_bps=%u "
                      "hw_wps=%u",
                      caps.set_guest_debug ? 1 : 0, caps.guest_debug_mask, caps.single_step ? 1 : 0,
                      caps.sw_breakpoint_exits ? 1 : 0, caps.hw_breakpoints, caps.hw_watchpoints);
        std::string summary = line;
        std::string details;
        auto yn = [](bool b) { return b ? "yes" : "no"; };
        std::snprintf(line, sizeof line,
                      "KVM_CAP_SET_GUEST_DEBUG: %s\nKVM_CAP_SET_GUEST_DEBUG2: 0x%x\n"
                      "single-step (KVM_GUESTDBG_SINGLESTEP): %s\n"
                      "software breakpoints (BRK #0 with KVM_GUESTDBG_USE_SW_BP): %s\n"
                      "hardware breakpoints (KVM_CAP_GUEST_DEBUG_HW_BPS): %u\n"
                      "hardware watchpoints (KVM_CAP_GUEST_DEBUG_HW_WPS): %u\n",
                      yn(caps.set_guest_debug), caps.guest_debug_mask, yn(caps.single_step),
                      yn(caps.sw_breakpoint_exits), caps.hw_breakpoints, caps.hw_watchpoints);
        details = line + caps.notes;
        std::string notice;
        if (caps.set_guest_debug) {
            if (!caps.sw_breakpoint_exits && caps.hw_breakpoints > 0) {
                notice += "software breakpoints are served with hardware breakpoint registers";
            }
            if (caps.hw_watchpoints == 0) {
                notice += std::string(notice.empty() ? "" : "; ") +
                          "this host gives the debugger no hardware watchpoints";
            }
            if (caps.hw_breakpoints == 0) {
                notice += std::string(notice.empty() ? "" : "; ") +
                          "this host gives the debugger no hardware breakpoints";
            }
        }
        if (!notice.empty()) {
            notice = "kvmdbg: " + notice;
        }
        return {summary, details, notice};
    }

    Result<std::unique_ptr<GuestDebug>> make_guest_debug(KvmVm& vm, const HostDebugCaps& caps) override {
        Arm64DebugHost host;
        host.sw_breakpoints_intercepted = caps.sw_breakpoint_exits;
        host.counts.breakpoints = caps.hw_breakpoints;
        host.counts.watchpoints = caps.hw_watchpoints;
        auto core = GuestDebugCore::create(vm, std::make_unique<Arm64DebugHooks>(vm, host));
        if (!core) {
            return core.error();
        }
        return std::unique_ptr<GuestDebug>(std::move(*core));
    }

private:
    /// KVM_ARM_VCPU_INIT with the preferred target, PSCI 0.2 and, when
    /// `powered_off`, KVM_ARM_VCPU_POWER_OFF. It may be repeated with the
    /// same features; it then resets the vCPU to its initial state.
    Status vcpu_init(KvmVcpu& vcpu, bool powered_off) {
        kvm_vcpu_init init = init_;
        std::memset(init.features, 0, sizeof init.features);
        init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
        if (powered_off) {
            init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
        }
        return ioctl_status(xioctl(vcpu.fd(), KVM_ARM_VCPU_INIT, &init),
                            "KVM_ARM_VCPU_INIT of vCPU " + std::to_string(vcpu.index()));
    }

    Status set_attr(std::uint32_t group, std::uint64_t attr, void* value, const char* what) {
        kvm_device_attr a{};
        a.group = group;
        a.attr = attr;
        a.addr = reinterpret_cast<std::uintptr_t>(value);
        return ioctl_status(xioctl(gic_fd_.get(), KVM_SET_DEVICE_ATTR, &a),
                            std::string("KVM_SET_DEVICE_ATTR(") + what + ")");
    }

    kvm_vcpu_init init_{};
    std::uint64_t dist_base_;
    std::uint64_t redist_base_;
    std::uint32_t nr_irqs_;
    UniqueFd gic_fd_;
};

}  // namespace

// The module is built for one host ISA: this file is its backend factory on aarch64.
Result<std::unique_ptr<ArchBackend>> make_arch_backend(const KvmdbgVmConfig& config) {
    if (config.arch != KVMDBG_ARCH_ARM64) {
        return make_error(ENOTSUP, "this KVM module drives arm64 guests only");
    }
    return std::unique_ptr<ArchBackend>(std::make_unique<Arm64Backend>(config));
}

}  // namespace kvmdbg::accel::kvm
