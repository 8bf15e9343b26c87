// GdbServer: the gdb stub's transport on the GLib main loop.
//
// Listens on a GdbEndpoint with GLib sockets (GSocket, GUnixSocketAddress)
// or serves stdin/stdout, accepts one debugger at a time and keeps listening
// after a detach or a dropped connection. All I/O is non-blocking and driven
// by main-loop sources: nothing polls, and a debugger that stops reading
// only grows the output buffer up to a cap, then loses its connection — the
// emulator never blocks on it. A second simultaneous client is refused: it
// gets one reply to its first packet, `E.kvmdbg: a debugger is already
// attached ...` (gdb prints "Remote failure reply: E.kvmdbg: ..."; gdb
// manual, "Standard Replies"), then the connection closes; kvmdbg prints a
// line on stderr. The first client keeps working throughout.
//
// Threads: the thread that created it, whose thread-default GMainContext
// (g_main_context_get_thread_default(): the global default one when none
// was pushed, as in the emulator) runs every source of the server; the
// SDK's gdb stub creates it inside its own thread and context.
#pragma once

#include <gio/gio.h>
#include <glib-unix.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "system/gdb_endpoint.h"

namespace kvmdbg::system {

class GdbServer {
public:
    struct Callbacks {
        std::function<void()> on_connect;                ///< a debugger connected
        std::function<void(std::string_view)> on_bytes;  ///< bytes from it
        std::function<void()> on_disconnect;             ///< it went away
    };

    /// Most bytes queued for a client that does not read before it is dropped.
    static constexpr std::size_t kMaxPendingOutput = 64u << 20;
    /// Refused clients waiting for their E.text reply at one time; more are
    /// closed at once without a reply.
    static constexpr std::size_t kMaxRefusedClients = 4;
    /// How long a refused client may take to send its first packet.
    static constexpr guint kRefusedClientTimeoutMs = 2000;
    /// The payload a refused second client gets.
    static constexpr std::string_view kRefusalReply =
        "E.kvmdbg: a debugger is already attached to this VM; this connection is refused";

    /// Starts listening. Errors name the endpoint (address in use, bad host,
    /// socket path not creatable).
    static Result<std::unique_ptr<GdbServer>> listen(const GdbEndpoint& endpoint, Callbacks callbacks);
    /// Closes every socket; removes the unix socket file.
    ~GdbServer();
    GdbServer(const GdbServer&) = delete;
    GdbServer& operator=(const GdbServer&) = delete;

    /// Queues bytes for the connected debugger (dropped if none). If the
    /// client has to be dropped (output cap reached, connection broken),
    /// the socket closes at once but on_disconnect runs later, from the
    /// main loop (or before the next on_connect): never inside send(), so
    /// the caller's session outlives the call.
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
    /// Watches `fd` in the server's context; the source's id.
    guint add_fd_watch(int fd, GIOCondition condition, GUnixFDSourceFunc callback);
    void accept_client();
    void refuse_client(GSocket* socket);
    void drop_client(const char* why);
    /// drop_client() whose on_disconnect is deferred (see send()).
    void drop_client_deferred(const char* why);
    static gboolean on_deferred_disconnect(gpointer self);
    /// Runs a deferred on_disconnect now, if one is pending.
    void deliver_deferred_disconnect();
    /// Writes as much of pending_ as the peer takes; arms a G_IO_OUT watch
    /// for the rest. Returns false if the connection broke.
    bool flush();
    /// One write of `bytes` to the client (or stdout): how many it took (0
    /// when it would block), -1 when the connection broke. With no client,
    /// all of them (dropped).
    gssize write_some(std::string_view bytes);

    GdbEndpoint endpoint_;
    Callbacks callbacks_;
    GMainContext* context_;  ///< where every source is attached (a reference)
    GSocket* listener_ = nullptr;
    GSource* listen_source_ = nullptr;
    GSocket* client_ = nullptr;
    GSource* client_source_ = nullptr;
    GSource* client_out_source_ = nullptr;
    guint stdio_connect_ = 0;  ///< idle source that connects stdio's debugger
    guint stdin_watch_ = 0;
    guint stdout_watch_ = 0;
    bool stdio_connected_ = false;
    std::string pending_;
    std::uint16_t bound_port_ = 0;
    guint deferred_disconnect_ = 0;  ///< idle source of a deferred on_disconnect

    // A second client while one is attached: answered with kRefusalReply
    // once its first packet is complete (gdb discards anything that
    // arrives before it sends), then closed. Owned; closed on destruction.
    struct RefusedClient {
        GdbServer* server = nullptr;
        GSocket* socket = nullptr;
        GSource* source = nullptr;
        guint timeout_id = 0;
        std::string received;  ///< at most kRefusedInputCap bytes
    };
    static gboolean on_refused_ready(GSocket* socket, GIOCondition cond, gpointer data);
    static gboolean on_refused_timeout(gpointer data);
    void close_refused(RefusedClient* refused);
    std::vector<std::unique_ptr<RefusedClient>> refused_;
};

}  // namespace kvmdbg::system
