// GdbConnection: the debugger's side of one gdb endpoint, the same for
// kvmdbg's own front end (GdbFrontEnd) and the SDK's gdb stub
// (sdk/gdbstub.cc): the server (gdb_server.h) listening on the endpoint, a
// GdbSession over a DebugTarget for each debugger that connects, and the
// queue that carries the vCPUs' stops to the session's thread.
//
//   server: connect     -> a new session, on_connect (stops every vCPU)
//   server: bytes       -> session.receive, then the session's output sent
//   server: disconnect  -> mid-session: as a detach (breakpoints removed,
//                          the guest runs on)
//   session finished    -> the connection closes (D, k, the guest's exit)
//   queue_stop (any thread) -> the session's thread: session.on_target_stop,
//                          or, with nobody attached, the owner decides
//
// What differs between the owners (logging, busy polling, device catches,
// how the run ends, what happens to a stop nobody waits for) comes in as
// Hooks; every hook is optional.
//
// Threads: created on the thread whose thread-default GMainContext (the
// global default one when none was pushed) runs the server and the stop
// queue; every member runs there, except attached() and queue_stop(),
// which any thread calls.
#pragma once

#include <glib.h>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "gdbstub-glue/condition_evaluator.h"
#include "gdbstub-glue/debug_target.h"
#include "gdbstub-glue/gdb_session.h"
#include "gdbstub-glue/stop_event.h"
#include "system/gdb_endpoint.h"
#include "system/gdb_server.h"

namespace kvmdbg::system {

class GdbConnection {
public:
    enum class Direction { from_gdb, to_gdb };

    struct Hooks {
        /// Every exchange with gdb, before the session's output is sent.
        std::function<void()> on_activity;
        /// The bytes of every exchange (for a log).
        std::function<void(Direction direction, std::string_view bytes)> trace;
        /// The debugger leaves (its session finished, or it went away
        /// mid-session, then before its breakpoints are removed): drop what
        /// it set up outside the DebugTarget.
        std::function<void()> forget_debugger;
        /// The session finished (detached, killed, exited) and its
        /// connection is closed; `exit_status` is the session's.
        std::function<void(gdb::SessionState state, std::optional<int> exit_status)> on_finished;
        /// A vCPU's stop is being dispatched (not for `exited`).
        std::function<void(const gdb::StopEvent& stop)> on_stop;
        /// An `exited` stop was dispatched (after the session saw it).
        std::function<void(int exit_code)> on_exit;
        /// A stop arrived with no debugger attached (it left as the stop
        /// came); not for `exited`.
        std::function<void(const gdb::StopEvent& stop)> on_unattended_stop;
    };

    explicit GdbConnection(Hooks hooks);
    /// Ends the session before the server, so that closing the connection
    /// is not taken for a debugger that went away; drops queued stops.
    ~GdbConnection();
    GdbConnection(const GdbConnection&) = delete;
    GdbConnection& operator=(const GdbConnection&) = delete;

    /// Listens on `endpoint`; every debugger that connects debugs
    /// `target`, which must outlive the connection. Errors: the server's
    /// (address in use, bad path). Once.
    Status listen(const GdbEndpoint& endpoint, gdb::DebugTarget& target);
    /// The address bound (GdbServer::bound_address); "" before listen.
    std::string bound_address() const;

    /// Ends for good while the loop may not run again: a debugger still
    /// attached is treated as gone (its breakpoints removed, the target
    /// detached) and its connection closed; stops still queued are
    /// dispatched now (with nobody attached). The server keeps listening
    /// until the connection is destroyed.
    void close();

    /// Whether a debugger is connected now. Any thread.
    bool attached() const { return attached_; }
    /// Queues a stop for the session and wakes the connection's context.
    /// Stops queued before listen() are dispatched as with nobody attached.
    /// Any thread.
    void queue_stop(const gdb::StopEvent& stop);

private:
    void on_connect();
    void on_bytes(std::string_view bytes);
    void on_disconnect();
    /// Ends the session of a debugger that did not detach as if it had
    /// (no breakpoint left in memory, the guest runs on).
    void end_unfinished_session();
    /// Sends the session's output; acts on detach/kill/exit.
    void pump();
    static gboolean dispatch_stops(gpointer self);
    void dispatch_stop(const gdb::StopEvent& stop);

    Hooks hooks_;
    GMainContext* context_;               // where the stop queue's source runs (a reference)
    gdb::DebugTarget* target_ = nullptr;  // set by listen()
    gdb::AgentExprConditionEvaluator conditions_;
    std::unique_ptr<gdb::GdbSession> session_;
    std::unique_ptr<GdbServer> server_;
    std::atomic<bool> attached_{false};
    std::mutex stops_mu_;
    std::deque<gdb::StopEvent> stops_;
    GSource* stop_dispatch_ = nullptr;  // guarded by stops_mu_: the pending dispatch
};

}  // namespace kvmdbg::system
