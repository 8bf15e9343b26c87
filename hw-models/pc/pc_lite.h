// PcLite: the `-M pc-lite` x86 machine, kvmdbg's default.
//
//   guest-physical map                      port map
//   0xffff_0000 .. 4 GiB   firmware ROM (64 KiB, read-only: a halting
//                          reset vector at 0xffff_fff0)
//   0x0000_0000 .. min(RAM, 3 GiB)  RAM     0x3f8-0x3ff  COM1 16550 UART (IRQ 4)
//   0xfec0_0000  IOAPIC   (in-kernel)       0xf4-0xf7    isa-debug-exit (default
//   0xfee0_0000  LAPIC    (in-kernel)                    place; -device moves it)
//   0x1_0000_0000 .. rest of RAM above 3 GiB 0x604, 0xb004 ACPI PM1a_CNT power-off
//                                           0x600-0x603  ACPI PM1a event block
//                                           0x608-0x60b  ACPI PM timer
//                                           0x60, 0x64   i8042 reset (no keyboard)
//                                           0xe9         isa-debugcon with -debugcon
//                                                        (-device moves it: 0x402)
//                                           0x70-0x71    CMOS RTC and NVRAM (no IRQ 8)
//                                           0x92         system control port A
//                                           0xe0-0xeb, 0x2000-0x2017, MMIO 0xff000000:
//                                                        pc-testdev, with -device
//                                           0xcf8-0xcff  PCI config mechanism #1:
//                                                        i440FX host bridge at 00:00.0
//                                           0x510-0x511  fw_cfg selector/data
//                                           0x514-0x51b  fw_cfg DMA address
//   PIC, PIT: in-kernel (kernel-irqchip=on, the default, as QEMU with KVM)
//
// Low memory after load_kernel(), as SeaBIOS leaves it for what kernels
// read: the BIOS data area at 0x400 (bios_data_area.h); the ACPI tables at
// 0xe0000 (acpi_tables.h: CPUs, IOAPIC, power-off, PM timer); the multiboot
// memory map reports QEMU + SeaBIOS's e820 (multiboot_loader.h).
//
// Owns guest RAM, the I/O bus and its devices. The kernel image is loaded by
// load_kernel(), which returns the plan for the vCPUs. What the machine needs
// from its owner (ending the process, raising an interrupt line) comes
// through MachineHost. Created and loaded on the main thread; the bus is
// then used from vCPU threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "hw-models/char_backend.h"
#include "hw-models/devices/acpi_pm1_event.h"
#include "hw-models/devices/cmos_rtc.h"
#include "hw-models/devices/fw_cfg.h"
#include "hw-models/devices/i440fx_host_bridge.h"
#include "hw-models/devices/port92.h"
#include "hw-models/devices/uart16550.h"
#include "hw-models/guest_ram.h"
#include "hw-models/io_bus.h"
#include "hw-models/loaders/x86_boot_plan.h"
#include "hw-models/machine_host.h"
#include "hw-models/pc/pc_firmware.h"

namespace kvmdbg::hw {

struct PcLiteConfig {
    std::uint64_t ram_size = 128ull << 20;
    std::uint32_t cpus = 1;
    bool kernel_irqchip = true;
    std::string kernel;                      ///< -kernel (this or bios is required)
    std::string bios;                        ///< -bios: firmware at the reset vector (pc_firmware.h)
    std::vector<std::string> firmware_dirs;  ///< -L (firmware_files.h)
    std::string append;                      ///< -append
    std::string initrd;                      ///< -initrd: multiboot modules or a Linux initrd
    std::string serial = "stdio";
    std::string debugcon;  ///< -debugcon SPEC ("" = none)
    std::uint64_t debugcon_iobase = 0xe9;
    bool pc_testdev = false;  ///< -device pc-testdev (pc_testdev.h)
    std::uint64_t debug_exit_iobase = 0xf4;
    std::uint64_t debug_exit_iosize = 4;
};

class PcLite {
public:
    static constexpr const char* kName = "pc-lite";
    static constexpr std::uint64_t kLowRamLimit = 3ull << 30;
    static constexpr std::uint64_t kHighRamBase = 4ull << 30;
    static constexpr std::uint16_t kCom1Port = 0x3f8;
    static constexpr std::uint32_t kCom1Irq = 4;
    /// The option ROM that boots -kernel under -bios (firmware_files.h).
    static constexpr const char* kLinuxBootRom = "linuxboot_dma.bin";

