// GdbFrontEnd: the debugger's side of one kvmdbg run. It serves an
// AccelDebugTarget through a GdbConnection (gdb_connection.h: the server,
// a GdbSession per debugger, the queue of the vCPUs' stops) and adds what
// is kvmdbg's own: `monitor` commands, device-access catches and device
// watchpoints, the gdb log, and busy polling of the main loop after
// debugger activity (busy_poll_policy.h).
//
// The Emulator (emulator.h) builds the machine and the accelerator, creates
// one GdbFrontEnd for the run and starts it when -gdb/-s asked for a server,
// handing it the accelerator, the machine's memory map for gdb and the
// run's hooks (end the run, reset the machine). Without start() it holds no
// target: stops queued then are dispatched as when gdb has gone.
//
// Threads: everything runs on the main thread (GLib main loop) except
// attached(), wants_stop(), queue_stop() and queue_debug_stop(), which vCPU
// threads call.
#pragma once

#include <glib.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accel/accelerator.h"
#include "common/log.h"
#include "common/result.h"
#include "system/accel_debug_target.h"
#include "system/busy_poll_policy.h"
#include "system/busy_poll_window.h"
#include "system/debug_stop_abi.h"
#include "system/device_access_catches.h"
#include "system/device_access_trace.h"
#include "system/device_watchpoints.h"
#include "system/gdb_connection.h"
#include "system/gdb_endpoint.h"

namespace kvmdbg::system {

class GdbFrontEnd {
public:
    /// What the run lets the debugger do. Main thread.
    struct Hooks {
        /// End the run with this exit status (gdb's kill, monitor quit, the
        /// guest exiting while gdb watched); the message goes to stderr.
        std::function<void(int status, std::string message)> finish;
        /// `monitor system_reset`: reset the machine, vCPUs left stopped.
        std::function<Status(const std::string& reason)> reset_machine;
        /// `monitor info mtree`: the machine's address map as text.
        std::function<std::string()> address_map;
        /// `monitor info devices`: the machine's devices as text.
        std::function<std::string()> device_list;
        /// `monitor info device NAME`: its registers; std::nullopt: no such device.
        std::function<std::optional<std::string>(const std::string& name)> device_state;
        /// The debugger resumes vCPU `cpu`: true when the machine ends
        /// instead (an exit write a catch stopped), the vCPU staying put.
        std::function<bool(std::uint32_t cpu)> exit_on_resume;
    };

    /// `accel`, `bus` and `catches` must outlive the front end; `cpus` is
    /// the vCPU count. `catches` are the device path's (`monitor catch`,
    /// and gdb's watchpoints on the MMIO devices of `bus`): the front end
    /// sets them and clears them when the debugger leaves.
    GdbFrontEnd(accel::Accelerator& accel, std::uint32_t cpus, Log& log, Hooks hooks, hw::IoBus& bus,
                DeviceAccessCatches& catches, DeviceAccessTrace& trace);
    /// Ends the connection before the target it calls.
    ~GdbFrontEnd();
    GdbFrontEnd(const GdbFrontEnd&) = delete;
    GdbFrontEnd& operator=(const GdbFrontEnd&) = delete;

    /// Creates the debug target over `memory_map` (qXfer:memory-map) for
    /// guests of `arch` and listens on `endpoint`; says on stderr where
    /// (`start_stopped`: that the vCPUs wait, -S) and what the host cannot
    /// do. Errors: the server's (address in use, bad path). Main thread, once.
    Status start(const GdbEndpoint& endpoint, std::vector<gdb::MemoryRegion> memory_map, KvmdbgArch arch,
                 bool start_stopped);

    /// Whether a debugger is connected now. Any thread.
    bool attached() const { return connection_->attached(); }
    /// vCPU thread: a breakpoint stop whose target-side conditions are all
    /// false is not wanted (AccelDebugTarget::wants_stop); without a target
    /// every stop is.
    bool wants_stop(std::uint32_t cpu, const KvmdbgDebugStop& stop);
    /// Any thread: queues `event`'s debug stop, with the registers read as
    /// the vCPU parked (the stop reply then needs no round trip).
    void queue_debug_stop(const KvmdbgEvent& event);
    /// Any thread: queues a stop for the session and wakes the main loop.
    void queue_stop(const gdb::StopEvent& stop);

private:
    /// What the connection's hooks do for kvmdbg.
    GdbConnection::Hooks connection_hooks();
    void trace(GdbConnection::Direction direction, std::string_view bytes);
    /// A stop that arrived as gdb left: the vCPU goes on (a fatal one ends the run).
    void on_unattended_stop(const gdb::StopEvent& stop);
    /// monitor_commands.cc: `monitor CMD`'s reply text.
    std::string monitor_command(std::string_view command);
    /// Applies busy_poll_policy_'s current budget to the main loop's window
    /// and the parked vCPUs when it changed.
    void apply_busy_poll_budget();

    accel::Accelerator& accel_;
    const std::uint32_t cpus_;
    Log& log_;
    Hooks hooks_;
    DeviceAccessCatches& catches_;
    DeviceAccessTrace& trace_;  // monitor trace io / info io
    DeviceWatchpoints device_watchpoints_;
    std::unique_ptr<AccelDebugTarget> target_;
    std::unique_ptr<GdbConnection> connection_;  // exists from construction: stops queue before start()
    // Opened on every exchange with gdb: the main loop polls without
    // sleeping until the next packet or stop (busy_poll_window.h).
    std::unique_ptr<BusyPollWindow> busy_poll_;
    BusyPollPolicy busy_poll_policy_;
    std::chrono::microseconds busy_poll_budget_{0};  // what busy_poll_ and the vCPUs use now
};

}  // namespace kvmdbg::system
