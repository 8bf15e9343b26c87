#include "system/emulator.h"

#include <glib-unix.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "accel/plugin_loader.h"

#ifndef KVMDBG_MODULE_DIR
#error "KVMDBG_MODULE_DIR must be defined by the build"
#endif

namespace kvmdbg::system {

namespace {

constexpr std::size_t kSerialReadChunk = 64;

}  // namespace

std::string accel_module_dir() {
    if (const char* env = g_getenv("KVMDBG_MODULE_DIR"); env != nullptr && env[0] != '\0') {
        return env;
    }
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        auto beside = exe.parent_path() / "accel" / "kvm";
        if (std::filesystem::is_directory(beside, ec)) {
            return beside.string();
        }
    }
    return KVMDBG_MODULE_DIR;
}

Emulator::Emulator(const CliOptions& options, Log& log)
    : options_(options), log_(log), loop_(g_main_loop_new(nullptr, FALSE)) {}

Emulator::~Emulator() {
    // The stub goes first (it calls the target, which calls the accelerator);
    // vCPU threads must be gone before the machine (their I/O target) goes.
    // The session ends first so that closing the connection at exit is not
    // taken for a debugger that went away (no detach, no resume).
    gdb_session_.reset();
    gdb_server_.reset();
    gdb_session_.reset();
    gdb_target_.reset();
    accel_.reset();
    for (guint id : sources_) {
        if (g_main_context_find_source_by_id(nullptr, id) != nullptr) {
            g_source_remove(id);
        }
    }
    if (loop_ != nullptr) {
        g_main_loop_unref(loop_);
    }
}

Result<std::unique_ptr<Emulator>> Emulator::create(const CliOptions& options, Log& log) {
    std::unique_ptr<Emulator> emu(new Emulator(options, log));
    if (auto s = emu->build(); !s) {
        return s.error();
    }
    return emu;
}

Status Emulator::build() {
    std::string accel_name = options_.accel.substr(0, options_.accel.find(','));
    if (accel_name.empty()) {
        accel_name = "kvm";
    }
    std::optional<GdbEndpoint> gdb_endpoint;
    if (!options_.gdb.empty()) {
        auto ep = parse_gdb_endpoint(options_.gdb);
        if (!ep) {
            return ep.error();
        }
        gdb_endpoint = *ep;
    }
    // KVM runs guests of the host's own ISA: the default machine follows the host.
    std::string machine = options_.machine.name;
    if (machine.empty()) {
        machine = accel::host_arch() == KVMDBG_ARCH_ARM64 ? hw::Virt::kName : hw::PcLite::kName;
    }
    if (machine == hw::Virt::kName) {
        return build_virt(accel_name, gdb_endpoint);
    }
    if (machine != hw::PcLite::kName) {
        return make_error(EINVAL, "unsupported machine type '" + machine + "' (use -M help)");
    }
    if (accel::host_arch() != KVMDBG_ARCH_X86_64) {
        return make_error(ENOTSUP, "machine pc-lite runs x86-64 guests and needs an x86-64 host: KVM runs guests "
                                   "of the host's own ISA (use -M virt here)");
    }
    return build_pc(accel_name, gdb_endpoint);
}

Status Emulator::create_accel(const std::string& accel_name, const accel::AccelConfig& accel_config) {
    auto plugin = accel::load_accel_plugin(accel_name, accel_module_dir());
    if (!plugin) {
        return plugin.error();
    }
    auto accel = accel::Accelerator::create(std::move(plugin).value(), accel_config, *this);
    if (!accel) {
        return accel.error();
    }
    accel_ = std::move(accel).value();
    log_.write(LogCategory::guest_debug, "%s", accel_->debug_report(KVMDBG_REPORT_SUMMARY).c_str());
    if (!options_.gdb.empty()) {
        // What the host forces on the debugger (e.g. int3 not interceptable),
        // said once, before gdb attaches.
        std::string notice = accel_->debug_report(KVMDBG_REPORT_ADAPTATION);
        if (!notice.empty()) {
            std::fprintf(stderr, "%s\n", notice.c_str());
        }
    }
    return ok_status();
}

