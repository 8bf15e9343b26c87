#include "accel/accelerator.h"

#include <cstring>

#include "accel/plugin_abi_arm64.h"
#include "accel/plugin_abi_x86.h"

namespace kvmdbg::accel {

std::uint32_t cpu_state_size(KvmdbgArch arch) {
    switch (arch) {
    case KVMDBG_ARCH_X86_64: return KVMDBG_X86_64_STATE_SIZE;
    case KVMDBG_ARCH_ARM64: return KVMDBG_ARM64_STATE_SIZE;
    }
    return 0;
}

int Accelerator::host_pio(void* opaque, uint32_t cpu, uint16_t port, uint8_t* data, uint32_t size, int is_write) {
    auto* host = static_cast<AccelHost*>(opaque);
    return host->pio(cpu, port, data, size, is_write != 0);
}

int Accelerator::host_mmio(void* opaque, uint32_t cpu, uint64_t gpa, uint8_t* data, uint32_t size, int is_write) {
    auto* host = static_cast<AccelHost*>(opaque);
    return host->mmio(cpu, gpa, data, size, is_write != 0);
}

void Accelerator::host_event(void* opaque, const KvmdbgEvent* event) { static_cast<AccelHost*>(opaque)->event(*event); }

int Accelerator::host_debug_stop(void* opaque, uint32_t cpu, const KvmdbgDebugStop* stop) {
    return static_cast<AccelHost*>(opaque)->wants_stop(cpu, *stop) ? KVMDBG_STOP_REPORT : KVMDBG_STOP_PASS;
}

Result<std::unique_ptr<Accelerator>> Accelerator::create(AccelPlugin plugin, const AccelConfig& config,
                                                         AccelHost& host) {
    if (cpu_state_size(config.arch) == 0) {
        return make_error(EINVAL,
                          "the accelerator plugin ABI has no vCPU state layout for ISA " + std::to_string(config.arch));
    }
    KvmdbgVmConfig c{};
    c.arch = config.arch;
    c.kernel_irqchip = config.kernel_irqchip ? 1 : 0;
    c.device_path = config.device_path.c_str();
    c.gic_dist_base = config.gic_dist_base;
    c.gic_redist_base = config.gic_redist_base;
    c.gic_nr_irqs = config.gic_nr_irqs;
    KvmdbgHostCallbacks callbacks{};
    callbacks.opaque = &host;
    callbacks.pio = host_pio;
    callbacks.mmio = host_mmio;
    callbacks.event = host_event;
    callbacks.debug_stop = host_debug_stop;
    char err[512] = "";
    KvmdbgAccel* instance = plugin.ops->create(&c, &callbacks, err, sizeof err);
    if (instance == nullptr) {
        return make_error(EIO, err[0] != '\0' ? err : "accelerator could not create a VM");
    }
    return std::unique_ptr<Accelerator>(new Accelerator(std::move(plugin), instance, config.arch));
}

Accelerator::Accelerator(AccelPlugin plugin, KvmdbgAccel* instance, KvmdbgArch arch)
    : plugin_(std::move(plugin)), instance_(instance), arch_(arch) {}

Accelerator::~Accelerator() {
    if (instance_ != nullptr) {
        plugin_.ops->destroy(instance_);
    }
}

Status Accelerator::check(int rc, const char* op) {
    if (rc >= 0) {
        return ok_status();
    }
    const char* msg = plugin_.ops->last_error(instance_);
    std::string text = msg != nullptr && msg[0] != '\0' ? msg : std::string(op) + ": " + std::strerror(-rc);
    return make_error(-rc, text);
}

Status Accelerator::missing(const char* op) const {
    return make_error(ENOSYS, std::string("accelerator '") + plugin_.ops->name + "' does not implement " + op);
}

Status Accelerator::map_ram(std::uint64_t gpa, std::uint64_t size, void* host, bool read_only) {
    return check(plugin_.ops->map_ram(instance_, gpa, size, host, read_only ? 1 : 0), "map_ram");
}

Status Accelerator::create_vcpus(std::uint32_t count) {
    return check(plugin_.ops->create_vcpus(instance_, count), "create_vcpus");
}

Result<std::vector<std::uint8_t>> Accelerator::get_state(std::uint32_t cpu) {
    std::vector<std::uint8_t> state(state_size());
    if (auto s = read_state(cpu, arch_, state.data(), static_cast<std::uint32_t>(state.size())); !s) {
        return s.error();
    }
    return state;
}

Status Accelerator::set_state(std::uint32_t cpu, std::span<const std::uint8_t> state) {
    return write_state(cpu, arch_, state.data(), static_cast<std::uint32_t>(state.size()));
}

Status Accelerator::read_state(std::uint32_t cpu, KvmdbgArch layout, void* out, std::uint32_t size) {
    return check(plugin_.ops->get_cpu_state(instance_, cpu, layout, out, size), "get_cpu_state");
}

Status Accelerator::write_state(std::uint32_t cpu, KvmdbgArch layout, const void* in, std::uint32_t size) {
    return check(plugin_.ops->set_cpu_state(instance_, cpu, layout, in, size), "set_cpu_state");
}

Result<KvmdbgX86State> Accelerator::get_x86_state(std::uint32_t cpu) {
    KvmdbgX86State st{};
    if (auto s = read_state(cpu, KVMDBG_ARCH_X86_64, &st, sizeof st); !s) {
        return s.error();
    }
    return st;
}

Status Accelerator::set_x86_state(std::uint32_t cpu, const KvmdbgX86State& state) {
    return write_state(cpu, KVMDBG_ARCH_X86_64, &state, sizeof state);
}

Result<KvmdbgArm64State> Accelerator::get_arm64_state(std::uint32_t cpu) {
    KvmdbgArm64State st{};
    if (auto s = read_state(cpu, KVMDBG_ARCH_ARM64, &st, sizeof st); !s) {
        return s.error();
    }
    return st;
}

Status Accelerator::set_arm64_state(std::uint32_t cpu, const KvmdbgArm64State& state) {
    return write_state(cpu, KVMDBG_ARCH_ARM64, &state, sizeof state);
}

Status Accelerator::set_mp_runnable(std::uint32_t cpu) {
    return check(plugin_.ops->set_mp_runnable(instance_, cpu), "set_mp_runnable");
}

Status Accelerator::start(bool paused) { return check(plugin_.ops->start(instance_, paused ? 1 : 0), "start"); }

Status Accelerator::pause_all() { return check(plugin_.ops->pause_all(instance_), "pause_all"); }

Status Accelerator::pause_all_keeping_state(std::uint32_t cpu) {
    if (plugin_.ops->pause_all_keeping_state == nullptr) {
        return pause_all();  // the same stop; only the next state read is slower
    }
    return check(plugin_.ops->pause_all_keeping_state(instance_, cpu), "pause_all_keeping_state");
}

Status Accelerator::resume(std::uint32_t cpu, KvmdbgResumeMode mode) {
    return check(plugin_.ops->resume(instance_, cpu, mode), "resume");
}

Status Accelerator::kick(std::uint32_t cpu) { return check(plugin_.ops->kick(instance_, cpu), "kick"); }

Status Accelerator::set_irq_line(std::uint32_t irq, bool level) {
    if (plugin_.ops->set_irq_line == nullptr) {
        return missing("set_irq_line");
    }
    return check(plugin_.ops->set_irq_line(instance_, irq, level ? 1 : 0), "set_irq_line");
}

bool Accelerator::supports_guest_debug() {
    return plugin_.ops->supports_guest_debug != nullptr && plugin_.ops->supports_guest_debug(instance_) > 0;
}

Status Accelerator::insert_breakpoint(KvmdbgBreakpointType type, std::uint64_t addr, std::uint64_t len) {
    if (plugin_.ops->insert_breakpoint == nullptr) {
        return missing("insert_breakpoint");
    }
    return check(plugin_.ops->insert_breakpoint(instance_, type, addr, len), "insert_breakpoint");
}

Status Accelerator::remove_breakpoint(KvmdbgBreakpointType type, std::uint64_t addr, std::uint64_t len) {
    if (plugin_.ops->remove_breakpoint == nullptr) {
        return missing("remove_breakpoint");
    }
    return check(plugin_.ops->remove_breakpoint(instance_, type, addr, len), "remove_breakpoint");
}

Status Accelerator::remove_all_breakpoints() {
    if (plugin_.ops->remove_all_breakpoints == nullptr) {
        return missing("remove_all_breakpoints");
    }
    return check(plugin_.ops->remove_all_breakpoints(instance_), "remove_all_breakpoints");
}

Status Accelerator::update_guest_debug(std::uint32_t cpu) {
    if (plugin_.ops->update_guest_debug == nullptr) {
        return missing("update_guest_debug");
    }
    return check(plugin_.ops->update_guest_debug(instance_, cpu), "update_guest_debug");
}

Result<long> Accelerator::capability(long cap) {
    if (plugin_.ops->capability == nullptr) {
        return missing("capability").error();
    }
    long v = plugin_.ops->capability(instance_, cap);
    if (v < 0) {
        return check(static_cast<int>(v), "capability").error();
    }
    return v;
}

}  // namespace kvmdbg::accel

