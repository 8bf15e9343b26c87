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
      device_watchpoints_(bus, catches, cpus),
      connection_(std::make_unique<GdbConnection>(connection_hooks())) {}

GdbFrontEnd::~GdbFrontEnd() {
    // The stub goes first (it calls the target, which calls the accelerator).
    connection_.reset();
    target_.reset();
}

GdbConnection::Hooks GdbFrontEnd::connection_hooks() {
    GdbConnection::Hooks hooks;
    hooks.on_activity = [this] {
        apply_busy_poll_budget();
        busy_poll_->open();  // the next packet or stop comes within a round trip
    };
    hooks.trace = [this](GdbConnection::Direction direction, std::string_view bytes) { trace(direction, bytes); };
    hooks.forget_debugger = [this] {
        catches_.clear();  // the debugger's, like its breakpoints (a stop that races this is resumed)
        device_watchpoints_.clear();
    };
    hooks.on_finished = [this](gdb::SessionState state, std::optional<int> status) {
        if (state == gdb::SessionState::killed) {
            hooks_.finish(status.value_or(0), "");
        }
    };
    hooks.on_stop = [this](const gdb::StopEvent& stop) {
        if (target_) {
            target_->note_stopped(stop.thread - 1);
        }
    };
    hooks.on_exit = [this](int exit_code) { hooks_.finish(exit_code, ""); };
    hooks.on_unattended_stop = [this](const gdb::StopEvent& stop) { on_unattended_stop(stop); };
    return hooks;
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
    busy_poll_ = std::make_unique<BusyPollWindow>(std::chrono::microseconds(0));
    if (auto s = connection_->listen(endpoint, *target_); !s) {
        return s;
    }
    if (!accel_.supports_guest_debug()) {
        std::fprintf(stderr,
                     "kvmdbg: this host's KVM cannot debug guests (no KVM_CAP_SET_GUEST_DEBUG): "
                     "gdb can read and write state, but breakpoints and single-step fail\n");
    }
    if (endpoint.kind != GdbEndpoint::Kind::stdio) {
        std::fprintf(stderr, "kvmdbg: gdb server listening on %s%s\n", connection_->bound_address().c_str(),
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

void GdbFrontEnd::trace(GdbConnection::Direction direction, std::string_view bytes) {
    if (log_.enabled(LogCategory::gdb)) {
        log_.write(LogCategory::gdb, "%s %.*s", direction == GdbConnection::Direction::from_gdb ? "<-" : "->",
                   static_cast<int>(std::min<std::size_t>(bytes.size(), 512)), bytes.data());
    }
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

void GdbFrontEnd::queue_stop(const gdb::StopEvent& stop) { connection_->queue_stop(stop); }

void GdbFrontEnd::on_unattended_stop(const gdb::StopEvent& stop) {
    if (target_ && stop.reason != gdb::StopReason::signal) {
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