Status Emulator::build_pc(const std::string& accel_name, const std::optional<GdbEndpoint>& gdb_endpoint) {
    hw::PcLiteConfig config;
    config.ram_size = options_.ram_size;
    config.cpus = options_.smp_cpus;
    config.kernel = options_.kernel;
    config.append = options_.append;
    config.initrd = options_.initrd;
    config.serial = options_.serial;
    if (gdb_endpoint && gdb_endpoint->kind == GdbEndpoint::Kind::stdio && config.serial == "stdio") {
        // stdin/stdout carry the gdb protocol: the guest's serial output
        // would corrupt it (QEMU refuses the combination; we move serial).
        std::fprintf(stderr, "kvmdbg: -gdb stdio uses stdin/stdout: serial output goes nowhere "
                             "(use -serial file:PATH to keep it)\n");
        config.serial = "none";
    }
    for (const auto& [key, value] : options_.machine.props) {
        if (key == "kernel-irqchip" || key == "kernel_irqchip") {
            if (value == "on" || value == "split") {
                config.kernel_irqchip = true;
            } else if (value == "off") {
                config.kernel_irqchip = false;
            } else {
                return make_error(EINVAL, "kernel-irqchip must be on, split or off, not '" + value + "'");
            }
        } else if (key == "accel") {
            if (value != "kvm") {
                return make_error(EINVAL, "accelerator '" + value + "' is not supported (only kvm)");
            }
        } else {
            return make_error(EINVAL, "machine pc-lite has no property '" + key + "'");
        }
    }
    for (const auto& device : options_.devices) {
        if (device.driver != "isa-debug-exit") {
            return make_error(EINVAL, "device '" + device.driver + "' is not supported (use -device help)");
        }
        if (auto it = device.numbers.find("iobase"); it != device.numbers.end()) {
            config.debug_exit_iobase = it->second;
        }
        if (auto it = device.numbers.find("iosize"); it != device.numbers.end()) {
            config.debug_exit_iosize = it->second;
        }
    }

    auto machine = hw::PcLite::create(config, log_, *this);
    if (!machine) {
        return machine.error();
    }
    machine_ = std::move(machine).value();
    auto plan = machine_->load_kernel();
    if (!plan) {
        return plan.error();
    }
    plan_ = *plan;
    if (!plan_.all_vcpus_start_at_entry && options_.smp_cpus > 1 && !config.kernel_irqchip) {
        return make_error(EINVAL, "a multiboot kernel with -smp " + std::to_string(options_.smp_cpus) +
                                      " needs kernel-irqchip=on: its APs wait for INIT/SIPI in the local APIC");
    }

    accel::AccelConfig accel_config;
    accel_config.kernel_irqchip = config.kernel_irqchip;
    if (auto st = create_accel(accel_name, accel_config); !st) {
        return st;
    }
    if (auto s = accel_->map_ram(hw::PcLite::kRomBase, hw::PcLite::kRomSize, machine_->rom().data(), true); !s) {
        return s;
    }
    return bring_up(machine_->ram(), &Emulator::boot_vcpus, gdb_endpoint);
}

Status Emulator::bring_up(hw::GuestRam& ram, Status (Emulator::*boot)(bool),
                          const std::optional<GdbEndpoint>& gdb_endpoint) {
    for (const auto& region : ram.regions()) {
        if (auto s = accel_->map_ram(region.gpa, region.memory.size(), region.memory.data(), false); !s) {
            return s;
        }
    }
    if (auto s = accel_->create_vcpus(options_.smp_cpus); !s) {
        return s;
    }
    if (auto s = (this->*boot)(false); !s) {
        return s;
    }
    if (gdb_endpoint) {
        return start_gdb_server(*gdb_endpoint);
    }
    return ok_status();
}

