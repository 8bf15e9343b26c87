#include "system/gdb_server.h"

#include <gio/gunixsocketaddress.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "gdbstub-glue/packet_framer.h"

namespace kvmdbg::system {

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
// What a refused client may send before it is answered anyway.
constexpr std::size_t kRefusedInputCap = 4096;

// True once `bytes` hold a whole packet: '$', payload, '#', two characters.
bool has_whole_packet(const std::string& bytes) {
    auto start = bytes.find('$');
    if (start == std::string::npos) {
        return false;
    }
    auto hash = bytes.find('#', start);
    return hash != std::string::npos && bytes.size() >= hash + 3;
}

// Attaches `source` to `context` and drops the caller's reference: the
// source then lives until it is destroyed or its callback removes it.
guint attach_source(GSource* source, GMainContext* context) {
    guint id = g_source_attach(source, context);
    g_source_unref(source);
    return id;
}

// g_source_remove() looks ids up in the global default context only; the
// server's sources live in the context it was created in.
void remove_source(GMainContext* context, guint id) {
    if (GSource* source = g_main_context_find_source_by_id(context, id)) {
        g_source_destroy(source);
    }
}

std::string gerror_text(GError* error) {
    std::string text = error != nullptr ? error->message : "unknown error";
    g_clear_error(&error);
    return text;
}

}  // namespace

GdbServer::GdbServer(const GdbEndpoint& endpoint, Callbacks callbacks)
    : endpoint_(endpoint), callbacks_(std::move(callbacks)), context_(g_main_context_ref_thread_default()) {}

Result<std::unique_ptr<GdbServer>> GdbServer::listen(const GdbEndpoint& endpoint, Callbacks callbacks) {
    std::unique_ptr<GdbServer> server(new GdbServer(endpoint, std::move(callbacks)));
    Status s = endpoint.kind == GdbEndpoint::Kind::stdio ? server->start_stdio() : server->start();
    if (!s) {
        return s.error();
    }
    return server;
}

Status GdbServer::start() {
    GError* error = nullptr;
    GSocketAddress* address = nullptr;
    GSocketFamily family = G_SOCKET_FAMILY_IPV4;
    if (endpoint_.kind == GdbEndpoint::Kind::unix_socket) {
        family = G_SOCKET_FAMILY_UNIX;
        ::unlink(endpoint_.path.c_str());  // a stale socket from an earlier run
        address = g_unix_socket_address_new(endpoint_.path.c_str());
    } else {
        GInetAddress* inet = g_inet_address_new_from_string(endpoint_.host.c_str());
        if (inet == nullptr) {
            return make_error(EINVAL, "-gdb: '" + endpoint_.host + "' is not an IP address");
        }
        family = g_inet_address_get_family(inet);
        address = g_inet_socket_address_new(inet, endpoint_.port);
        g_object_unref(inet);
    }
    listener_ = g_socket_new(family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &error);
    if (listener_ == nullptr) {
        g_object_unref(address);
        return make_error(EIO, "gdb server: cannot create a socket: " + gerror_text(error));
    }
    g_socket_set_blocking(listener_, FALSE);
    // A unix socket must never be reachable by other users, not even for the
    // instant between bind() and chmod(): bind under a tight umask.
    mode_t old_mask = endpoint_.kind == GdbEndpoint::Kind::unix_socket ? ::umask(0177) : ::umask(::umask(0));
    gboolean bound = g_socket_bind(listener_, address, TRUE, &error);
    ::umask(old_mask);
    g_object_unref(address);
    if (!bound) {
        return make_error(EADDRINUSE,
                          "gdb server: cannot listen on " + endpoint_.describe() + ": " + gerror_text(error));
    }
    if (endpoint_.kind == GdbEndpoint::Kind::unix_socket) {
        ::chmod(endpoint_.path.c_str(), 0600);
    }
    if (!g_socket_listen(listener_, &error)) {
        return make_error(EIO, "gdb server: listen on " + endpoint_.describe() + ": " + gerror_text(error));
    }
    if (endpoint_.kind == GdbEndpoint::Kind::tcp) {
        GSocketAddress* local = g_socket_get_local_address(listener_, nullptr);
        if (local != nullptr) {
            bound_port_ = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
            g_object_unref(local);
        }
    }
    listen_source_ = g_socket_create_source(listener_, G_IO_IN, nullptr);
    g_source_set_callback(listen_source_, G_SOURCE_FUNC(on_listener_ready), this, nullptr);
    g_source_attach(listen_source_, context_);
    return ok_status();
}

