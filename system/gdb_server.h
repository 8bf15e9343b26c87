// GdbServer: the gdb stub's transport on the GLib main loop.
//
// Listens on a GdbEndpoint with GLib sockets (GSocket, GUnixSocketAddress)
// or serves stdin/stdout, accepts one debugger at a time and keeps listening
// after a detach or a dropped connection. All I/O is non-blocking and driven
// by main-loop sources: nothing polls, and a debugger that stops reading
// only grows the output buffer up to a cap, then loses its connection — the
// emulator never blocks on it. A second simultaneous client is refused with
// a line on stderr; the first keeps working.
//
// Threads: main thread only (the GLib default main context).
#pragma once

#include <gio/gio.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "system/gdb_endpoint.h"

namespace kvmdbg::system {

class GdbServer {
public:
    struct Callbacks {
        std::function<void()> on_connect;                  ///< a debugger connected
        std::function<void(std::string_view)> on_bytes;    ///< bytes from it
        std::function<void()> on_disconnect;               ///< it went away
    };

    /// Most bytes queued for a client that does not read before it is dropped.
    static constexpr std::size_t kMaxPendingOutput = 64u << 20;

    /// Starts listening. Errors name the endpoint (address in use, bad host,
    /// socket path not creatable).
    static Result<std::unique_ptr<GdbServer>> listen(const GdbEndpoint& endpoint, Callbacks callbacks);
    /// Closes every socket; removes the unix socket file.
    ~GdbServer();
    GdbServer(const GdbServer&) = delete;
    GdbServer& operator=(const GdbServer&) = delete;

    /// Queues bytes for the connected debugger (dropped if none).
    void send(std::string_view bytes);
    /// Flushes what can be written, then closes the connection; the server
    /// keeps listening (stdio: ends for good).
    void close_client();
    bool connected() const { return client_ != nullptr || stdio_connected_; }
    /// The address actually bound ("tcp 127.0.0.1:40123", "unix PATH", "stdio").
    std::string bound_address() const;

private:
    explicit GdbServer(const GdbEndpoint& endpoint, Callbacks callbacks);
    Status start();
    Status start_stdio();
    static gboolean on_listener_ready(GSocket* socket, GIOCondition cond, gpointer self);
    static gboolean on_client_ready(GSocket* socket, GIOCondition cond, gpointer self);
    static gboolean on_stdin_ready(gint fd, GIOCondition cond, gpointer self);
    static gboolean on_stdout_ready(gint fd, GIOCondition cond, gpointer self);
    void accept_client();
    void drop_client(const char* why);
    /// Writes as much of pending_ as the peer takes; arms a G_IO_OUT watch
    /// for the rest. Returns false if the connection broke.
    bool flush();

    GdbEndpoint endpoint_;
    Callbacks callbacks_;
    GSocket* listener_ = nullptr;
    GSource* listen_source_ = nullptr;
    GSocket* client_ = nullptr;
    GSource* client_source_ = nullptr;
    GSource* client_out_source_ = nullptr;
    guint stdin_watch_ = 0;
    guint stdout_watch_ = 0;
    bool stdio_connected_ = false;
    std::string pending_;
    std::uint16_t bound_port_ = 0;
};

}  // namespace kvmdbg::system
