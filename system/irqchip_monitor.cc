#include "system/irqchip_monitor.h"

#include "arch/x86/ioapic_dump.h"
#include "arch/x86/lapic_dump.h"
#include "arch/x86/pic_dump.h"

namespace kvmdbg::system {

namespace {

std::string failed(const char* command, const Error& error) {
    return std::string(command) + ": " + error.message + "\n";
}

}  // namespace

std::string monitor_info_pic(accel::Accelerator& accel) {
    auto master = accel.get_x86_pic(false);
    if (!master) {
        return failed("info pic", master.error());
    }
    auto slave = accel.get_x86_pic(true);
    if (!slave) {
        return failed("info pic", slave.error());
    }
    return arch::x86::format_pic_state(*master, *slave);
}

std::string monitor_info_ioapic(accel::Accelerator& accel) {
    auto ioapic = accel.get_x86_ioapic();
    return ioapic ? arch::x86::format_ioapic_state(*ioapic) : failed("info ioapic", ioapic.error());
}

std::string monitor_info_lapic(accel::Accelerator& accel, std::uint64_t cpu, std::uint32_t cpus) {
    if (cpu >= cpus) {
        return "info lapic: no vCPU " + std::to_string(cpu) + " (vCPUs 0-" + std::to_string(cpus - 1) + ")\n";
    }
    auto lapic = accel.get_x86_lapic(static_cast<std::uint32_t>(cpu));
    if (!lapic) {
        return failed("info lapic", lapic.error());
    }
    return "CPU#" + std::to_string(cpu) + " " + arch::x86::format_lapic_state(*lapic);
}

}  // namespace kvmdbg::system