Status GdbServer::start_stdio() {
    g_unix_set_fd_nonblocking(STDIN_FILENO, TRUE, nullptr);
    g_unix_set_fd_nonblocking(STDOUT_FILENO, TRUE, nullptr);
    stdio_connected_ = true;
    // The debugger is there from the start (it spawned us): connect on the
    // first main-loop iteration, when the rest of the emulator is ready, and
    // only then watch stdin. An fd watch runs before an idle source, so bytes
    // already waiting (gdb's first qSupported) would otherwise be read before
    // the session exists and be lost: gdb then waits remotetimeout to resend.
    GSource* connect = g_idle_source_new();
    g_source_set_callback(
        connect,
        [](gpointer self) -> gboolean {
            auto* server = static_cast<GdbServer*>(self);
            server->stdio_connect_ = 0;
            if (server->callbacks_.on_connect) {
                server->callbacks_.on_connect();
            }
            if (server->stdio_connected_ && server->stdin_watch_ == 0) {
                server->stdin_watch_ = server->add_fd_watch(STDIN_FILENO,
                                                            static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR),
                                                            on_stdin_ready);
            }
            return G_SOURCE_REMOVE;
        },
        this, nullptr);
    stdio_connect_ = attach_source(connect, context_);
    return ok_status();
}

GdbServer::~GdbServer() {
    if (deferred_disconnect_ != 0) {
        remove_source(context_, deferred_disconnect_);  // nobody is left to tell
        deferred_disconnect_ = 0;
    }
    while (!refused_.empty()) {
        close_refused(refused_.back().get());
    }
    drop_client(nullptr);
    if (listen_source_ != nullptr) {
        g_source_destroy(listen_source_);
        g_source_unref(listen_source_);
    }
    if (listener_ != nullptr) {
        g_socket_close(listener_, nullptr);
        g_object_unref(listener_);
    }
    if (endpoint_.kind == GdbEndpoint::Kind::unix_socket) {
        ::unlink(endpoint_.path.c_str());
    }
    if (stdio_connect_ != 0) {
        remove_source(context_, stdio_connect_);
    }
    if (stdin_watch_ != 0) {
        remove_source(context_, stdin_watch_);
    }
    if (stdout_watch_ != 0) {
        remove_source(context_, stdout_watch_);
    }
    g_main_context_unref(context_);
}

guint GdbServer::add_fd_watch(int fd, GIOCondition condition, GUnixFDSourceFunc callback) {
    GSource* source = g_unix_fd_source_new(fd, condition);
    g_source_set_callback(source, G_SOURCE_FUNC(callback), this, nullptr);
    return attach_source(source, context_);
}

std::string GdbServer::bound_address() const {
    if (endpoint_.kind == GdbEndpoint::Kind::tcp) {
        GdbEndpoint actual = endpoint_;
        actual.port = bound_port_;
        return actual.describe();
    }
    return endpoint_.describe();
}

gboolean GdbServer::on_listener_ready(GSocket*, GIOCondition, gpointer self) {
    static_cast<GdbServer*>(self)->accept_client();
    return G_SOURCE_CONTINUE;
}

void GdbServer::accept_client() {
    GError* error = nullptr;
    GSocket* socket = g_socket_accept(listener_, nullptr, &error);
    if (socket == nullptr) {
        g_clear_error(&error);  // the peer went away before we accepted: nothing to do
        return;
    }
    if (client_ != nullptr) {
        std::fprintf(stderr, "kvmdbg: refused a second gdb connection on %s: a debugger is already attached\n",
                     bound_address().c_str());
        refuse_client(socket);
        return;
    }
    deliver_deferred_disconnect();  // the previous client's end comes before this one's start
    g_socket_set_blocking(socket, FALSE);
    if (endpoint_.kind == GdbEndpoint::Kind::tcp) {
        // Every reply is one small write that gdb waits for: no Nagle delay.
        g_socket_set_option(socket, IPPROTO_TCP, TCP_NODELAY, 1, nullptr);
        // No fixed SO_SNDBUF: measured on loopback, a 1 MiB one (which
        // turns off the kernel's send-buffer autotuning) made `g` round
        // trips 25 -> 200 us in half the runs and 64 KiB `m` reads slower.
    }
    client_ = socket;
    client_source_ = g_socket_create_source(client_, static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR), nullptr);
    g_source_set_callback(client_source_, G_SOURCE_FUNC(on_client_ready), this, nullptr);
    g_source_attach(client_source_, context_);
    pending_.clear();
    if (callbacks_.on_connect) {
        callbacks_.on_connect();
    }
}

void GdbServer::refuse_client(GSocket* socket) {
    if (refused_.size() >= kMaxRefusedClients) {
        g_socket_close(socket, nullptr);
        g_object_unref(socket);
        return;
    }
    g_socket_set_blocking(socket, FALSE);
    auto refused = std::make_unique<RefusedClient>();
    refused->server = this;
    refused->socket = socket;
    refused->source = g_socket_create_source(socket, static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR), nullptr);
    g_source_set_callback(refused->source, G_SOURCE_FUNC(on_refused_ready), refused.get(), nullptr);
    g_source_attach(refused->source, context_);
    GSource* timeout = g_timeout_source_new(kRefusedClientTimeoutMs);
    g_source_set_callback(timeout, on_refused_timeout, refused.get(), nullptr);
    refused->timeout_id = attach_source(timeout, context_);
    refused_.push_back(std::move(refused));
}

