#include "hw-models/virt/virt_machine.h"

#include <cerrno>
#include <string>

namespace kvmdbg::hw {

namespace {

constexpr MachinePropertyInfo kProperties[] = {
    {"kernel-irqchip", "kernel_irqchip", "on|off", "in-kernel GICv3 (default on)"},
    {"gic-version", nullptr, "3|host|max", "the interrupt controller: GICv3 whatever the value"},
    {"dumpdtb", nullptr, "FILE", "also write the device tree blob the guest gets to FILE"},
    {"dtb-randomness", nullptr, "on|off",
     "random /chosen/kaslr-seed and rng-seed in the device tree (default on; off: a kernel without "
     "another entropy source stays at its link address)"},
};

constexpr DeviceDriverInfo kDevices[] = {
    {"pl011", "MMIO", "PL011 UART on -serial, SPI 1", {}, "0x09000000"},
    {"test-exit",
     "MMIO",
     "a 32-bit write of V at offset 0 exits the emulator with status (V << 1) | 1",
     {},
     "0x09100000"},
};

// Fills `config` from the -M properties.
Status apply_properties(const MachineOptions& options, VirtConfig& config) {
    for (const auto& [key, value] : options.props) {
        if (key == "kernel-irqchip") {
            if (value != "on" && value != "off") {
                return make_error(EINVAL, "kernel-irqchip must be on or off on virt, not '" + value + "'");
            }
            config.kernel_irqchip = value == "on";
        } else if (key == "dumpdtb") {
            config.dumpdtb = value;
        } else if (key == "dtb-randomness") {
            if (value != "on" && value != "off") {
                return make_error(EINVAL, "dtb-randomness must be on or off, not '" + value + "'");
            }
            config.dtb_randomness = value == "on";
        } else if (key == "gic-version") {
            if (value != "3" && value != "host" && value != "max") {
                return make_error(EINVAL, "machine virt offers GICv3 only (gic-version=3)");
            }
        }
    }
    return ok_status();
}

}  // namespace

const MachineType kVirtMachineType = {
    Virt::kName,         "aarch64: RAM at 0x40000000, PL011, GICv3, timer, PSCI, test-exit, device tree",
    GuestIsa::arm64,     true,
    kProperties,         kDevices,
    VirtMachine::create,
};

Result<std::unique_ptr<Machine>> VirtMachine::create(const MachineOptions& options, Log& log, MachineHost& host) {
    auto config = config_from_options<VirtConfig>(options);
    if (auto s = apply_properties(options, config); !s) {
        return s.error();
    }
    return wrap_model<VirtMachine, Virt>(config, log, host);
}

MachineAccelConfig VirtMachine::accel_config() const {
    MachineAccelConfig config;
    config.isa = GuestIsa::arm64;
    config.cpus = virt_->config().cpus;
    config.kernel_irqchip = virt_->config().kernel_irqchip;
    config.gic_dist_base = virt_->gic().dist_base;
    config.gic_redist_base = virt_->gic().redist_base;
    config.gic_nr_irqs = virt_->gic().nr_irqs;
    return config;
}

Status VirtMachine::load_kernel() {
    auto plan = virt_->load_kernel();
    if (!plan) {
        return plan.error();
    }
    plan_ = *plan;
    return ok_status();
}

Status VirtMachine::boot_vcpus(MachineAccel& accel, bool reset) {
    for (std::uint32_t i = 0; i < virt_->config().cpus; ++i) {
        if (reset) {
            if (auto s = accel.power_off_vcpu(i); !s) {
                return s;
            }
        }
        Arm64VcpuBoot boot = plan_.vcpu(i);
        if (boot.powered_off) {
            continue;  // KVM_ARM_VCPU_POWER_OFF: the guest starts it with PSCI CPU_ON
        }
        auto state = accel.get_arm64_state(i);
        if (!state) {
            return state.error();
        }
        state->pc = boot.pc;
        state->x[0] = boot.x0;
        state->x[1] = state->x[2] = state->x[3] = 0;
        state->pstate = boot.pstate;
        if (auto s = accel.set_arm64_state(i, *state); !s) {
            return s;
        }
        if (reset) {
            if (auto s = accel.set_mp_runnable(i); !s) {  // power_off_vcpu stopped it
                return s;
            }
        }
    }
    return ok_status();
}

Status VirtMachine::map_memory(MachineAccel& accel) {
    if (const VirtFirmware* firmware = virt_->firmware()) {
        const MappedRegion& flash = firmware->flash();
        if (auto s = accel.map_ram(virt::kFlashBase, flash.size(), flash.data(), true); !s) {
            return s;
        }
    }
    return map_guest_ram(virt_->ram(), accel);
}

std::vector<DebugMemoryRegion> VirtMachine::gdb_memory_map() const {
    // Every address but the -bios flash is offered as RAM (the stub answers
    // E14 where nothing is mapped); gdb turns `break` in the flash into a
    // hardware breakpoint.
    if (virt_->firmware() == nullptr) {
        return {{DebugMemoryRegion::Kind::ram, 0, ~std::uint64_t{0}}};
    }
    constexpr std::uint64_t end = virt::kFlashBase + virt::kFlashSize;
    return {{DebugMemoryRegion::Kind::rom, virt::kFlashBase, virt::kFlashSize},
            {DebugMemoryRegion::Kind::ram, end, ~std::uint64_t{0} - end}};
}

}  // namespace kvmdbg::hw