    /// Builds RAM, the bus and the devices. Errors: bad RAM size, a serial
    /// backend that cannot be opened, overlapping -device ranges.
    static Result<std::unique_ptr<PcLite>> create(const PcLiteConfig& config, Log& log, MachineHost& host);

    /// With -bios: copies the firmware's low part into RAM below 1 MiB and
    /// returns a plan that starts vCPU 0 at the reset vector; a -kernel
    /// (a bzImage only) with its -initrd and -append goes to the firmware
    /// through fw_cfg with QEMU's option ROM kLinuxBootRom
    /// (linux_firmware_handoff.h).
    /// Otherwise loads config.kernel into RAM (Linux bzImage, multiboot or ELF64; the
    /// ROM is reserved in a Linux kernel's e820 map), then fills the
    /// BIOS data area [0x400, 0x500) as SeaBIOS would (bios_data_area.h)
    /// and the ACPI tables at 0xe0000 (acpi_tables.h), each unless the
    /// kernel loaded anything there, and returns the vCPU plan.
    /// Errors carry the file name (see x86_kernel_loader.h).
    Result<X86BootPlan> load_kernel();

    /// The firmware ROM at the top of the 32-bit space (read-only memory:
    /// the accelerator maps it read-only, guest writes are dropped): the
    /// -bios image (pc_firmware.h), or without one kRomSize bytes at
    /// kRomBase holding a reset vector that halts.
    static constexpr std::uint64_t kRomBase = 0xffff0000;
    static constexpr std::uint64_t kRomSize = 0x10000;
    const MappedRegion& rom() const { return firmware_ ? firmware_->rom() : rom_; }
    std::uint64_t rom_base() const { return firmware_ ? firmware_->rom_base() : kRomBase; }

    /// Machine reset of the device models (bus lock taken): COM1, the
    /// port 0x92 fast-reset bit, the fw_cfg selector, the ACPI PM1 enable
    /// bits and the RTC's interrupt enables and shutdown byte, as QEMU
    /// resets them. Main thread.
    void reset_devices();

    GuestRam& ram() { return ram_; }
    IoBus& bus() { return bus_; }
    Uart16550& com1() { return *com1_; }
    /// The fw_cfg device, filled with the CPU count, RAM size and e820 map
    /// (fw_cfg.h); the kernel items are for the machine to add.
    FwCfg& fw_cfg() { return *fw_cfg_; }
    /// The backend of COM1 (its input_fd() feeds com1().push_input()).
    CharBackend& serial_backend() { return *serial_backend_; }
    const PcLiteConfig& config() const { return config_; }

private:
    PcLite(const PcLiteConfig& config, Log& log, MachineHost& host);
    Status build();
    Status build_fw_cfg();
    Status build_cmos();
    Status build_acpi_pm();
    Status build_debugcon();
    Status build_pci();
    Status build_pc_testdev();
    Status write_acpi_tables(const X86BootPlan& plan);
    Result<X86BootPlan> load_firmware();
    Status hand_kernel_to_firmware();
    Status add_firmware_acpi_tables();

    PcLiteConfig config_;
    Log& log_;
    MachineHost& host_;
    GuestRam ram_;
    IoBus bus_;
    std::shared_ptr<CharBackend> serial_backend_;
    std::shared_ptr<Uart16550> com1_;
    std::shared_ptr<Port92> port92_;
    std::shared_ptr<FwCfg> fw_cfg_;
    std::shared_ptr<AcpiPm1Event> pm1_event_;
    std::shared_ptr<I440fxHostBridge> host_bridge_;
    std::shared_ptr<CmosRtc> cmos_;
    MappedRegion rom_;
    std::optional<PcFirmware> firmware_;
};

}  // namespace kvmdbg::hw
