// MachineHost: the services a machine model needs from its owner (the
// emulator): ending the process, power-off, reset, interrupt lines.
//
// Every machine (pc-lite, virt) takes one at creation; the emulator
// (system/emulator.h) implements it. All members are called on vCPU threads
// (from device models, under the bus lock) and must not re-enter the bus.
#pragma once

#include <cstdint>
#include <string>

namespace kvmdbg::hw {

/// Services the machine's owner provides. Called on vCPU threads.
class MachineHost {
public:
    virtual ~MachineHost() = default;
    /// The guest asked to end the emulator with `status` (debug-exit: any
    /// value; power-off: 0). `reason` is for logs.
    virtual void request_exit(int status, const std::string& reason) = 0;
    /// The guest powered the machine off (ACPI PM1a_CNT SLP_EN; on virt,
    /// PSCI SYSTEM_OFF seen by the accelerator); the requesting vCPU parks.
    /// QEMU exits 0 here unless -no-shutdown.
    virtual void request_poweroff(const std::string& reason) = 0;
    /// The guest asked for a machine reset (i8042 pulse, port 0x92);
    /// `reason` says how. The requesting vCPU parks (stop_machine).
    virtual void request_reset(const std::string& reason) = 0;
    /// Drives interrupt line `irq` to `level`. pc-lite: the ISA IRQ number.
    /// virt: the GIC SPI number (0-based, as in the device tree's
    /// `interrupts = <0 SPI 4>`; the accelerator adds 32 for the INTID and
    /// encodes KVM_IRQ_LINE, see hw-models/virt/virt.h).
    virtual void set_irq_line(std::uint32_t irq, bool level) = 0;
};

}  // namespace kvmdbg::hw