Status Emulator::boot_vcpus(bool reset) {
    for (std::uint32_t i = 0; i < options_.smp_cpus; ++i) {
        if (i == 0 || plan_.all_vcpus_start_at_entry || reset) {
            // After a reset a multiboot AP gets the INIT state and waits for
            // its SIPI again, as on a real PC.
            if (auto s = accel_->set_x86_state(i, plan_.vcpu_state(i, options_.smp_cpus)); !s) {
                return s;
            }
        }
        if (reset && i != 0 && !plan_.all_vcpus_start_at_entry) {
            if (auto s = accel_->wait_for_sipi(i); !s) {
                return s;
            }
        }
        if (i != 0 && plan_.all_vcpus_start_at_entry) {
            if (auto s = accel_->set_mp_runnable(i); !s) {
                return s;
            }
        }
    }
    return ok_status();
}

int Emulator::run() {
    sources_.push_back(g_unix_signal_add(SIGINT, on_signal, this));
    sources_.push_back(g_unix_signal_add(SIGTERM, on_signal, this));
    watch_serial_input();
    if (auto s = accel_->start(options_.start_stopped); !s) {
        std::fprintf(stderr, "kvmdbg: %s\n", s.error().message.c_str());
        return 1;
    }
    g_main_loop_run(loop_);
    // Park every vCPU before the machine and the accelerator go away.
    (void)accel_->pause_all();
    std::lock_guard lock(finish_mu_);
    if (!exit_message_.empty()) {
        std::fprintf(stderr, "kvmdbg: %s\n", exit_message_.c_str());
    }
    return exit_status_;
}

void Emulator::finish(int status, std::string message) {
    std::lock_guard lock(finish_mu_);
    if (finished_) {
        return;
    }
    finished_ = true;
    exit_status_ = status;
    exit_message_ = std::move(message);
    // An idle source, not g_main_loop_quit(): a quit that lands before
    // g_main_loop_run() starts would be forgotten; the source is not.
    g_idle_add(
        [](gpointer self) -> gboolean {
            g_main_loop_quit(static_cast<Emulator*>(self)->loop_);
            return G_SOURCE_REMOVE;
        },
        this);
}

hw::IoBus& Emulator::bus() { return virt_ ? virt_->bus() : machine_->bus(); }

hw::CharBackend& Emulator::serial_backend() { return virt_ ? virt_->serial_backend() : machine_->serial_backend(); }

std::size_t Emulator::serial_rx_room() { return virt_ ? virt_->uart().rx_room() : machine_->com1().rx_room(); }

void Emulator::serial_push_input(std::span<const std::uint8_t> bytes) {
    if (virt_) {
        virt_->uart().push_input(bytes);
    } else {
        machine_->com1().push_input(bytes);
    }
}

bool Emulator::pio(std::uint32_t, std::uint16_t port, std::uint8_t* data, std::uint32_t size, bool is_write) {
    return bus().dispatch(hw::AddressSpace::pio, port, data, size, is_write) == hw::IoOutcome::stop_machine;
}

bool Emulator::mmio(std::uint32_t, std::uint64_t gpa, std::uint8_t* data, std::uint32_t size, bool is_write) {
    return bus().dispatch(hw::AddressSpace::mmio, gpa, data, size, is_write) == hw::IoOutcome::stop_machine;
}

