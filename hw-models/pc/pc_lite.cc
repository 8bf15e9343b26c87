#include "hw-models/pc/pc_lite.h"

#include <algorithm>

#include "hw-models/devices/acpi_poweroff.h"
#include "hw-models/devices/isa_debug_exit.h"
#include "hw-models/loaders/x86_kernel_loader.h"

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

    auto backend = open_char_backend(config_.serial);
    if (!backend) {
        return backend.error();
    }
    serial_backend_ = std::move(backend).value();
    MachineHost& host = host_;
    com1_ = std::make_shared<Uart16550>(serial_backend_,
                                        [&host](bool level) { host.set_irq_line(kCom1Irq, level); });
    if (auto s = bus_.map(AddressSpace::pio, kCom1Port, 8, "COM1", com1_); !s) {
        return s;
    }
    auto debug_exit = std::make_shared<IsaDebugExit>([&host](int status) {
        host.request_exit(status, "isa-debug-exit");
    });
    if (auto s = bus_.map(AddressSpace::pio, config_.debug_exit_iobase, config_.debug_exit_iosize,
                          "isa-debug-exit", debug_exit);
        !s) {
        return s;
    }
    auto poweroff = std::make_shared<AcpiPowerOff>([&host] { host.request_exit(0, "ACPI power-off"); });
    for (std::uint64_t port : {AcpiPowerOff::kQemuPm1aCntPort, AcpiPowerOff::kBochsPm1aCntPort}) {
        if (auto s = bus_.map(AddressSpace::pio, port, AcpiPowerOff::kRegisterSize, "acpi-poweroff", poweroff);
            !s) {
            return s;
        }
    }
    return ok_status();
}

Result<X86BootPlan> PcLite::load_kernel() {
    if (config_.kernel.empty()) {
        return make_error(EINVAL, "no kernel given: pc-lite needs -kernel FILE");
    }
    X86KernelOptions options;
    options.kernel_path = config_.kernel;
    options.append = config_.append;
    options.initrd = config_.initrd;
    auto plan = load_x86_kernel(options, ram_, log_);
    if (!plan) {
        return plan.error();
    }
    if (auto s = plan->check_vcpu_count(config_.cpus); !s) {
        return s.error();
    }
    return plan;
}

}  // namespace kvmdbg::hw
