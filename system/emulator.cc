#include "system/emulator.h"

#include <glib-unix.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "accel/plugin_loader.h"
#include "hw-models/machine_registry.h"
#include "system/address_map.h"
#include "system/stub_thread_priority.h"

#ifndef KVMDBG_MODULE_DIR
#error "KVMDBG_MODULE_DIR must be defined by the build"
#endif

namespace kvmdbg::system {

namespace {

constexpr std::size_t kSerialReadChunk = 64;

KvmdbgArch to_accel_arch(hw::GuestIsa isa) {
    return isa == hw::GuestIsa::arm64 ? KVMDBG_ARCH_ARM64 : KVMDBG_ARCH_X86_64;
}

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
    : options_(options),
      log_(log),
      catches_(options.smp_cpus),
      loop_(g_main_loop_new(nullptr, FALSE)),
      deferred_exit_(options.smp_cpus) {
    trace_.set_enabled(log.enabled(LogCategory::io));
}

Emulator::~Emulator() {
    // The gdb front end goes first (its target calls the accelerator);
    // vCPU threads must be gone before the machine (their I/O target) goes.
    gdb_.reset();
    accel_port_.reset();
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
    if (auto s = build_machine(gdb_endpoint); !s) {
        return s;
    }
    if (auto s = create_accel(accel_name); !s) {
        return s;
    }
    return bring_up(gdb_endpoint);
}

Status Emulator::build_machine(const std::optional<GdbEndpoint>& gdb_endpoint) {
    // KVM runs guests of the host's own ISA: the default machine follows the host.
    auto type = hw::select_machine_type(options_.machine.name, hw::host_isa());
    if (!type) {
        return type.error();
    }
    hw::MachineOptions machine_options;
    machine_options.ram_size = options_.ram_size;
    machine_options.cpus = options_.smp_cpus;
    machine_options.kernel = options_.kernel;
    machine_options.bios = options_.bios;
    machine_options.firmware_dirs = options_.firmware_dirs;
    machine_options.append = options_.append;
    machine_options.initrd = options_.initrd;
    machine_options.serial = options_.serial;
    machine_options.debugcon = options_.debugcon;
    if (gdb_endpoint && gdb_endpoint->kind == GdbEndpoint::Kind::stdio && options_.serial == "stdio") {
        // stdin/stdout carry the gdb protocol: the guest's serial output
        // would corrupt it (QEMU refuses the combination; we move serial).
        std::fprintf(stderr,
                     "kvmdbg: -gdb stdio uses stdin/stdout: serial output goes nowhere "
                     "(use -serial file:PATH to keep it)\n");
        machine_options.serial = "none";
    }
    hw::MachineRequest request;
    request.props = options_.machine.props;
    for (const auto& device : options_.devices) {
        request.devices.push_back({device.driver, device.numbers});
    }
    auto machine = hw::create_machine(**type, request, machine_options, log_, *this);
    if (!machine) {
        return machine.error();
    }
    machine_ = std::move(machine).value();
    return machine_->load_kernel();
}

Status Emulator::create_accel(const std::string& accel_name) {
    hw::MachineAccelConfig wanted = machine_->accel_config();
    accel::AccelConfig accel_config;
    accel_config.arch = to_accel_arch(wanted.isa);
    accel_config.kernel_irqchip = wanted.kernel_irqchip;
    accel_config.gic_dist_base = wanted.gic_dist_base;
    accel_config.gic_redist_base = wanted.gic_redist_base;
    accel_config.gic_nr_irqs = wanted.gic_nr_irqs;
    auto plugin = accel::load_accel_plugin(accel_name, accel_module_dir());
    if (!plugin) {
        return plugin.error();
    }
    auto accel = accel::Accelerator::create(std::move(plugin).value(), accel_config, *this);
    if (!accel) {
        return accel.error();
    }
    accel_ = std::move(accel).value();
    accel_port_ = std::make_unique<AccelMachinePort>(*accel_);
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

Status Emulator::bring_up(const std::optional<GdbEndpoint>& gdb_endpoint) {
    if (auto s = machine_->map_memory(*accel_port_); !s) {
        return s;
    }
    if (auto isa = find_isa_descriptor(to_accel_arch(machine_->accel_config().isa))) {
        isa_ = *isa;
    }
    if (auto s = accel_->create_vcpus(options_.smp_cpus); !s) {
        return s;
    }
    if (auto s = machine_->boot_vcpus(*accel_port_, false); !s) {
        return s;
    }
    if (gdb_endpoint) {
        if (auto s = prioritise_stub_thread(); !s) {
            return s;
        }
    }
    GdbFrontEnd::Hooks hooks;
    hooks.finish = [this](int status, std::string message) { finish(status, std::move(message)); };
    hooks.reset_machine = [this](const std::string& reason) { return reset_machine(reason, false); };
    hooks.address_map = [this] { return format_address_map(*machine_); };
    hooks.device_list = [this] { return format_device_list(machine_->bus()); };
    hooks.device_state = [this](const std::string& name) { return machine_->bus().device_state(name); };
    hooks.exit_on_resume = [this](std::uint32_t cpu) { return exit_on_resume(cpu); };
    gdb_ = std::make_unique<GdbFrontEnd>(*accel_, options_.smp_cpus, log_, std::move(hooks), machine_->bus(), catches_,
                                         trace_);
    if (!gdb_endpoint) {
        return ok_status();
    }
    std::vector<gdb::MemoryRegion> map;
    for (const auto& region : machine_->gdb_memory_map()) {
        map.push_back({region.kind == hw::DebugMemoryRegion::Kind::rom ? gdb::MemoryRegion::Kind::rom
                                                                       : gdb::MemoryRegion::Kind::ram,
                       region.start, region.length});
    }
    return gdb_->start(*gdb_endpoint, std::move(map), to_accel_arch(machine_->accel_config().isa),
                       options_.start_stopped);
}

Status Emulator::prioritise_stub_thread() {
    auto wanted = wanted_stub_thread_nice(std::getenv("KVMDBG_STUB_NICE"));
    if (!wanted) {
        return wanted.error();
    }
    auto nice = raise_calling_thread_priority(*wanted);
    if (nice) {
        log_.write(LogCategory::guest_debug, "gdb stub thread at nice %d, vCPU threads as started", *nice);
    } else {
        log_.write(LogCategory::guest_debug, "gdb stub thread's priority left as it is: %s",
                   nice.error().message.c_str());
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

KvmdbgIoResult Emulator::pio(std::uint32_t cpu, std::uint16_t port, std::uint8_t* data, std::uint32_t size,
                             bool is_write) {
    return device_access(cpu, hw::AddressSpace::pio, port, data, size, is_write);
}

KvmdbgIoResult Emulator::mmio(std::uint32_t cpu, std::uint64_t gpa, std::uint8_t* data, std::uint32_t size,
                              bool is_write) {
    return device_access(cpu, hw::AddressSpace::mmio, gpa, data, size, is_write);
}

namespace {

// The vCPU whose caught write is being dispatched on this thread: an exit
// the write asks for waits for the debugger (Emulator::request_exit).
thread_local std::optional<std::uint32_t> t_caught_write_cpu;

}  // namespace

KvmdbgIoResult Emulator::device_access(std::uint32_t cpu, hw::AddressSpace space, std::uint64_t addr,
                                       std::uint8_t* data, std::uint32_t size, bool is_write) {
    hw::IoBus& bus = machine_->bus();
    const bool tracing = trace_.enabled();
    const bool catching = catches_.active();
    if (!tracing && !catching) {
        return bus.dispatch(space, addr, data, size, is_write) == hw::IoOutcome::stop_machine ? KVMDBG_IO_PARK
                                                                                              : KVMDBG_IO_CONTINUE;
    }
    std::uint64_t value = 0;
    unsigned id = 0;  // the catch that stops this access; 0: none (catches count from 1)
    if (is_write) {
        // A write's value is known before the device sees it: a caught write
        // that ends the machine (isa-debug-exit) can still stop for gdb.
        std::memcpy(&value, data, std::min<std::uint32_t>(size, sizeof value));  // little-endian hosts
        id = catching ? catches_.match(space, addr, size, true, value).value_or(0) : 0;
    }
    if (id != 0) {
        t_caught_write_cpu = cpu;
    }
    const bool park = bus.dispatch(space, addr, data, size, is_write) == hw::IoOutcome::stop_machine;
    t_caught_write_cpu.reset();
    if (!is_write) {
        std::memcpy(&value, data, std::min<std::uint32_t>(size, sizeof value));
        id = catching && !park ? catches_.match(space, addr, size, false, value).value_or(0) : 0;
    }
    if (park && id != 0 && !has_deferred_exit(cpu)) {
        id = 0;  // the machine is ending (reset, power-off): no debugger stop
    }
    if (!tracing && id == 0) {
        return park ? KVMDBG_IO_PARK : KVMDBG_IO_CONTINUE;  // a catch elsewhere costs this one lookup
    }
    DeviceAccess access{space, addr, size, is_write, value, bus.name_at(space, addr)};
    if (tracing) {
        trace_access(cpu, access);
    }
    if (id == 0) {
        return park ? KVMDBG_IO_PARK : KVMDBG_IO_CONTINUE;
    }
    catches_.record(DeviceCatchHit{id, cpu, std::move(access)});
    return KVMDBG_IO_STOP;
}

bool Emulator::has_deferred_exit(std::uint32_t cpu) {
    std::lock_guard lock(deferred_exit_mu_);
    return cpu < deferred_exit_.size() && deferred_exit_[cpu].has_value();
}

bool Emulator::exit_on_resume(std::uint32_t cpu) {
    std::optional<int> status;
    {
        std::lock_guard lock(deferred_exit_mu_);
        if (cpu < deferred_exit_.size()) {
            status = std::exchange(deferred_exit_[cpu], std::nullopt);
        }
    }
    if (!status) {
        return false;
    }
    request_exit(*status, "the caught exit write, resumed");
    return true;
}

void Emulator::trace_access(std::uint32_t cpu, const DeviceAccess& access) {
    TracedAccess entry{trace_.now_ns(), cpu, std::nullopt, access};
    if (isa_ != nullptr) {
        // On this vCPU's own thread: the accelerator reads it inline.
        if (auto state = accel_->get_state(cpu)) {
            if (auto pc = isa_->pc(*state)) {
                entry.pc = *pc;
            }
        }
    }
    if (log_.enabled(LogCategory::io)) {  // -d io: the line is formatted only when it is written
        log_.write(LogCategory::io, "%s", DeviceAccessTrace::format(entry).c_str());
    }
    trace_.record(entry);
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
    case KVMDBG_EVENT_PAUSED: return;
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
        gdb_->queue_debug_stop(event);
        return;
    case KVMDBG_EVENT_SHUTDOWN:
        if (!gdb_->attached() && !options_.no_reboot) {
            // QEMU resets the machine on a triple fault unless -no-reboot.
            std::string first_line(event.message, std::strcspn(event.message, "\n"));
            std::fprintf(stderr, "kvmdbg: %s; resetting the machine (-no-reboot stops instead)\n", first_line.c_str());
            schedule_reset("triple fault");
            return;
        }
        [[fallthrough]];
    case KVMDBG_EVENT_INTERNAL_ERROR:
    case KVMDBG_EVENT_FAIL_ENTRY:
    case KVMDBG_EVENT_RUN_ERROR:
    case KVMDBG_EVENT_UNHANDLED_EXIT:
    default:
        if (gdb_->attached()) {
            queue_fatal_stop(event);
            return;
        }
        finish(1, event.message);
        return;
    }
}

void Emulator::queue_fatal_stop(const KvmdbgEvent& event) {
    // Keep the wreck inspectable: gdb gets a stop with SIGSEGV.
    std::fprintf(stderr, "kvmdbg: %s\n", event.message);
    gdb::StopEvent stop;
    stop.thread = event.cpu + 1;
    stop.reason = gdb::StopReason::signal;
    stop.signal = gdb::kSigSegv;
    gdb_->queue_stop(stop);
}

bool Emulator::wants_stop(std::uint32_t cpu, const KvmdbgDebugStop& stop) { return gdb_->wants_stop(cpu, stop); }

void Emulator::request_exit(int status, const std::string& reason) {
    if (t_caught_write_cpu) {
        // A catch stops this write: gdb sees the stop first, the machine
        // ends when gdb resumes the vCPU (exit_on_resume).
        std::lock_guard lock(deferred_exit_mu_);
        deferred_exit_[*t_caught_write_cpu] = status;
        log_.write(LogCategory::exits, "guest requested exit with status %d (%s), held for the debugger's catch",
                   status, reason.c_str());
        return;
    }
    log_.write(LogCategory::exits, "guest requested exit with status %d (%s)", status, reason.c_str());
    if (gdb_->attached()) {
        // gdb hears "exited with code" (W) before the process ends.
        gdb::StopEvent stop;
        stop.reason = gdb::StopReason::exited;
        stop.exit_code = status;
        gdb_->queue_stop(stop);
        return;
    }
    finish(status, "");
}

void Emulator::request_poweroff(const std::string& reason) {
    log_.write(LogCategory::exits, "guest powered off (%s)", reason.c_str());
    if (options_.no_shutdown) {
        // QEMU's -no-shutdown: stop the emulation, keep the process (and a
        // debugger's view of the guest) alive. The vCPU that wrote has parked.
        std::fprintf(stderr, "kvmdbg: guest powered off (%s); -no-shutdown keeps kvmdbg running\n", reason.c_str());
        g_idle_add(
            [](gpointer self) -> gboolean {
                (void)static_cast<Emulator*>(self)->accel_->pause_all();
                return G_SOURCE_REMOVE;
            },
            this);
        return;
    }
    if (gdb_->attached()) {
        // gdb hears "exited with code 0" (W00) before the process ends.
        gdb::StopEvent stop;
        stop.reason = gdb::StopReason::exited;
        stop.exit_code = 0;
        gdb_->queue_stop(stop);
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
    // Guest RAM is reloaded from the kernel image, every vCPU gets its boot
    // state again and the devices their reset state (hw::Machine::reset).
    if (auto s = machine_->reset(*accel_port_); !s) {
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
    int fd = machine_->serial_backend().input_fd();
    if (fd < 0) {
        return;
    }
    g_unix_set_fd_nonblocking(fd, TRUE, nullptr);
    sources_.push_back(
        g_unix_fd_add(fd, static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR), on_serial_input, this));
}

gboolean Emulator::on_serial_input(gint fd, GIOCondition condition, gpointer data) {
    auto* self = static_cast<Emulator*>(data);
    std::uint8_t buf[kSerialReadChunk];
    std::size_t room = 0;
    self->machine_->bus().with_lock([&] { room = self->machine_->serial_rx_room(); });
    if (room == 0) {
        // The guest has not drained its FIFO: the bytes wait in the pipe (the
        // UART drops nothing). Stop watching stdin and look again in 20 ms,
        // so a guest that never reads costs 50 wake-ups a second, not a spin.
        g_timeout_add(
            20,
            [](gpointer emu) -> gboolean {
                static_cast<Emulator*>(emu)->watch_serial_input();
                return G_SOURCE_REMOVE;
            },
            self);
        return G_SOURCE_REMOVE;
    }
    ssize_t n = ::read(fd, buf, room < sizeof buf ? room : sizeof buf);
    if (n > 0) {
        self->machine_->bus().with_lock([&] { self->machine_->serial_push_input({buf, static_cast<std::size_t>(n)}); });
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

}  // namespace kvmdbg::system