void Emulator::event(const KvmdbgEvent& event) {
    log_.write(LogCategory::exits, "vCPU %u event %u: %s", event.cpu, event.kind, event.message);
    switch (event.kind) {
    case KVMDBG_EVENT_HALTED:
        // Without an in-kernel irqchip nothing can wake a halted vCPU.
        if (halted_vcpus_.fetch_add(1) + 1 == options_.smp_cpus) {
            finish(0, "");
            std::fprintf(stderr, "kvmdbg: all vCPUs halted and no interrupt can wake them; exiting\n");
        }
        return;
    case KVMDBG_EVENT_PAUSED:
        return;
    case KVMDBG_EVENT_POWEROFF:
        // arm64: PSCI SYSTEM_OFF (KVM_EXIT_SYSTEM_EVENT SHUTDOWN).
        request_poweroff(event.message);
        return;
    case KVMDBG_EVENT_RESET:
        // arm64: PSCI SYSTEM_RESET.
        request_reset(event.message);
        return;
    case KVMDBG_EVENT_DEBUG:
        // A debug stop is the debugger's business, not the end of the run;
        // the vCPU stays parked until resumed.
    {
        gdb::StopEvent stop = AccelDebugTarget::to_stop_event(event.cpu, event.debug);
        if (gdb_target_) {
            // The registers read as the vCPU parked: the stop reply needs no round trip.
            stop.registers = gdb_target_->registers_from_state(event.state, event.state_size);
        }
        queue_stop(stop);
        return;
    }
    case KVMDBG_EVENT_SHUTDOWN:
        if (!debugger_attached_ && !options_.no_reboot) {
            // QEMU resets the machine on a triple fault unless -no-reboot.
            std::string first_line(event.message, std::strcspn(event.message, "\n"));
            std::fprintf(stderr, "kvmdbg: %s; resetting the machine (-no-reboot stops instead)\n",
                         first_line.c_str());
            schedule_reset("triple fault");
            return;
        }
        [[fallthrough]];
    case KVMDBG_EVENT_INTERNAL_ERROR:
    case KVMDBG_EVENT_FAIL_ENTRY:
    case KVMDBG_EVENT_RUN_ERROR:
    case KVMDBG_EVENT_UNHANDLED_EXIT:
    default:
        if (debugger_attached_) {
            // Keep the wreck inspectable: gdb gets a stop with SIGSEGV.
            std::fprintf(stderr, "kvmdbg: %s\n", event.message);
            gdb::StopEvent stop;
            stop.thread = event.cpu + 1;
            stop.reason = gdb::StopReason::signal;
            stop.signal = gdb::kSigSegv;
            queue_stop(stop);
            return;
        }
        finish(1, event.message);
        return;
    }
}

bool Emulator::wants_stop(std::uint32_t cpu, const KvmdbgDebugStop& stop) {
    return !gdb_target_ || gdb_target_->wants_stop(cpu, stop);
}

void Emulator::request_exit(int status, const std::string& reason) {
    log_.write(LogCategory::exits, "guest requested exit with status %d (%s)", status, reason.c_str());
    if (debugger_attached_) {
        // gdb hears "exited with code" (W) before the process ends.
        gdb::StopEvent stop;
        stop.reason = gdb::StopReason::exited;
        stop.exit_code = status;
        queue_stop(stop);
        return;
    }
    finish(status, "");
}

void Emulator::request_poweroff(const std::string& reason) {
    log_.write(LogCategory::exits, "guest powered off (%s)", reason.c_str());
    if (options_.no_shutdown) {
        // QEMU's -no-shutdown: stop the emulation, keep the process (and a
        // debugger's view of the guest) alive. The vCPU that wrote has parked.
        std::fprintf(stderr, "kvmdbg: guest powered off (%s); -no-shutdown keeps kvmdbg running\n",
                     reason.c_str());
        g_idle_add(
            [](gpointer self) -> gboolean {
                (void)static_cast<Emulator*>(self)->accel_->pause_all();
                return G_SOURCE_REMOVE;
            },
            this);
        return;
    }
    if (debugger_attached_) {
        // gdb hears "exited with code 0" (W00) before the process ends.
        gdb::StopEvent stop;
        stop.reason = gdb::StopReason::exited;
        stop.exit_code = 0;
        queue_stop(stop);
        return;
    }
    finish(0, "");
}

void Emulator::request_reset(const std::string& reason) {
    log_.write(LogCategory::exits, "guest requested a reset (%s)", reason.c_str());
    if (options_.no_reboot) {
        finish(0, "");  // QEMU's -no-reboot: a reset ends the run, status 0
        return;
    }
    schedule_reset(reason);
}