namespace kvmdbg::accel {

Status Accelerator::read_memory(std::uint32_t cpu, std::uint64_t addr, std::span<std::uint8_t> out, bool physical) {
    if (plugin_.ops->read_memory == nullptr) {
        return missing("read_memory");
    }
    return check(plugin_.ops->read_memory(instance_, cpu, addr, out.data(), out.size(), physical ? KVMDBG_MEM_PHYS : 0),
                 "read_memory");
}

Result<std::uint64_t> Accelerator::translate(std::uint32_t cpu, std::uint64_t addr) {
    if (plugin_.ops->translate == nullptr) {
        return missing("translate").error();
    }
    std::uint64_t gpa = 0;
    if (auto s = check(plugin_.ops->translate(instance_, cpu, addr, &gpa), "translate"); !s) {
        return s.error();
    }
    return gpa;
}

Status Accelerator::write_memory(std::uint32_t cpu, std::uint64_t addr, std::span<const std::uint8_t> in,
                                 bool physical) {
    if (plugin_.ops->write_memory == nullptr) {
        return missing("write_memory");
    }
    return check(plugin_.ops->write_memory(instance_, cpu, addr, in.data(), in.size(), physical ? KVMDBG_MEM_PHYS : 0),
                 "write_memory");
}

Status Accelerator::set_debug_option(KvmdbgDebugOption option, std::uint64_t value) {
    if (plugin_.ops->set_debug_option == nullptr) {
        return missing("set_debug_option");
    }
    return check(plugin_.ops->set_debug_option(instance_, option, value), "set_debug_option");
}

std::string Accelerator::debug_report(KvmdbgDebugReport kind) {
    if (plugin_.ops->debug_report == nullptr) {
        return "";
    }
    const char* text = plugin_.ops->debug_report(instance_, kind);
    return text != nullptr ? text : "";
}

Status Accelerator::wait_for_sipi(std::uint32_t cpu) {
    if (plugin_.ops->wait_for_sipi == nullptr) {
        return missing("wait_for_sipi");
    }
    return check(plugin_.ops->wait_for_sipi(instance_, cpu), "wait_for_sipi");
}

Status Accelerator::get_irqchip(std::uint32_t chip, std::uint32_t cpu, std::span<std::uint8_t> out) {
    if (plugin_.ops->get_irqchip == nullptr) {
        return missing("get_irqchip");
    }
    return check(plugin_.ops->get_irqchip(instance_, chip, cpu, out.data(), out.size()), "get_irqchip");
}

namespace {

template <typename State>
Result<State> read_chip(Accelerator& accel, std::uint32_t chip, std::uint32_t cpu) {
    State state{};
    if (auto s = accel.get_irqchip(chip, cpu, {reinterpret_cast<std::uint8_t*>(&state), sizeof state}); !s) {
        return s.error();
    }
    return state;
}

}  // namespace

Result<KvmdbgX86PicState> Accelerator::get_x86_pic(bool slave) {
    return read_chip<KvmdbgX86PicState>(*this, slave ? KVMDBG_X86_IRQCHIP_PIC_SLAVE : KVMDBG_X86_IRQCHIP_PIC_MASTER, 0);
}

Result<KvmdbgX86IoapicState> Accelerator::get_x86_ioapic() {
    return read_chip<KvmdbgX86IoapicState>(*this, KVMDBG_X86_IRQCHIP_IOAPIC, 0);
}

Result<KvmdbgX86LapicState> Accelerator::get_x86_lapic(std::uint32_t cpu) {
    return read_chip<KvmdbgX86LapicState>(*this, KVMDBG_X86_IRQCHIP_LAPIC, cpu);
}

Status Accelerator::power_off_vcpu(std::uint32_t cpu) {
    if (plugin_.ops->power_off_vcpu == nullptr) {
        return missing("power_off_vcpu");
    }
    return check(plugin_.ops->power_off_vcpu(instance_, cpu), "power_off_vcpu");
}

}  // namespace kvmdbg::accel
