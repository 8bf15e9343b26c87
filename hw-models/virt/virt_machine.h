// VirtMachine: `-M virt` (virt.h) as a Machine (hw-models/machine.h), and
// its registry entry kVirtMachineType: properties kernel-irqchip (on|off),
// gic-version (3; host and max mean 3), dumpdtb=FILE; built-in devices
// pl011 and test-exit (-device adds none).
//
// It adds to Virt what the emulator needs generically: the arm64
// accelerator configuration with the GICv3 frames, RAM mapped, the boot of
// every vCPU from the kernel's Arm64BootPlan (vCPU 0 at the entry with x0 =
// the DTB, APs powered off for PSCI CPU_ON), and gdb's memory map (no ROM:
// everything "ram"). Threads: as Machine.
#pragma once

#include <memory>

#include "hw-models/machine.h"
#include "hw-models/machine_type.h"
#include "hw-models/virt/virt.h"

namespace kvmdbg::hw {

extern const MachineType kVirtMachineType;

class VirtMachine final : public Machine {
public:
    /// Builds Virt from `options`. Errors: EINVAL "kernel-irqchip must be on
    /// or off on virt, not 'V'", "machine virt offers GICv3 only
    /// (gic-version=3)", then Virt::create()'s.
    static Result<std::unique_ptr<Machine>> create(const MachineOptions& options, Log& log, MachineHost& host);

    MachineAccelConfig accel_config() const override;
    Status map_memory(MachineAccel& accel) override;
    Status load_kernel() override;
    /// `reset`: every vCPU is re-initialised first (KVM_ARM_VCPU_INIT: reset
    /// values, APs powered off).
    Status boot_vcpus(MachineAccel& accel, bool reset) override;
    void reset_devices() override { virt_->reset_devices(); }
    GuestRam& ram() override { return virt_->ram(); }
    std::vector<DebugMemoryRegion> gdb_memory_map() const override;
    IoBus& bus() override { return virt_->bus(); }
    CharBackend& serial_backend() override { return virt_->serial_backend(); }
    std::size_t serial_rx_room() override { return virt_->uart().rx_room(); }
    void serial_push_input(std::span<const std::uint8_t> bytes) override { virt_->uart().push_input(bytes); }

    /// Takes the built model (wrap_model()).
    explicit VirtMachine(std::unique_ptr<Virt> virt) : virt_(std::move(virt)) {}

private:
    std::unique_ptr<Virt> virt_;
    Arm64BootPlan plan_{};
};

}  // namespace kvmdbg::hw
