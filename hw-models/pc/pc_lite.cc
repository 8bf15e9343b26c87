#include "hw-models/pc/pc_lite.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "hw-models/devices/acpi_pm1_event.h"
#include "hw-models/devices/acpi_pm_timer.h"
#include "hw-models/devices/acpi_poweroff.h"
#include "hw-models/devices/bios_linker_loader.h"
#include "hw-models/devices/i440fx_host_bridge.h"
#include "hw-models/devices/i8042_reset.h"
#include "hw-models/devices/isa_debug_exit.h"
#include "hw-models/devices/isa_debugcon.h"
#include "hw-models/devices/pc_testdev.h"
#include "hw-models/devices/pci_host_conf1.h"
#include "hw-models/devices/port92.h"
#include "hw-models/firmware_files.h"
#include "hw-models/loaders/linux_boot_header.h"
#include "hw-models/loaders/x86_kernel_loader.h"
#include "hw-models/pc/acpi_tables.h"
#include "hw-models/pc/bios_data_area.h"
#include "hw-models/pc/linux_firmware_handoff.h"

namespace kvmdbg::hw {

namespace {

constexpr std::uint64_t kMinRam = 2ull << 20;

}  // namespace

PcLite::PcLite(const PcLiteConfig& config, Log& log, MachineHost& host)
    : config_(config), log_(log), host_(host), bus_(log) {}

Result<std::unique_ptr<PcLite>> PcLite::create(const PcLiteConfig& config, Log& log, MachineHost& host) {
    std::unique_ptr<PcLite> machine(new PcLite(config, log, host));
    if (auto s = machine->build(); !s) {
        return s.error();
    }
    return machine;
}

Status PcLite::build() {
    std::uint64_t size = config_.ram_size;
    if (size < kMinRam || (size & 0xfff) != 0) {
        return make_error(EINVAL, "pc-lite needs at least 2 MiB of RAM in whole pages");
    }
    std::uint64_t low = std::min(size, kLowRamLimit);
    if (auto s = ram_.add_region(0, low); !s) {
        return s;
    }
    if (size > low) {
        if (auto s = ram_.add_region(kHighRamBase, size - low); !s) {
            return s;
        }
    }

    if (!config_.bios.empty()) {
        auto firmware = PcFirmware::load(config_.bios);
        if (!firmware) {
            return firmware.error();
        }
        firmware_.emplace(std::move(firmware).value());
    }
    // Without -bios kvmdbg boots kernels directly, so the ROM only holds a
    // reset vector that halts (cli; hlt; jmp .-2), for a vCPU that reaches it.
    auto rom = MappedRegion::anonymous(kRomSize);
    if (!rom) {
        return rom.error();
    }
    rom_ = std::move(rom).value();
    const std::uint8_t reset_vector[] = {0xfa, 0xf4, 0xeb, 0xfd};
    std::memcpy(rom_.data() + kRomSize - 16, reset_vector, sizeof reset_vector);

    auto backend = open_char_backend(config_.serial);
    if (!backend) {
        return backend.error();
    }
    serial_backend_ = std::move(backend).value();
    MachineHost& host = host_;
    com1_ = std::make_shared<Uart16550>(serial_backend_, [&host](bool level) { host.set_irq_line(kCom1Irq, level); });
    if (auto s = bus_.map(AddressSpace::pio, kCom1Port, 8, "COM1", com1_); !s) {
        return s;
    }
    auto debug_exit = std::make_shared<IsaDebugExit>(
        [&host](int status) { host.request_exit(status, "isa-debug-exit"); });
    if (auto s = bus_.map(AddressSpace::pio, config_.debug_exit_iobase, config_.debug_exit_iosize, "isa-debug-exit",
                          debug_exit);
        !s) {
        return s;
    }
    auto poweroff = std::make_shared<AcpiPowerOff>([&host] { host.request_poweroff("ACPI power-off"); });
    for (std::uint64_t port : {AcpiPowerOff::kQemuPm1aCntPort, AcpiPowerOff::kBochsPm1aCntPort}) {
        if (auto s = bus_.map(AddressSpace::pio, port, AcpiPowerOff::kRegisterSize, "acpi-poweroff", poweroff); !s) {
            return s;
        }
    }
    if (auto s = build_acpi_pm(); !s) {
        return s;
    }
    if (auto s = build_debugcon(); !s) {
        return s;
    }
    if (auto s = build_pci(); !s) {
        return s;
    }
    if (auto s = build_pc_testdev(); !s) {
        return s;
    }
    auto on_reset = [&host](const std::string& reason) { host.request_reset(reason); };
    for (auto [port, which] : {std::pair{I8042Reset::kDataPort, I8042Reset::Port::data},
                               std::pair{I8042Reset::kCommandPort, I8042Reset::Port::command}}) {
        if (auto s = bus_.map(AddressSpace::pio, port, I8042Reset::kPortSize, "i8042",
                              std::make_shared<I8042Reset>(which, on_reset));
            !s) {
            return s;
        }
    }
    if (auto s = bus_.map(AddressSpace::pio, Port92::kPort, Port92::kPortSize, "port92",
                          port92_ = std::make_shared<Port92>(on_reset));
        !s) {
        return s;
    }
    if (auto s = build_cmos(); !s) {
        return s;
    }
    return build_fw_cfg();
}

// The ACPI PM registers the FADT points at (acpi_tables.h): PM1 event block
// and PM timer beside the PM1a control block mapped above.
Status PcLite::build_acpi_pm() {
    const AcpiPlatform platform;
    if (auto s = bus_.map(AddressSpace::pio, platform.pm_base + kAcpiPm1EventOffset, kAcpiPm1EventLength,
                          "acpi-pm1-event", pm1_event_ = std::make_shared<AcpiPm1Event>());
        !s) {
        return s;
    }
    return bus_.map(AddressSpace::pio, platform.pm_base + kAcpiPmTimerOffset, kAcpiPmTimerLength, "acpi-pm-timer",
                    std::make_shared<AcpiPmTimer>());
}

// PCI bus 0 behind configuration mechanism #1, with the i440FX host bridge
// at 00:00.0 (what SeaBIOS needs to find to run; Linux sees a host bridge).
Status PcLite::build_pci() {
    auto conf1 = std::make_shared<PciHostConf1>();
    host_bridge_ = std::make_shared<I440fxHostBridge>();
    if (auto s = conf1->attach(I440fxHostBridge::kDevfn, host_bridge_); !s) {
        return s;
    }
    return bus_.map(AddressSpace::pio, PciHostConf1::kPort, PciHostConf1::kPortSize, "pci-conf1", conf1);
}

// kvm-unit-tests' test device, with -device pc-testdev only.
Status PcLite::build_pc_testdev() {
    if (!config_.pc_testdev) {
        return ok_status();
    }
    MachineHost& host = host_;
    PcTestdev dev([&host](std::uint32_t irq, bool level) { host.set_irq_line(irq, level); });
    const struct {
        AddressSpace space;
        std::uint64_t base, size;
        const char* name;
        std::shared_ptr<IoDevice> device;
    } regions[] = {
        {AddressSpace::pio, PcTestdev::kIoportBase, PcTestdev::kRegisterSize, "pc-testdev-ioport", dev.ioport()},
        {AddressSpace::pio, PcTestdev::kFlushBase, PcTestdev::kRegisterSize, "pc-testdev-flush", dev.flush()},
        {AddressSpace::pio, PcTestdev::kIoportByteBase, PcTestdev::kRegisterSize, "pc-testdev-ioport-byte",
         dev.ioport_byte()},
        {AddressSpace::pio, PcTestdev::kIrqBase, PcTestdev::kIrqCount, "pc-testdev-irq", dev.irq()},
        {AddressSpace::mmio, PcTestdev::kIomemBase, PcTestdev::kIomemSize, "pc-testdev-iomem", dev.iomem()},
    };
    for (const auto& r : regions) {
        if (auto s = bus_.map(r.space, r.base, r.size, r.name, r.device); !s) {
            return s;
        }
    }
    return ok_status();
}

// The debug console, with -debugcon only (QEMU: isa-debugcon at 0xe9).
Status PcLite::build_debugcon() {
    if (config_.debugcon.empty()) {
        return ok_status();
    }
    auto backend = open_char_backend(config_.debugcon);
    if (!backend) {
        return backend.error();
    }
    std::shared_ptr<CharBackend> shared = std::move(backend).value();
    return bus_.map(AddressSpace::pio, config_.debugcon_iobase, IsaDebugcon::kPortSize, "isa-debugcon",
                    std::make_shared<IsaDebugcon>(shared));
}

// fw_cfg, as QEMU's pc machine always has it: the CPU count and the RAM
// layout built above.
Status PcLite::build_fw_cfg() {
    fw_cfg_ = std::make_shared<FwCfg>(ram_);
    FwCfgMachineInfo info;
    info.cpus = static_cast<std::uint16_t>(config_.cpus);
    info.max_cpus = info.cpus;
    info.ram_size = ram_.total_size();
    for (const auto& region : ram_.regions()) {
        info.e820.push_back(E820Entry{region.gpa, region.memory.size(), E820Type::ram});
    }
    if (auto s = fw_cfg_->set_machine(info); !s) {
        return s;
    }
    // SeaBIOS's serial console: pc-lite has no VGA, so firmware text goes to
    // COM1 (SeaBIOS sercon reads the port from this file, le16).
    if (auto s = fw_cfg_->items().add_file("etc/sercon-port", {kCom1Port & 0xff, kCom1Port >> 8}); !s) {
        return s;
    }
    if (auto s = add_firmware_acpi_tables(); !s) {
        return s;
    }
    if (auto s = bus_.map(AddressSpace::pio, FwCfg::kIoPort, FwCfg::kIoPortSize, "fw_cfg",
                          std::make_shared<FwCfgIoPort>(fw_cfg_));
        !s) {
        return s;
    }
    return bus_.map(AddressSpace::pio, FwCfg::kDmaPort, FwCfg::kDmaPortSize, "fw_cfg-dma",
                    std::make_shared<FwCfgDmaPort>(fw_cfg_));
}

// The ACPI tables once more, for firmware (-bios): SeaBIOS places and links
// them itself through fw_cfg's BIOS linker/loader, as QEMU hands them over
// (bios_linker_loader.h): the RSDP in the F-segment where kernels scan for
// it, the rest in high RAM that the firmware reserves in its e820 map.
Status PcLite::add_firmware_acpi_tables() {
    static constexpr const char* kRsdpFile = "etc/acpi/rsdp";
    static constexpr const char* kTablesFile = "etc/acpi/tables";
    AcpiPlatform platform;
    platform.cpus = config_.cpus;
    auto acpi = build_acpi_tables_for_firmware(platform);
    BiosLinkerLoader loader;
    Status s = loader.allocate(kTablesFile, 64, BiosLinkerLoader::Zone::high);
    s = s ? loader.allocate(kRsdpFile, 16, BiosLinkerLoader::Zone::fseg) : s;
    for (const auto& [file, pointers] :
         {std::pair{kRsdpFile, &acpi.rsdp_pointers}, std::pair{kTablesFile, &acpi.table_pointers}}) {
        for (const auto& f : *pointers) {
            s = s ? loader.add_pointer(file, kTablesFile, f.offset, f.size) : s;
        }
    }
    for (const auto& [file, checksums] :
         {std::pair{kTablesFile, &acpi.table_checksums}, std::pair{kRsdpFile, &acpi.rsdp_checksums}}) {
        for (const auto& c : *checksums) {
            s = s ? loader.add_checksum(file, c.offset, c.start, c.length) : s;
        }
    }
    s = s ? fw_cfg_->items().add_file(kRsdpFile, std::move(acpi.rsdp)) : s;
    s = s ? fw_cfg_->items().add_file(kTablesFile, std::move(acpi.tables)) : s;
    return s ? fw_cfg_->items().add_file(BiosLinkerLoader::kFileName, loader.bytes()) : s;
}

// The MC146818 RTC and its NVRAM, holding the RAM layout built above and
// the CPU count for firmware (cmos_rtc.h).
Status PcLite::build_cmos() {
    static_assert(CmosRtc::kBelow4gLimit == kLowRamLimit, "the CMOS memory bytes follow pc-lite's RAM layout");
    cmos_ = std::make_shared<CmosRtc>(CmosConfig{ram_.total_size(), config_.cpus});
    return bus_.map(AddressSpace::pio, CmosRtc::kPort, CmosRtc::kPortSize, "cmos-rtc", cmos_);
}

void PcLite::reset_devices() {
    bus_.with_lock([this] {
        com1_->reset();
        port92_->reset();
        fw_cfg_->reset();
        pm1_event_->reset();
        cmos_->reset();
        host_bridge_->reset();
    });
}

Result<X86BootPlan> PcLite::load_firmware() {
    if (!config_.kernel.empty()) {
        if (auto s = hand_kernel_to_firmware(); !s) {
            return s.error();
        }
    } else if (!config_.initrd.empty() || !config_.append.empty()) {
        return make_error(EINVAL, "-initrd and -append need -kernel");
    }
    auto low = firmware_->isa_bios();
    if (auto s = ram_.write(firmware_->isa_bios_base(), low); !s) {
        return s.error();
    }
    X86BootPlan plan;
    plan.protocol = "firmware";
    plan.bsp_state = arch::x86::reset_state(true);
    plan.entry = PcFirmware::k4GiB - 16;
    plan.all_vcpus_start_at_entry = false;
    plan.loaded.push_back({firmware_->isa_bios_base(), PcFirmware::k1MiB});
    log_.write(LogCategory::loader, "pc-lite: firmware %s: 0x%zx bytes at 0x%llx, its last 0x%zx at 0x%llx",
               config_.bios.c_str(), firmware_->rom().size(), static_cast<unsigned long long>(firmware_->rom_base()),
               low.size(), static_cast<unsigned long long>(firmware_->isa_bios_base()));
    return plan;
}

// -bios with -kernel: the kernel goes to the firmware through fw_cfg, with
// QEMU's option ROM that boots it (linux_firmware_handoff.h). The ROM is
// listed first in "bootorder" (SeaBIOS's device path of a fw_cfg ROM file),
// so the firmware boots it before any disk, as QEMU's bootindex 0.
Status PcLite::hand_kernel_to_firmware() {
    auto kernel = read_image_file(config_.kernel);
    if (!kernel) {
        return kernel.error();
    }
    if (!has_linux_boot_flag(kernel->bytes) || !has_linux_header_magic(kernel->bytes)) {
        return make_error(ENOTSUP, config_.kernel +
                                       ": with -bios only a Linux bzImage is handed to the firmware; boot multiboot "
                                       "and ELF kernels without -bios");
    }
    LinuxFirmwareHandoff handoff;
    handoff.cmdline = config_.append;
    handoff.initrd_path = config_.initrd;
    handoff.low_ram_end = std::min(config_.ram_size, kLowRamLimit);
    auto items = linux_firmware_handoff(*kernel, handoff);
    if (!items) {
        return items.error();
    }
    auto rom_path = find_firmware_file(kLinuxBootRom, "QEMU's Linux boot option ROM, Debian package qemu-system-data",
                                       config_.firmware_dirs);
    if (!rom_path) {
        return make_error(rom_path.error().code, "-kernel with -bios: " + rom_path.error().message);
    }
    auto rom = read_image_file(*rom_path);
    if (!rom) {
        return rom.error();
    }
    if (auto s = fw_cfg_->set_kernel(*items); !s) {
        return s;
    }
    const std::string rom_file = std::string("genroms/") + kLinuxBootRom;
    if (auto s = fw_cfg_->items().add_file(rom_file, std::move(rom->bytes)); !s) {
        return s;
    }
    std::string bootorder = "/rom@" + rom_file;
    if (auto s = fw_cfg_->items().add_file("bootorder", {bootorder.begin(), bootorder.end() + 1}); !s) {
        return s;
    }
    log_.write(LogCategory::loader,
               "pc-lite: Linux %s for the firmware through fw_cfg: setup 0x%zx bytes, kernel 0x%zx bytes, "
               "initrd 0x%zx bytes at 0x%x, option ROM %s",
               config_.kernel.c_str(), items->setup.size(), items->kernel.size(), items->initrd.size(),
               items->initrd_addr, rom_path->c_str());
    return ok_status();
}

Result<X86BootPlan> PcLite::load_kernel() {
    if (firmware_) {
        return load_firmware();
    }
    if (config_.kernel.empty()) {
        return make_error(EINVAL, "no kernel given: pc-lite needs -kernel FILE or -bios FILE");
    }
    X86KernelOptions options;
    options.kernel_path = config_.kernel;
    options.append = config_.append;
    options.initrd = config_.initrd;
    options.reserved = {{kRomBase, kRomBase + kRomSize}};
    auto plan = load_x86_kernel(options, ram_, log_);
    if (!plan) {
        return plan.error();
    }
    if (auto s = plan->check_vcpu_count(config_.cpus); !s) {
        return s.error();
    }
    // What SeaBIOS would have left there; the kernel's own bytes win.
    if (plan->loaded_over(kBiosDataAreaBase, kBiosDataAreaBase + kBiosDataAreaSize)) {
        log_.write(LogCategory::loader,
                   "pc-lite: the kernel loaded over the BIOS data area "
                   "[0x400, 0x500): left as loaded");
    } else {
        BiosDataAreaConfig bda;
        bda.com1_port = kCom1Port;
        auto bytes = bios_data_area(bda);
        if (auto s = ram_.write(kBiosDataAreaBase, bytes); !s) {
            return s.error();
        }
        log_.write(LogCategory::loader, "pc-lite: BIOS data area: COM1 0x%x, EBDA segment 0x%x, base memory %u KiB",
                   bda.com1_port, bda.ebda_segment, bda.base_memory_kib);
    }
    if (auto s = write_acpi_tables(*plan); !s) {
        return s.error();
    }
    return plan;
}

Status PcLite::write_acpi_tables(const X86BootPlan& plan) {
    AcpiPlatform platform;
    platform.cpus = config_.cpus;
    auto tables = build_acpi_tables(platform, kAcpiTablesGpa);
    if (plan.loaded_over(kAcpiTablesGpa, kAcpiTablesGpa + tables.size())) {
        log_.write(LogCategory::loader, "pc-lite: the kernel loaded over the ACPI tables' place 0x%llx: no ACPI tables",
                   static_cast<unsigned long long>(kAcpiTablesGpa));
        return ok_status();
    }
    if (auto s = ram_.write(kAcpiTablesGpa, tables); !s) {
        return s;
    }
    log_.write(LogCategory::loader,
               "pc-lite: ACPI tables (RSDP, RSDT, XSDT, FADT, FACS, DSDT, MADT for %u CPUs), "
               "0x%zx bytes at 0x%llx",
               config_.cpus, tables.size(), static_cast<unsigned long long>(kAcpiTablesGpa));
    return ok_status();
}

}  // namespace kvmdbg::hw