gboolean GdbServer::on_refused_ready(GSocket* socket, GIOCondition, gpointer data) {
    auto* refused = static_cast<RefusedClient*>(data);
    char buf[1024];
    GError* error = nullptr;
    gssize n = g_socket_receive(socket, buf, sizeof buf, nullptr, &error);
    if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        g_clear_error(&error);
        return G_SOURCE_CONTINUE;
    }
    g_clear_error(&error);
    if (n <= 0) {
        refused->server->close_refused(refused);  // it left without a packet
        return G_SOURCE_REMOVE;
    }
    refused->received.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n),
                                                        kRefusedInputCap - refused->received.size()));
    if (!has_whole_packet(refused->received) && refused->received.size() < kRefusedInputCap) {
        return G_SOURCE_CONTINUE;
    }
    // One small packet into an empty socket buffer: a non-blocking send
    // takes it whole or the peer is gone anyway.
    std::string reply = "+" + gdb::frame_packet(kRefusalReply);
    g_socket_send(socket, reply.data(), reply.size(), nullptr, nullptr);
    refused->server->close_refused(refused);
    return G_SOURCE_REMOVE;
}

gboolean GdbServer::on_refused_timeout(gpointer data) {
    auto* refused = static_cast<RefusedClient*>(data);
    refused->timeout_id = 0;
    refused->server->close_refused(refused);
    return G_SOURCE_REMOVE;
}

void GdbServer::close_refused(RefusedClient* refused) {
    if (refused->timeout_id != 0) {
        remove_source(context_, refused->timeout_id);
    }
    g_source_destroy(refused->source);
    g_source_unref(refused->source);
    g_socket_close(refused->socket, nullptr);
    g_object_unref(refused->socket);
    std::erase_if(refused_, [refused](const auto& r) { return r.get() == refused; });
}

gboolean GdbServer::on_client_ready(GSocket* socket, GIOCondition cond, gpointer data) {
    auto* self = static_cast<GdbServer*>(data);
    if ((cond & G_IO_OUT) != 0) {
        if (!self->flush()) {
            self->drop_client("the connection broke");
        }
        return G_SOURCE_CONTINUE;
    }
    char buf[kReadChunk];
    GError* error = nullptr;
    gssize n = g_socket_receive(socket, buf, sizeof buf, nullptr, &error);
    if (n > 0) {
        if (self->callbacks_.on_bytes) {
            self->callbacks_.on_bytes({buf, static_cast<std::size_t>(n)});
        }
        return G_SOURCE_CONTINUE;
    }
    if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        g_clear_error(&error);
        return G_SOURCE_CONTINUE;
    }
    g_clear_error(&error);
    self->drop_client(nullptr);  // EOF or error: gdb went away
    return G_SOURCE_REMOVE;
}

gboolean GdbServer::on_stdin_ready(gint fd, GIOCondition, gpointer data) {
    auto* self = static_cast<GdbServer*>(data);
    char buf[kReadChunk];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
        if (self->callbacks_.on_bytes) {
            self->callbacks_.on_bytes({buf, static_cast<std::size_t>(n)});
        }
        return G_SOURCE_CONTINUE;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return G_SOURCE_CONTINUE;
    }
    self->stdin_watch_ = 0;
    self->stdio_connected_ = false;
    if (self->callbacks_.on_disconnect) {
        self->callbacks_.on_disconnect();
    }
    return G_SOURCE_REMOVE;
}

