#include "system/gdb_endpoint.h"

#include <charconv>

namespace kvmdbg::system {

std::string GdbEndpoint::describe() const {
    switch (kind) {
    case Kind::tcp:
        return "tcp " + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
    case Kind::unix_socket: return "unix " + path;
    case Kind::stdio: return "stdio";
    }
    return "?";
}

Result<GdbEndpoint> parse_gdb_endpoint(std::string_view spec) {
    auto bad = [&](const std::string& why) {
        return make_error(EINVAL, "-gdb " + std::string(spec) + ": " + why +
                                      " (use tcp::PORT, tcp:HOST:PORT, unix:PATH or stdio)");
    };
    GdbEndpoint ep;
    if (spec == "stdio") {
        ep.kind = GdbEndpoint::Kind::stdio;
        return ep;
    }
    if (spec.starts_with("unix:")) {
        ep.kind = GdbEndpoint::Kind::unix_socket;
        ep.path = std::string(spec.substr(5));
        // QEMU accepts ",server,nowait"-style options after the path; kvmdbg
        // always serves and never waits, so they are ignored.
        if (auto comma = ep.path.find(','); comma != std::string::npos) {
            ep.path.resize(comma);
        }
        if (ep.path.empty()) {
            return bad("empty socket path");
        }
        return ep;
    }
    if (!spec.starts_with("tcp:")) {
        return bad("unknown device");
    }
    std::string_view rest = spec.substr(4);
    if (auto comma = rest.find(','); comma != std::string_view::npos) {
        rest = rest.substr(0, comma);
    }
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
        return bad("missing port");
    }
    std::string_view host = rest.substr(0, colon);
    std::string_view port = rest.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    ep.host = host.empty() ? "127.0.0.1" : std::string(host);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value > 65535) {
        return bad("bad port '" + std::string(port) + "'");
    }
    ep.port = static_cast<std::uint16_t>(value);
    return ep;
}

}  // namespace kvmdbg::system
