#include "hw-models/pc/pc_lite_machine.h"

#include <cerrno>
#include <string>

#include "common/hex_string.h"

namespace kvmdbg::hw {

namespace {

constexpr MachinePropertyInfo kProperties[] = {
    {"kernel-irqchip", "kernel_irqchip", "on|off|split", "in-kernel PIC/IOAPIC/LAPIC/PIT (default on; split means on)"},
};

constexpr std::uint64_t kPortSpace = 0x10000;

constexpr DevicePropertyInfo kDebugExitProps[] = {
    {"iobase", 0x501, 0, 0xffff, "first I/O port"},
    {"iosize", 0x2, 1, kPortSpace, "number of I/O ports"},
};

std::string check_debug_exit_ports(const std::map<std::string, std::uint64_t>& numbers) {
    std::uint64_t base = numbers.at("iobase");
    std::uint64_t size = numbers.at("iosize");
    if (base + size > kPortSpace) {
        return "ports " + hex_string(base) + " + " + hex_string(size) + " go past the last I/O port 0xffff";
    }
    return "";
}

constexpr DevicePropertyInfo kDebugconProps[] = {
    {"iobase", 0xe9, 0, 0xffff, "I/O port (SeaBIOS logs to 0x402)"},
};

constexpr DeviceDriverInfo kDevices[] = {
    {"isa-debug-exit", "ISA", "a port write of V exits the emulator with status (V << 1) | 1", kDebugExitProps, nullptr,
     check_debug_exit_ports},
    {"isa-debugcon", "ISA", "debug console port; its output is -debugcon SPEC", kDebugconProps, nullptr, nullptr},
    {"pc-testdev",
     "ISA",
     "kvm-unit-tests' test device: ports 0xe0-0xeb, IRQ lines at 0x2000, MMIO at 0xff000000",
     {},
     nullptr,
     nullptr},
};

Status apply_properties(const MachineOptions& options, PcLiteConfig& config) {
    if (auto it = options.props.find("kernel-irqchip"); it != options.props.end()) {
        const std::string& value = it->second;
        if (value == "on" || value == "split") {
            config.kernel_irqchip = true;
        } else if (value == "off") {
            config.kernel_irqchip = false;
        } else {
            return make_error(EINVAL, "kernel-irqchip must be on, split or off, not '" + value + "'");
        }
    }
    for (const auto& device : options.devices) {
        if (device.driver == "pc-testdev") {
            config.pc_testdev = true;
            continue;
        }
        if (device.driver == "isa-debugcon") {
            if (options.debugcon.empty()) {
                return make_error(EINVAL,
                                  "-device isa-debugcon: its output is -debugcon SPEC (stdio, file:PATH), "
                                  "which is missing (kvmdbg has no -chardev)");
            }
            config.debugcon_iobase = device.numbers.at("iobase");
            continue;
        }
        if (auto it = device.numbers.find("iobase"); it != device.numbers.end()) {
            config.debug_exit_iobase = it->second;
        }
        if (auto it = device.numbers.find("iosize"); it != device.numbers.end()) {
            config.debug_exit_iosize = it->second;
        }
    }
    return ok_status();
}

}  // namespace

const MachineType kPcLiteMachineType = {
    PcLite::kName,         "x86-64 PC: RAM, COM1 16550, isa-debug-exit, in-kernel irqchip",
    GuestIsa::x86_64,      true,
    kProperties,           kDevices,
    PcLiteMachine::create,
};

Result<std::unique_ptr<Machine>> PcLiteMachine::create(const MachineOptions& options, Log& log, MachineHost& host) {
    auto config = config_from_options<PcLiteConfig>(options);
    if (auto s = apply_properties(options, config); !s) {
        return s.error();
    }
    return wrap_model<PcLiteMachine, PcLite>(config, log, host);
}

MachineAccelConfig PcLiteMachine::accel_config() const {
    MachineAccelConfig config;
    config.isa = GuestIsa::x86_64;
    config.cpus = pc_->config().cpus;
    config.kernel_irqchip = pc_->config().kernel_irqchip;
    return config;
}

Status PcLiteMachine::map_memory(MachineAccel& accel) {
    if (auto s = accel.map_ram(pc_->rom_base(), pc_->rom().size(), pc_->rom().data(), true); !s) {
        return s;
    }
    return map_guest_ram(pc_->ram(), accel);
}

Status PcLiteMachine::load_kernel() {
    auto plan = pc_->load_kernel();
    if (!plan) {
        return plan.error();
    }
    plan_ = *plan;
    std::uint32_t cpus = pc_->config().cpus;
    if (!plan_.all_vcpus_start_at_entry && cpus > 1 && !pc_->config().kernel_irqchip) {
        return make_error(EINVAL, "a " + plan_.protocol + " kernel with -smp " + std::to_string(cpus) +
                                      " needs kernel-irqchip=on: its APs wait for INIT/SIPI in the local APIC");
    }
    return ok_status();
}

Status PcLiteMachine::boot_vcpus(MachineAccel& accel, bool reset) {
    std::uint32_t cpus = pc_->config().cpus;
    for (std::uint32_t i = 0; i < cpus; ++i) {
        if (i == 0 || plan_.all_vcpus_start_at_entry || reset) {
            // After a reset a multiboot AP gets the INIT state and waits for
            // its SIPI again, as on a real PC.
            if (auto s = accel.set_x86_state(i, plan_.vcpu_state(i, cpus)); !s) {
                return s;
            }
        }
        if (reset && i != 0 && !plan_.all_vcpus_start_at_entry) {
            if (auto s = accel.wait_for_sipi(i); !s) {
                return s;
            }
        }
        if (i != 0 && plan_.all_vcpus_start_at_entry) {
            if (auto s = accel.set_mp_runnable(i); !s) {
                return s;
            }
        }
    }
    return ok_status();
}

std::vector<DebugMemoryRegion> PcLiteMachine::gdb_memory_map() const {
    // The ROM read-only (gdb turns `break` there into a hardware breakpoint
    // and refuses writes); everything else "ram", so that gdb still tries
    // every virtual address and the stub answers E14 where nothing is mapped
    // (a map without it would make gdb refuse them).
    const std::uint64_t rom_base = pc_->rom_base();
    const std::uint64_t rom_end = rom_base + pc_->rom().size();
    return {
        {DebugMemoryRegion::Kind::ram, 0, rom_base},
        {DebugMemoryRegion::Kind::rom, rom_base, pc_->rom().size()},
        {DebugMemoryRegion::Kind::ram, rom_end, ~std::uint64_t{0} - rom_end},
    };
}

}  // namespace kvmdbg::hw