void Emulator::schedule_reset(const std::string& reason) {
    // vCPU thread: the reset itself pauses every vCPU, so it runs on the main loop.
    auto* request = new std::pair<Emulator*, std::string>(this, reason);
    g_idle_add(
        [](gpointer data) -> gboolean {
            std::unique_ptr<std::pair<Emulator*, std::string>> r(static_cast<std::pair<Emulator*, std::string>*>(data));
            (void)r->first->reset_machine(r->second, true);
            return G_SOURCE_REMOVE;
        },
        request);
}

Status Emulator::reset_machine(const std::string& reason, bool resume) {
    log_.write(LogCategory::exits, "machine reset (%s)", reason.c_str());
    (void)accel_->pause_all();
    if (virt_) {
        // virt: RAM, the kernel and its device tree again; every vCPU
        // re-initialised (KVM_ARM_VCPU_INIT) and given its boot state; the
        // in-kernel GIC keeps its programming, a booting guest programs it anew.
        virt_->ram().clear();
        auto plan = virt_->load_kernel();
        if (!plan) {
            finish(1, "machine reset failed: " + plan.error().message);
            return plan.error();
        }
        arm64_plan_ = *plan;
        virt_->reset_devices();
        if (auto s = boot_virt_vcpus(true); !s) {
            finish(1, "machine reset failed: " + s.error().message);
            return s;
        }
        if (resume) {
            for (std::uint32_t i = 0; i < options_.smp_cpus; ++i) {
                (void)accel_->resume(i, KVMDBG_RESUME_RUN);
            }
        }
        return ok_status();
    }
    // Guest RAM is reloaded from the kernel image, every vCPU gets its boot
    // state again and COM1 its reset state. The in-kernel PIC/IOAPIC/PIT keep
    // their programming; a booting guest programs them anew.
    machine_->ram().clear();
    auto plan = machine_->load_kernel();
    if (!plan) {
        finish(1, "machine reset failed: " + plan.error().message);
        return plan.error();
    }
    plan_ = *plan;
    machine_->reset_devices();
    if (auto s = boot_vcpus(true); !s) {
        finish(1, "machine reset failed: " + s.error().message);
        return s;
    }
    halted_vcpus_ = 0;
    if (resume) {
        for (std::uint32_t i = 0; i < options_.smp_cpus; ++i) {
            (void)accel_->resume(i, KVMDBG_RESUME_RUN);
        }
    }
    return ok_status();
}

void Emulator::set_irq_line(std::uint32_t irq, bool level) {
    if (auto s = accel_->set_irq_line(irq, level); !s) {
        log_.write(LogCategory::guest_errors, "IRQ %u: %s", irq, s.error().message.c_str());
    }
}

void Emulator::watch_serial_input() {
    int fd = serial_backend().input_fd();
    if (fd < 0) {
        return;
    }
    g_unix_set_fd_nonblocking(fd, TRUE, nullptr);
    sources_.push_back(g_unix_fd_add(fd, static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR),
                                     on_serial_input, this));
}

gboolean Emulator::on_serial_input(gint fd, GIOCondition condition, gpointer data) {
    auto* self = static_cast<Emulator*>(data);
    std::uint8_t buf[kSerialReadChunk];
    std::size_t room = 0;
    self->bus().with_lock([&] { room = self->serial_rx_room(); });
    if (room == 0) {
        // The guest has not drained its FIFO: the bytes wait in the pipe (the
        // UART drops nothing). Stop watching stdin and look again in 20 ms,
        // so a guest that never reads costs 50 wake-ups a second, not a spin.
        g_timeout_add(20, [](gpointer emu) -> gboolean {
            static_cast<Emulator*>(emu)->watch_serial_input();
            return G_SOURCE_REMOVE;
        }, self);
        return G_SOURCE_REMOVE;
    }
    ssize_t n = ::read(fd, buf, room < sizeof buf ? room : sizeof buf);
    if (n > 0) {
        self->bus().with_lock([&] { self->serial_push_input({buf, static_cast<std::size_t>(n)}); });
        return G_SOURCE_CONTINUE;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return G_SOURCE_CONTINUE;
    }
    (void)condition;
    return G_SOURCE_REMOVE;  // EOF or error: no more serial input
}

