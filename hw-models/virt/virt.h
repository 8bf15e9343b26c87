// Virt: the `-M virt` aarch64 machine for arm64 hosts, a small subset of
// QEMU's hw/arm/virt.c: RAM at 0x40000000, a PL011 on -serial, an in-kernel
// GICv3, the architected timer, PSCI in the kernel (hvc), kvmdbg's
// test-exit device and a libfdt device tree. Memory map and interrupts:
// virt_memmap.h; device tree: virt_fdt.h; kernel loading: arm64_loader.h.
//
// Owns guest RAM, the MMIO bus (IoBus, AddressSpace::mmio) and its devices.
// What the machine needs from its owner comes through MachineHost. Created
// and loaded on the main thread; the bus is then used from vCPU threads.
//
// What the accelerator / emulator does with it (system/, accel/: not here):
//   * VM: KVM_CREATE_VM; one memslot per ram().regions() entry (one region,
//     at kRamBase). Guest accesses outside RAM exit as KVM_EXIT_MMIO: pass
//     them to bus().dispatch(AddressSpace::mmio, phys_addr, data, len,
//     is_write); IoOutcome::stop_machine parks the vCPU (test-exit).
//   * vCPUs: KVM_ARM_PREFERRED_TARGET + KVM_ARM_VCPU_INIT with
//     KVM_ARM_VCPU_PSCI_0_2 (and KVM_ARM_VCPU_POWER_OFF where the boot plan
//     says powered_off), then PC/X0/PSTATE from Arm64BootPlan::vcpu() via
//     KVM_SET_ONE_REG (arm64_boot_plan.h). Create the vCPUs before the GIC
//     is initialised (KVM wants them all before KVM_DEV_ARM_VGIC_CTRL_INIT).
//   * GICv3: KVM_CREATE_DEVICE(KVM_DEV_TYPE_ARM_VGIC_V3), then
//     KVM_SET_DEVICE_ATTR group KVM_DEV_ARM_VGIC_GRP_ADDR with
//     KVM_VGIC_V3_ADDR_TYPE_DIST = gic().dist_base and
//     KVM_VGIC_V3_ADDR_TYPE_REDIST = gic().redist_base (api.rst /
//     Documentation/virt/kvm/devices/arm-vgic-v3.rst), optionally
//     KVM_DEV_ARM_VGIC_GRP_NR_IRQS = gic().nr_irqs, then
//     KVM_DEV_ARM_VGIC_GRP_CTRL / KVM_DEV_ARM_VGIC_CTRL_INIT.
//   * Interrupts: MachineHost::set_irq_line(spi, level) gets the SPI number
//     (PL011: kUartSpi = 1). KVM_IRQ_LINE for an SPI with an in-kernel GIC
//     (api.rst 4.25): irq = (KVM_ARM_IRQ_TYPE_SPI << 24) | (32 + spi),
//     vcpu_index 0, level.
//   * Timer: nothing to do (KVM's in-kernel arch timer, PPIs in the DT).
//   * PSCI: handled in the kernel. SYSTEM_OFF arrives as KVM_EXIT_SYSTEM_EVENT
//     type KVM_SYSTEM_EVENT_SHUTDOWN: call MachineHost::request_poweroff
//     (exit status 0); KVM_SYSTEM_EVENT_RESET: request_reset.
//   * Serial input: serial_backend().input_fd() feeds uart().push_input()
//     under bus().with_lock(), throttled by uart().rx_room().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "hw-models/char_backend.h"
#include "hw-models/devices/pl011.h"
#include "hw-models/guest_ram.h"
#include "hw-models/io_bus.h"
#include "hw-models/loaders/arm64_boot_plan.h"
#include "hw-models/machine_host.h"
#include "hw-models/virt/virt_fdt.h"
#include "hw-models/virt/virt_firmware.h"
#include "hw-models/virt/virt_memmap.h"

