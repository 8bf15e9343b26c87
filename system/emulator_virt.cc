// The `-M virt` half of the Emulator (emulator.h): the aarch64 machine on an
// aarch64 host's KVM. What it wires (hw-models/virt/virt.h):
//   * the accelerator with KVMDBG_ARCH_ARM64 and the machine's GICv3 frames,
//   * one memory slot per RAM region, MMIO exits to the machine's bus
//     (PL011, test-exit), PL011 interrupts as SPIs (set_irq_line),
//   * the boot plan: vCPU 0 at the entry with x0 = the DTB, APs powered off
//     for PSCI CPU_ON; PSCI SYSTEM_OFF ends the run with status 0,
//     SYSTEM_RESET resets the machine (unless -no-reboot).
#include <cstdio>

#include "system/emulator.h"

namespace kvmdbg::system {

Status Emulator::build_virt(const std::string& accel_name, const std::optional<GdbEndpoint>& gdb_endpoint) {
    if (accel::host_arch() != KVMDBG_ARCH_ARM64) {
        return make_error(ENOTSUP, "machine virt runs aarch64 guests and needs an aarch64 host: KVM runs guests "
                                   "of the host's own ISA (use -M pc-lite here)");
    }
    hw::VirtConfig config;
    config.ram_size = options_.ram_size;
    config.cpus = options_.smp_cpus;
    config.kernel = options_.kernel;
    config.append = options_.append;
    config.initrd = options_.initrd;
    config.serial = options_.serial;
    if (gdb_endpoint && gdb_endpoint->kind == GdbEndpoint::Kind::stdio && config.serial == "stdio") {
        std::fprintf(stderr, "kvmdbg: -gdb stdio uses stdin/stdout: serial output goes nowhere "
                             "(use -serial file:PATH to keep it)\n");
        config.serial = "none";
    }
    bool irqchip = true;
    for (const auto& [key, value] : options_.machine.props) {
        if (key == "kernel-irqchip" || key == "kernel_irqchip") {
            if (value == "on") {
                irqchip = true;
            } else if (value == "off") {
                irqchip = false;
            } else {
                return make_error(EINVAL, "kernel-irqchip must be on or off on virt, not '" + value + "'");
            }
        } else if (key == "accel") {
            if (value != "kvm") {
                return make_error(EINVAL, "accelerator '" + value + "' is not supported (only kvm)");
            }
        } else if (key == "dumpdtb") {
            config.dumpdtb = value;
        } else if (key == "gic-version") {
            if (value != "3" && value != "host" && value != "max") {
                return make_error(EINVAL, "machine virt offers GICv3 only (gic-version=3)");
            }
        } else {
            return make_error(EINVAL, "machine virt has no property '" + key + "'");
        }
    }
    if (!options_.devices.empty()) {
        return make_error(EINVAL, "device '" + options_.devices.front().driver +
                                      "' is not supported on virt (its test-exit device is built in; use -device help)");
    }
    auto machine = hw::Virt::create(config, log_, *this);
    if (!machine) {
        return machine.error();
    }
    virt_ = std::move(machine).value();
    auto plan = virt_->load_kernel();
    if (!plan) {
        return plan.error();
    }
    arm64_plan_ = *plan;

    accel::AccelConfig accel_config;
    accel_config.arch = KVMDBG_ARCH_ARM64;
    accel_config.kernel_irqchip = irqchip;
    accel_config.gic_dist_base = virt_->gic().dist_base;
    accel_config.gic_redist_base = virt_->gic().redist_base;
    accel_config.gic_nr_irqs = virt_->gic().nr_irqs;
    if (auto s = create_accel(accel_name, accel_config); !s) {
        return s;
    }
    return bring_up(virt_->ram(), &Emulator::boot_virt_vcpus, gdb_endpoint);
}

Status Emulator::boot_virt_vcpus(bool reset) {
    for (std::uint32_t i = 0; i < options_.smp_cpus; ++i) {
        if (reset) {
            if (auto s = accel_->power_off_vcpu(i); !s) {
                return s;
            }
        }
        hw::Arm64VcpuBoot boot = arm64_plan_.vcpu(i);
        if (boot.powered_off) {
            continue;  // KVM_ARM_VCPU_POWER_OFF: the guest starts it with PSCI CPU_ON
        }
        auto state = accel_->get_arm64_state(i);
        if (!state) {
            return state.error();
        }
        state->pc = boot.pc;
        state->x[0] = boot.x0;
        state->x[1] = state->x[2] = state->x[3] = 0;
        state->pstate = boot.pstate;
        if (auto s = accel_->set_arm64_state(i, *state); !s) {
            return s;
        }
        if (reset) {
            if (auto s = accel_->set_mp_runnable(i); !s) {  // power_off_vcpu stopped it
                return s;
            }
        }
    }
    return ok_status();
}

}  // namespace kvmdbg::system