gboolean Emulator::on_signal(gpointer data) {
    auto* self = static_cast<Emulator*>(data);
    std::fprintf(stderr, "kvmdbg: terminating on signal\n");
    self->finish(0, "");
    return G_SOURCE_CONTINUE;
}

Status Emulator::start_gdb_server(const GdbEndpoint& endpoint) {
    AccelDebugTarget::Hooks hooks;
    hooks.kill = [this] { finish(0, ""); };
    hooks.monitor = [this](std::string_view command) { return monitor_command(command); };
    // gdb's memory map: the ROM read-only (gdb turns `break` there into a
    // hardware breakpoint and refuses writes); everything else "ram", so
    // that gdb still tries every virtual address and the stub answers E14
    // where nothing is mapped (a map without it would make gdb refuse them).
    std::vector<gdb::MemoryRegion> map = {
        {gdb::MemoryRegion::Kind::ram, 0, hw::PcLite::kRomBase},
        {gdb::MemoryRegion::Kind::rom, hw::PcLite::kRomBase, hw::PcLite::kRomSize},
        {gdb::MemoryRegion::Kind::ram, hw::PcLite::kRomBase + hw::PcLite::kRomSize,
         ~std::uint64_t{0} - (hw::PcLite::kRomBase + hw::PcLite::kRomSize)},
    };
    KvmdbgArch arch = KVMDBG_ARCH_X86_64;
    if (virt_) {
        // virt has no ROM: every address is offered as RAM.
        map = {{gdb::MemoryRegion::Kind::ram, 0, ~std::uint64_t{0}}};
        arch = KVMDBG_ARCH_ARM64;
    }
    gdb_target_ = std::make_unique<AccelDebugTarget>(*accel_, options_.smp_cpus, hooks, std::move(map), arch);
    GdbServer::Callbacks callbacks;
    callbacks.on_connect = [this] { on_gdb_connect(); };
    callbacks.on_bytes = [this](std::string_view bytes) { on_gdb_bytes(bytes); };
    callbacks.on_disconnect = [this] { on_gdb_disconnect(); };
    auto server = GdbServer::listen(endpoint, std::move(callbacks));
    if (!server) {
        return server.error();
    }
    gdb_server_ = std::move(server).value();
    busy_poll_ = std::make_unique<BusyPollWindow>(std::chrono::microseconds(0));
    if (!accel_->supports_guest_debug()) {
        std::fprintf(stderr, "kvmdbg: this host's KVM cannot debug guests (no KVM_CAP_SET_GUEST_DEBUG): "
                             "gdb can read and write state, but breakpoints and single-step fail\n");
    }
    if (endpoint.kind != GdbEndpoint::Kind::stdio) {
        std::fprintf(stderr, "kvmdbg: gdb server listening on %s%s\n", gdb_server_->bound_address().c_str(),
                     options_.start_stopped ? " (vCPUs wait for the debugger: -S)" : "");
    }
    return ok_status();
}

void Emulator::on_gdb_connect() {
    gdb_session_ = std::make_unique<gdb::GdbSession>(*gdb_target_, gdb_conditions_);
    debugger_attached_ = true;
    gdb_session_->on_connect();
    pump_gdb();
}

void Emulator::on_gdb_bytes(std::string_view bytes) {
    if (!gdb_session_) {
        return;
    }
    if (log_.enabled(LogCategory::gdb)) {
        log_.write(LogCategory::gdb, "<- %.*s", static_cast<int>(std::min<std::size_t>(bytes.size(), 512)),
                   bytes.data());
    }
    gdb_session_->receive(bytes);
    pump_gdb();
}