namespace kvmdbg::hw {

struct VirtConfig {
    std::uint64_t ram_size = 128ull << 20;   ///< -m
    std::uint32_t cpus = 1;                  ///< -smp, 1..virt::kMaxCpus
    std::string kernel;                      ///< -kernel: ELF64 (EM_AARCH64) or arm64 Image
    std::string bios;                        ///< -bios: firmware in flash at 0 (virt_firmware.h)
    std::vector<std::string> firmware_dirs;  ///< -L: unused (virt loads no firmware file by name)
    std::string append;                      ///< -append: /chosen/bootargs
    std::string initrd;                      ///< -initrd
    std::string serial = "stdio";            ///< -serial: the PL011's backend
    std::string debugcon;                    ///< -debugcon: refused (an x86 port device)
    std::string dumpdtb;                     ///< if set, load_kernel() also writes the DTB here
    bool kernel_irqchip = true;              ///< in-kernel GICv3 (the accelerator's, not modelled here)
    bool dtb_randomness = true;              ///< -M virt,dtb-randomness: /chosen kaslr-seed and rng-seed
};

/// Where the accelerator puts the in-kernel GICv3.
struct VirtGicLayout {
    std::uint64_t dist_base = virt::kGicDistBase;
    std::uint64_t dist_size = virt::kGicDistSize;
    std::uint64_t redist_base = virt::kGicRedistBase;
    std::uint64_t redist_size = virt::kGicRedistSize;
    /// SPIs + 32 private INTIDs (a multiple of 32), for KVM_DEV_ARM_VGIC_GRP_NR_IRQS.
    std::uint32_t nr_irqs = 64;
};

class Virt {
public:
    static constexpr const char* kName = "virt";
    static constexpr std::uint64_t kMinRam = 2ull << 20;

    /// Builds RAM, the bus, the PL011 (SPI 1 through host.set_irq_line) and
    /// test-exit (host.request_exit). Errors: EINVAL RAM not a whole number
    /// of pages, below 2 MiB or above virt::kMaxRamSize, a vCPU count of 0
    /// or above virt::kMaxCpus; a serial backend that cannot be opened.
    static Result<std::unique_ptr<Virt>> create(const VirtConfig& config, Log& log, MachineHost& host);

    /// Loads config.kernel (and config.initrd), builds the device tree with
    /// config.append and the initrd range, writes it into RAM (and to
    /// config.dumpdtb if set) and returns the plan for the vCPUs. Errors
    /// carry the file name (arm64_loader.h); EINVAL without -kernel or
    /// -bios. With -bios: the device tree (with -append as bootargs) at
    /// the start of RAM and vCPU 0 at the flash's first instruction, x0 =
    /// the DTB's address; -kernel and -initrd are refused with it.
    Result<Arm64BootPlan> load_kernel();

    /// The -bios image in its flash bank, or null without -bios.
    const VirtFirmware* firmware() const { return firmware_ ? &*firmware_ : nullptr; }

    /// The DTB load_kernel() built (empty before).
    const std::vector<std::uint8_t>& dtb() const { return dtb_; }

    const VirtGicLayout& gic() const { return gic_; }

    /// Machine reset of the device models (bus lock taken). Main thread.
    void reset_devices();

    GuestRam& ram() { return ram_; }
    IoBus& bus() { return bus_; }
    Pl011& uart() { return *uart_; }
    CharBackend& serial_backend() { return *serial_backend_; }
    const VirtConfig& config() const { return config_; }

private:
    Virt(const VirtConfig& config, Log& log, MachineHost& host);
    Status build();

    VirtConfig config_;
    Log& log_;
    MachineHost& host_;
    GuestRam ram_;
    IoBus bus_;
    VirtGicLayout gic_;
    std::shared_ptr<CharBackend> serial_backend_;
    std::shared_ptr<Pl011> uart_;
    std::vector<std::uint8_t> dtb_;
    std::optional<VirtFirmware> firmware_;

    Result<Arm64BootPlan> load_firmware();
    /// The device tree's inputs from the configuration (the seeds fresh
    /// from getrandom unless dtb-randomness=off).
    virt::FdtConfig fdt_config() const;
    Status write_dtb(Arm64BootPlan& plan, const virt::FdtConfig& fdt);
};

}  // namespace kvmdbg::hw
