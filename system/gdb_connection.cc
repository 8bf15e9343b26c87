#include "system/gdb_connection.h"

#include <cstdio>
#include <utility>

namespace kvmdbg::system {

GdbConnection::GdbConnection(Hooks hooks) : hooks_(std::move(hooks)), context_(g_main_context_ref_thread_default()) {}

GdbConnection::~GdbConnection() {
    session_.reset();
    server_.reset();
    {
        std::lock_guard lock(stops_mu_);
        if (stop_dispatch_ != nullptr) {
            g_source_destroy(stop_dispatch_);
            g_source_unref(stop_dispatch_);
            stop_dispatch_ = nullptr;
        }
    }
    g_main_context_unref(context_);
}

Status GdbConnection::listen(const GdbEndpoint& endpoint, gdb::DebugTarget& target) {
    target_ = &target;
    GdbServer::Callbacks callbacks;
    callbacks.on_connect = [this] { on_connect(); };
    callbacks.on_bytes = [this](std::string_view bytes) { on_bytes(bytes); };
    callbacks.on_disconnect = [this] { on_disconnect(); };
    auto server = GdbServer::listen(endpoint, std::move(callbacks));
    if (!server) {
        target_ = nullptr;
        return server.error();
    }
    server_ = std::move(server).value();
    return ok_status();
}

std::string GdbConnection::bound_address() const { return server_ ? server_->bound_address() : std::string(); }

void GdbConnection::on_connect() {
    session_ = std::make_unique<gdb::GdbSession>(*target_, conditions_);
    attached_ = true;
    session_->on_connect();
    pump();
}

void GdbConnection::on_bytes(std::string_view bytes) {
    if (!session_) {
        return;
    }
    if (hooks_.trace) {
        hooks_.trace(Direction::from_gdb, bytes);
    }
    session_->receive(bytes);
    pump();
}

void GdbConnection::on_disconnect() {
    if (!session_) {
        return;
    }
    if (!session_->finished()) {
        // gdb vanished mid-session (killed, network gone).
        std::fprintf(stderr, "kvmdbg: the debugger went away; removing its breakpoints and resuming the guest\n");
    }
    end_unfinished_session();
}

void GdbConnection::end_unfinished_session() {
    if (!session_->finished()) {
        if (hooks_.forget_debugger) {
            hooks_.forget_debugger();
        }
        target_->remove_all_breakpoints();
        target_->detach();
    }
    session_.reset();
    attached_ = false;
}

void GdbConnection::close() {
    if (session_) {
        end_unfinished_session();
    }
    if (server_) {
        server_->close_client();
    }
    std::deque<gdb::StopEvent> stops;
    {
        std::lock_guard lock(stops_mu_);
        stops.swap(stops_);
        if (stop_dispatch_ != nullptr) {
            g_source_destroy(stop_dispatch_);
            g_source_unref(stop_dispatch_);
            stop_dispatch_ = nullptr;
        }
    }
    for (const auto& stop : stops) {
        dispatch_stop(stop);
    }
}

void GdbConnection::pump() {
    if (!session_) {
        return;
    }
    if (hooks_.on_activity) {
        hooks_.on_activity();
    }
    std::string out = session_->take_output();
    if (!out.empty() && hooks_.trace) {
        hooks_.trace(Direction::to_gdb, out);
    }
    server_->send(out);
    if (!session_->finished()) {
        return;
    }
    gdb::SessionState state = session_->state();
    std::optional<int> status = session_->exit_status();
    if (hooks_.forget_debugger) {
        hooks_.forget_debugger();  // like its breakpoints (a stop that races this is resumed)
    }
    session_.reset();
    attached_ = false;
    server_->close_client();
    if (hooks_.on_finished) {
        hooks_.on_finished(state, status);
    }
    // exited: dispatch_stop() tells on_exit.
}

void GdbConnection::queue_stop(const gdb::StopEvent& stop) {
    std::lock_guard lock(stops_mu_);
    stops_.push_back(stop);
    if (stop_dispatch_ == nullptr) {
        // Attaching from another thread wakes the context's poll.
        stop_dispatch_ = g_idle_source_new();
        g_source_set_callback(stop_dispatch_, dispatch_stops, this, nullptr);
        g_source_attach(stop_dispatch_, context_);
    }
}

gboolean GdbConnection::dispatch_stops(gpointer data) {
    auto* self = static_cast<GdbConnection*>(data);
    std::deque<gdb::StopEvent> stops;
    {
        std::lock_guard lock(self->stops_mu_);
        stops.swap(self->stops_);
        g_source_unref(self->stop_dispatch_);  // the context keeps it until we return
        self->stop_dispatch_ = nullptr;
    }
    for (const auto& stop : stops) {
        self->dispatch_stop(stop);
    }
    return G_SOURCE_REMOVE;
}

void GdbConnection::dispatch_stop(const gdb::StopEvent& stop) {
    const bool exited = stop.reason == gdb::StopReason::exited;
    if (!exited && hooks_.on_stop) {
        hooks_.on_stop(stop);
    }
    const bool attached = session_ != nullptr;  // pump() may end the session
    if (attached) {
        session_->on_target_stop(stop);
        pump();
    }
    if (exited) {
        if (hooks_.on_exit) {
            hooks_.on_exit(stop.exit_code);
        }
    } else if (!attached && hooks_.on_unattended_stop) {
        hooks_.on_unattended_stop(stop);
    }
}

}  // namespace kvmdbg::system
