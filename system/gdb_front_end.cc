#include "system/gdb_front_end.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace kvmdbg::system {

GdbFrontEnd::GdbFrontEnd(accel::Accelerator& accel, std::uint32_t cpus, Log& log, Hooks hooks, hw::IoBus& bus,
                         DeviceAccessCatches& catches, DeviceAccessTrace& trace)
    : accel_(accel),
      cpus_(cpus),
      log_(log),
      hooks_(std::move(hooks)),
      catches_(catches),
      trace_(trace),
      device_watchpoints_(bus, catches, cpus) {}

GdbFrontEnd::~GdbFrontEnd() {
    // The stub goes first (it calls the target, which calls the accelerator).
    // The session ends first so that closing the connection at exit is not
    // taken for a debugger that went away (no detach, no resume).
    session_.reset();
    server_.reset();
    target_.reset();
}

Status GdbFrontEnd::start(const GdbEndpoint& endpoint, std::vector<gdb::MemoryRegion> memory_map, KvmdbgArch arch,
                          bool start_stopped) {
    AccelDebugTarget::Hooks hooks;
    hooks.kill = [this] { hooks_.finish(0, ""); };
    hooks.monitor = [this](std::string_view command) { return monitor_command(command); };
    hooks.device_watchpoints = &device_watchpoints_;
    hooks.report_stop = [this](const gdb::StopEvent& stop) { queue_stop(stop); };
    hooks.exit_on_resume = hooks_.exit_on_resume;
    target_ = std::make_unique<AccelDebugTarget>(accel_, cpus_, hooks, std::move(memory_map), arch);
    GdbServer::Callbacks callbacks;
    callbacks.on_connect = [this] { on_connect(); };
    callbacks.on_bytes = [this](std::string_view bytes) { on_bytes(bytes); };
    callbacks.on_disconnect = [this] { on_disconnect(); };
    auto server = GdbServer::listen(endpoint, std::move(callbacks));
    if (!server) {
        return server.error();
    }
    server_ = std::move(server).value();
    busy_poll_ = std::make_unique<BusyPollWindow>(std::chrono::microseconds(0));
    if (!accel_.supports_guest_debug()) {
        std::fprintf(stderr,
                     "kvmdbg: this host's KVM cannot debug guests (no KVM_CAP_SET_GUEST_DEBUG): "
                     "gdb can read and write state, but breakpoints and single-step fail\n");
    }
    if (endpoint.kind != GdbEndpoint::Kind::stdio) {
        std::fprintf(stderr, "kvmdbg: gdb server listening on %s%s\n", server_->bound_address().c_str(),
                     start_stopped ? " (vCPUs wait for the debugger: -S)" : "");
    }
    return ok_status();
}

bool GdbFrontEnd::wants_stop(std::uint32_t cpu, const KvmdbgDebugStop& stop) {
    return !target_ || target_->wants_stop(cpu, stop);
}

void GdbFrontEnd::queue_debug_stop(const KvmdbgEvent& event) {
    gdb::StopEvent stop = to_stop_event(event.cpu, event.debug);
    if (event.debug.reason == KVMDBG_STOP_DEVICE) {
        if (auto hit = catches_.take_hit(event.cpu); hit && hit->watch_addr) {
            // A gdb watchpoint on device memory: an ordinary watchpoint stop.
            stop.reason = hit->watch_direction == AccessDirection::write  ? gdb::StopReason::write_watchpoint
                          : hit->watch_direction == AccessDirection::read ? gdb::StopReason::read_watchpoint
                                                                          : gdb::StopReason::access_watchpoint;
            stop.address = *hit->watch_addr;
            device_watchpoints_.note_stop(event.cpu, hit->access);
        } else if (hit) {
            stop.console = DeviceAccessCatches::describe(*hit);
        }
    }
    if (target_) {
        stop.registers = target_->registers_from_state(event.state, event.state_size);
    }
    queue_stop(stop);
}

void GdbFrontEnd::on_connect() {
    session_ = std::make_unique<gdb::GdbSession>(*target_, conditions_);
    attached_ = true;
    session_->on_connect();
    pump();
}

void GdbFrontEnd::on_bytes(std::string_view bytes) {
    if (!session_) {
        return;
    }
    if (log_.enabled(LogCategory::gdb)) {
        log_.write(LogCategory::gdb, "<- %.*s", static_cast<int>(std::min<std::size_t>(bytes.size(), 512)),
                   bytes.data());
    }
    session_->receive(bytes);
    pump();
}