gboolean GdbServer::on_stdout_ready(gint, GIOCondition, gpointer data) {
    auto* self = static_cast<GdbServer*>(data);
    if (!self->flush()) {
        self->stdout_watch_ = 0;
        return G_SOURCE_REMOVE;
    }
    if (self->pending_.empty()) {
        self->stdout_watch_ = 0;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

void GdbServer::send(std::string_view bytes) {
    if (!connected() || bytes.empty()) {
        return;
    }
    if (pending_.empty()) {
        // Nothing queued before: write straight from the caller's buffer
        // and queue only what the peer does not take now (no copy of a
        // 128 KiB `m` reply in the common case).
        gssize n = write_some(bytes);
        if (n < 0) {
            drop_client_deferred("the connection broke");
            return;
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
        if (bytes.empty()) {
            return;
        }
    }
    pending_.append(bytes);
    if (pending_.size() > kMaxPendingOutput) {
        drop_client_deferred("it stopped reading (output buffer full)");
        return;
    }
    if (!flush()) {
        drop_client_deferred("the connection broke");
    }
}

void GdbServer::drop_client_deferred(const char* why) {
    auto callback = std::move(callbacks_.on_disconnect);
    callbacks_.on_disconnect = nullptr;
    if (client_ != nullptr) {
        drop_client(why);
    } else if (stdio_connected_) {
        std::fprintf(stderr, "kvmdbg: dropped the gdb connection: %s\n", why);
        if (stdin_watch_ != 0) {
            remove_source(context_, stdin_watch_);
            stdin_watch_ = 0;
        }
        if (stdout_watch_ != 0) {
            remove_source(context_, stdout_watch_);
            stdout_watch_ = 0;
        }
        stdio_connected_ = false;
        pending_.clear();
    }
    callbacks_.on_disconnect = std::move(callback);
    if (deferred_disconnect_ == 0) {
        GSource* idle = g_idle_source_new();
        g_source_set_priority(idle, G_PRIORITY_HIGH);
        g_source_set_callback(idle, on_deferred_disconnect, this, nullptr);
        deferred_disconnect_ = attach_source(idle, context_);
    }
}

gboolean GdbServer::on_deferred_disconnect(gpointer data) {
    auto* self = static_cast<GdbServer*>(data);
    self->deferred_disconnect_ = 0;
    if (self->callbacks_.on_disconnect) {
        self->callbacks_.on_disconnect();
    }
    return G_SOURCE_REMOVE;
}

void GdbServer::deliver_deferred_disconnect() {
    if (deferred_disconnect_ == 0) {
        return;
    }
    remove_source(context_, deferred_disconnect_);
    deferred_disconnect_ = 0;
    if (callbacks_.on_disconnect) {
        callbacks_.on_disconnect();
    }
}

gssize GdbServer::write_some(std::string_view bytes) {
    if (client_ != nullptr) {
        GError* error = nullptr;
        gssize n = g_socket_send(client_, bytes.data(), bytes.size(), nullptr, &error);
        if (n < 0) {
            bool would_block = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
            g_clear_error(&error);
            return would_block ? 0 : -1;
        }
        return n;
    }
    if (stdio_connected_) {
        ssize_t n = ::write(STDOUT_FILENO, bytes.data(), bytes.size());
        if (n < 0) {
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        }
        return n;
    }
    return static_cast<gssize>(bytes.size());  // nobody to write to: dropped
}

bool GdbServer::flush() {
    while (!pending_.empty()) {
        gssize n = write_some(pending_);
        if (n < 0) {
            return false;
        }
        if (n == 0) {
            // The peer takes no more now: continue when it can.
            if (client_ != nullptr && client_out_source_ == nullptr) {
                client_out_source_ = g_socket_create_source(client_, G_IO_OUT, nullptr);
                g_source_set_callback(client_out_source_, G_SOURCE_FUNC(on_client_ready), this, nullptr);
                g_source_attach(client_out_source_, context_);
            } else if (client_ == nullptr && stdio_connected_ && stdout_watch_ == 0) {
                stdout_watch_ = add_fd_watch(STDOUT_FILENO, G_IO_OUT, on_stdout_ready);
            }
            return true;
        }
        pending_.erase(0, static_cast<std::size_t>(n));
    }
    if (client_out_source_ != nullptr) {
        g_source_destroy(client_out_source_);
        g_source_unref(client_out_source_);
        client_out_source_ = nullptr;
    }
    return true;
}

void GdbServer::close_client() {
    if (client_ != nullptr) {
        // Best effort: the last reply (OK to D, W, X) goes out before close.
        g_socket_set_blocking(client_, TRUE);
        g_socket_set_timeout(client_, 1);
        while (!pending_.empty()) {
            gssize n = g_socket_send(client_, pending_.data(), pending_.size(), nullptr, nullptr);
            if (n <= 0) {
                break;
            }
            pending_.erase(0, static_cast<std::size_t>(n));
        }
    }
    drop_client(nullptr);
}

void GdbServer::drop_client(const char* why) {
    if (client_ == nullptr) {
        return;
    }
    if (why != nullptr) {
        std::fprintf(stderr, "kvmdbg: dropped the gdb connection: %s\n", why);
    }
    if (client_source_ != nullptr) {
        g_source_destroy(client_source_);
        g_source_unref(client_source_);
        client_source_ = nullptr;
    }
    if (client_out_source_ != nullptr) {
        g_source_destroy(client_out_source_);
        g_source_unref(client_out_source_);
        client_out_source_ = nullptr;
    }
    g_socket_close(client_, nullptr);
    g_object_unref(client_);
    client_ = nullptr;
    pending_.clear();
    if (callbacks_.on_disconnect) {
        callbacks_.on_disconnect();
    }
}

}  // namespace kvmdbg::system
