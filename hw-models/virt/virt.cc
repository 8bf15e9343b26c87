#include "hw-models/virt/virt.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "common/unique_fd.h"
#include "hw-models/devices/test_exit.h"
#include "hw-models/loaders/arm64_loader.h"
#include "hw-models/virt/virt_fdt.h"

namespace kvmdbg::hw {

namespace {

Status write_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    int raw = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (raw < 0) {
        int e = errno;
        return make_error(e, path + ": cannot create: " + std::strerror(e));
    }
    UniqueFd fd(raw);
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            int e = errno;
            return make_error(e, path + ": write failed: " + std::strerror(e));
        }
        done += static_cast<std::size_t>(n);
    }
    return ok_status();
}

}  // namespace

Virt::Virt(const VirtConfig& config, Log& log, MachineHost& host)
    : config_(config), log_(log), host_(host), bus_(log) {}

Result<std::unique_ptr<Virt>> Virt::create(const VirtConfig& config, Log& log, MachineHost& host) {
    std::unique_ptr<Virt> machine(new Virt(config, log, host));
    if (auto s = machine->build(); !s) {
        return s.error();
    }
    return machine;
}

Status Virt::build() {
    std::uint64_t size = config_.ram_size;
    if (size < kMinRam || (size & 0xfff) != 0 || size > virt::kMaxRamSize) {
        return make_error(EINVAL, "virt needs 2 MiB to 255 GiB of RAM in whole pages");
    }
    if (config_.cpus == 0 || config_.cpus > virt::kMaxCpus) {
        return make_error(EINVAL, "virt takes 1 to " + std::to_string(virt::kMaxCpus) +
                                      " vCPUs (GICv3 redistributor region), not " + std::to_string(config_.cpus));
    }
    if (auto s = ram_.add_region(virt::kRamBase, size); !s) {
        return s;
    }
    if (!config_.bios.empty()) {
        auto firmware = VirtFirmware::load(config_.bios);
        if (!firmware) {
            return firmware.error();
        }
        firmware_.emplace(std::move(firmware).value());
    }
    auto backend = open_char_backend(config_.serial);
    if (!backend) {
        return backend.error();
    }
    serial_backend_ = std::move(backend).value();
    MachineHost& host = host_;
    uart_ = std::make_shared<Pl011>(serial_backend_, [&host](bool level) { host.set_irq_line(virt::kUartSpi, level); });
    if (auto s = bus_.map(AddressSpace::mmio, virt::kUartBase, virt::kUartSize, "pl011", uart_); !s) {
        return s;
    }
    auto test_exit = std::make_shared<TestExit>([&host](int status) { host.request_exit(status, "test-exit"); });
    if (auto s = bus_.map(AddressSpace::mmio, virt::kTestExitBase, virt::kTestExitSize, "test-exit", test_exit); !s) {
        return s;
    }
    return ok_status();
}

void Virt::reset_devices() {
    bus_.with_lock([this] { uart_->reset(); });
}

Result<Arm64BootPlan> Virt::load_kernel() {
    if (!config_.debugcon.empty()) {
        return make_error(ENOTSUP, "-debugcon: the debug console is an x86 I/O port device; virt has none");
    }
    if (firmware_) {
        return load_firmware();
    }
    if (config_.kernel.empty()) {
        return make_error(EINVAL,
                          "no kernel given: virt needs -kernel FILE (AArch64 ELF64 or arm64 Image) or -bios FILE");
    }
    auto kernel = read_image_file(config_.kernel);
    if (!kernel) {
        return kernel.error();
    }
    std::optional<ImageFile> initrd;
    if (!config_.initrd.empty()) {
        auto file = read_image_file(config_.initrd, EmptyImage::allow);
        if (!file) {
            return file.error();
        }
        initrd = std::move(file).value();
    }
    auto plan = load_arm64_kernel(*kernel, initrd ? &*initrd : nullptr, ram_, log_);
    if (!plan) {
        return plan.error();
    }
    virt::FdtConfig fdt = fdt_config();
    if (initrd) {
        fdt.initrd_start = plan->initrd.start;
        fdt.initrd_end = plan->initrd.end;
    }
    if (auto s = write_dtb(*plan, fdt); !s) {
        return s.error();
    }
    return plan;
}

// -bios: nothing to load but the device tree, at the start of RAM where
// firmware looks for it (virt_firmware.h); vCPU 0 starts at the flash's
// first byte, the others wait for PSCI CPU_ON as with a kernel.
Result<Arm64BootPlan> Virt::load_firmware() {
    if (!config_.kernel.empty() || !config_.initrd.empty()) {
        return make_error(ENOTSUP,
                          "-kernel/-initrd with -bios: virt does not hand kernels to firmware (U-Boot "
                          "loads them from its own devices); give one or the other");
    }
    Arm64BootPlan plan;
    plan.entry = virt::kFlashBase;
    plan.dtb_addr = virt::kRamBase;
    virt::FdtConfig fdt = fdt_config();
    if (auto s = write_dtb(plan, fdt); !s) {
        return s.error();
    }
    log_.write(LogCategory::loader, "virt: firmware %s: 0x%llx bytes in flash at 0x0, DTB at 0x%llx",
               config_.bios.c_str(), static_cast<unsigned long long>(firmware_->image_size()),
               static_cast<unsigned long long>(plan.dtb_addr));
    return plan;
}

virt::FdtConfig Virt::fdt_config() const {
    virt::FdtConfig fdt;
    fdt.ram_size = config_.ram_size;
    fdt.cpus = config_.cpus;
    fdt.bootargs = config_.append;
    if (config_.dtb_randomness) {
        if (auto s = virt::fill_random_seeds(fdt); !s) {
            log_.write(LogCategory::loader, "virt: no random seeds in the device tree: %s", s.error().message.c_str());
        }
    }
    return fdt;
}

Status Virt::write_dtb(Arm64BootPlan& plan, const virt::FdtConfig& fdt) {
    auto dtb = virt::build_virt_fdt(fdt);
    if (!dtb) {
        return dtb.error();
    }
    dtb_ = std::move(dtb).value();
    if (auto s = place_arm64_dtb(plan, dtb_, ram_, log_); !s) {
        return s;
    }
    if (!config_.dumpdtb.empty()) {
        return write_file(config_.dumpdtb, dtb_);
    }
    return ok_status();
}

}  // namespace kvmdbg::hw
