// PcLiteMachine: `-M pc-lite` (pc_lite.h) as a Machine (hw-models/machine.h),
// and its registry entry kPcLiteMachineType: properties kernel-irqchip
// (on|off|split; split means on) and the -device driver isa-debug-exit.
//
// It adds to PcLite what the emulator needs generically: the x86-64
// accelerator configuration, RAM and the firmware ROM mapped, the boot of
// every vCPU from the kernel's X86BootPlan (multiboot APs wait for
// INIT/SIPI, ELF64 APs start at the entry), and gdb's memory map (the ROM
// read-only). Threads: as Machine.
#pragma once

#include <memory>

#include "hw-models/machine.h"
#include "hw-models/machine_type.h"
#include "hw-models/pc/pc_lite.h"

namespace kvmdbg::hw {

extern const MachineType kPcLiteMachineType;

class PcLiteMachine final : public Machine {
public:
    /// Builds PcLite from `options` (props: kernel-irqchip; devices:
    /// isa-debug-exit, the last one wins). Errors: EINVAL "kernel-irqchip
    /// must be on, split or off, not 'V'", then PcLite::create()'s.
    static Result<std::unique_ptr<Machine>> create(const MachineOptions& options, Log& log, MachineHost& host);

    MachineAccelConfig accel_config() const override;
    Status map_memory(MachineAccel& accel) override;
    /// Also EINVAL when a multiboot kernel has APs and the irqchip is off
    /// (its APs wait for INIT/SIPI in the in-kernel local APIC).
    Status load_kernel() override;
    Status boot_vcpus(MachineAccel& accel, bool reset) override;
    void reset_devices() override { pc_->reset_devices(); }
    GuestRam& ram() override { return pc_->ram(); }
    std::vector<DebugMemoryRegion> gdb_memory_map() const override;
    IoBus& bus() override { return pc_->bus(); }
    CharBackend& serial_backend() override { return pc_->serial_backend(); }
    std::size_t serial_rx_room() override { return pc_->com1().rx_room(); }
    void serial_push_input(std::span<const std::uint8_t> bytes) override { pc_->com1().push_input(bytes); }

    /// Takes the built model (wrap_model()).
    explicit PcLiteMachine(std::unique_ptr<PcLite> pc) : pc_(std::move(pc)) {}

private:
    std::unique_ptr<PcLite> pc_;
    X86BootPlan plan_{};
};

}  // namespace kvmdbg::hw