void GdbFrontEnd::on_disconnect() {
    if (!session_) {
        return;
    }
    if (!session_->finished()) {
        // gdb vanished mid-session (killed, network gone): behave as a
        // detach, so the guest runs on with no breakpoint left in memory.
        std::fprintf(stderr, "kvmdbg: the debugger went away; removing its breakpoints and resuming the guest\n");
        catches_.clear();
        target_->remove_all_breakpoints();  // device watchpoints too
        target_->detach();
    }
    session_.reset();
    attached_ = false;
}

void GdbFrontEnd::apply_busy_poll_budget() {
    std::chrono::microseconds budget = busy_poll_policy_.budget_now();
    if (budget == busy_poll_budget_) {
        return;
    }
    busy_poll_budget_ = budget;
    busy_poll_->set_length(budget);
    // The parked vCPUs too; a module without the option just sleeps.
    (void)accel_.set_debug_option(KVMDBG_OPT_PARK_SPIN_US, static_cast<std::uint64_t>(budget.count()));
    log_.write(LogCategory::guest_debug, "busy-polling after debugger activity: %lld us",
               static_cast<long long>(budget.count()));
}

void GdbFrontEnd::pump() {
    if (!session_) {
        return;
    }
    apply_busy_poll_budget();
    busy_poll_->open();  // the next packet or stop comes within a round trip
    std::string out = session_->take_output();
    if (!out.empty() && log_.enabled(LogCategory::gdb)) {
        log_.write(LogCategory::gdb, "-> %.*s", static_cast<int>(std::min<std::size_t>(out.size(), 512)), out.data());
    }
    server_->send(out);
    if (!session_->finished()) {
        return;
    }
    gdb::SessionState state = session_->state();
    std::optional<int> status = session_->exit_status();
    catches_.clear();  // the debugger's, like its breakpoints (a stop that races this is resumed)
    device_watchpoints_.clear();
    session_.reset();
    attached_ = false;
    server_->close_client();
    if (state == gdb::SessionState::killed) {
        hooks_.finish(status.value_or(0), "");
    }
    // exited: dispatch_stops() ends the run with the guest's own status.
}

void GdbFrontEnd::queue_stop(const gdb::StopEvent& stop) {
    std::lock_guard lock(stops_mu_);
    stops_.push_back(stop);
    if (!stop_dispatch_pending_) {
        stop_dispatch_pending_ = true;
        g_idle_add(dispatch_stops, this);
    }
}

gboolean GdbFrontEnd::dispatch_stops(gpointer data) {
    auto* self = static_cast<GdbFrontEnd*>(data);
    std::deque<gdb::StopEvent> stops;
    {
        std::lock_guard lock(self->stops_mu_);
        stops.swap(self->stops_);
        self->stop_dispatch_pending_ = false;
    }
    for (const auto& stop : stops) {
        self->dispatch_stop(stop);
    }
    return G_SOURCE_REMOVE;
}

void GdbFrontEnd::dispatch_stop(const gdb::StopEvent& stop) {
    if (stop.reason != gdb::StopReason::exited && target_) {
        target_->note_stopped(stop.thread - 1);
    }
    if (session_) {
        session_->on_target_stop(stop);
        pump();
        if (stop.reason == gdb::StopReason::exited) {
            hooks_.finish(stop.exit_code, "");
        }
    } else if (stop.reason == gdb::StopReason::exited) {
        hooks_.finish(stop.exit_code, "");
    } else if (target_ && stop.reason != gdb::StopReason::signal) {
        // A stop nobody waits for any more (gdb left as it arrived): go on.
        (void)accel_.resume(stop.thread - 1, KVMDBG_RESUME_RUN);
    } else if (stop.reason == gdb::StopReason::signal && stop.signal == gdb::kSigSegv) {
        // A fatal vCPU exit that raced with a detach: queued for gdb (its
        // report is already on stderr) while gdb was leaving. Nobody will
        // inspect it: end as without a debugger instead of leaving the vCPU
        // parked for good (tests/reliability fatal_exit_after_detach).
        hooks_.finish(1, "");
    }
}

}  // namespace kvmdbg::system