void Emulator::on_gdb_disconnect() {
    if (!gdb_session_) {
        return;
    }
    if (!gdb_session_->finished()) {
        // gdb vanished mid-session (killed, network gone): behave as a
        // detach, so the guest runs on with no breakpoint left in memory.
        std::fprintf(stderr, "kvmdbg: the debugger went away; removing its breakpoints and resuming the guest\n");
        gdb_target_->remove_all_breakpoints();
        gdb_target_->detach();
    }
    gdb_session_.reset();
    debugger_attached_ = false;
}

void Emulator::apply_busy_poll_budget() {
    std::chrono::microseconds budget = busy_poll_policy_.budget_now();
    if (budget == busy_poll_budget_) {
        return;
    }
    busy_poll_budget_ = budget;
    busy_poll_->set_length(budget);
    // The parked vCPUs too; a module without the option just sleeps.
    (void)accel_->set_debug_option(KVMDBG_OPT_PARK_SPIN_US, static_cast<std::uint64_t>(budget.count()));
    log_.write(LogCategory::guest_debug, "busy-polling after debugger activity: %lld us", static_cast<long long>(budget.count()));
}

void Emulator::pump_gdb() {
    if (!gdb_session_) {
        return;
    }
    apply_busy_poll_budget();
    busy_poll_->open();  // the next packet or stop comes within a round trip
    std::string out = gdb_session_->take_output();
    if (!out.empty() && log_.enabled(LogCategory::gdb)) {
        log_.write(LogCategory::gdb, "-> %.*s", static_cast<int>(std::min<std::size_t>(out.size(), 512)), out.data());
    }
    gdb_server_->send(out);
    if (!gdb_session_->finished()) {
        return;
    }
    gdb::SessionState state = gdb_session_->state();
    std::optional<int> status = gdb_session_->exit_status();
    gdb_session_.reset();
    debugger_attached_ = false;
    gdb_server_->close_client();
    if (state == gdb::SessionState::killed) {
        finish(status.value_or(0), "");
    }
    // exited: dispatch_stops() ends the run with the guest's own status.
}

void Emulator::queue_stop(const gdb::StopEvent& stop) {
    std::lock_guard lock(stops_mu_);
    stops_.push_back(stop);
    if (!stop_dispatch_pending_) {
        stop_dispatch_pending_ = true;
        g_idle_add(dispatch_stops, this);
    }
}

gboolean Emulator::dispatch_stops(gpointer data) {
    auto* self = static_cast<Emulator*>(data);
    std::deque<gdb::StopEvent> stops;
    {
        std::lock_guard lock(self->stops_mu_);
        stops.swap(self->stops_);
        self->stop_dispatch_pending_ = false;
    }
    for (const auto& stop : stops) {
        if (stop.reason != gdb::StopReason::exited && self->gdb_target_) {
            self->gdb_target_->note_stopped(stop.thread - 1);
        }
        if (self->gdb_session_) {
            self->gdb_session_->on_target_stop(stop);
            self->pump_gdb();
            if (stop.reason == gdb::StopReason::exited) {
                self->finish(stop.exit_code, "");
            }
        } else if (stop.reason == gdb::StopReason::exited) {
            self->finish(stop.exit_code, "");
        } else if (self->gdb_target_ && stop.reason != gdb::StopReason::signal) {
            // A stop nobody waits for any more (gdb left as it arrived): go on.
            (void)self->accel_->resume(stop.thread - 1, KVMDBG_RESUME_RUN);
        } else if (stop.reason == gdb::StopReason::signal && stop.signal == gdb::kSigSegv) {
            // A fatal vCPU exit that raced with a detach: queued for gdb
            // (its report is already on stderr) while gdb was leaving. Nobody
            // will inspect it: end as without a debugger instead of leaving
            // the vCPU parked for good (tests/reliability
            // fatal_exit_after_detach).
            self->finish(1, "");
        }
    }
    return G_SOURCE_REMOVE;
}

}  // namespace kvmdbg::system
