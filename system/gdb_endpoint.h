// GdbEndpoint: where `-gdb DEV` (and `-s`) listens.
//
//   tcp::PORT        127.0.0.1:PORT only. QEMU binds every interface here;
//                    kvmdbg binds loopback: a gdb stub controls the VM, so it
//                    is not exposed unless asked for.
//   tcp:HOST:PORT    HOST as given (tcp:0.0.0.0:1234 exposes it on purpose)
//   unix:PATH        a unix socket created with mode 0600, removed at exit
//   stdio            the process's stdin/stdout (`target remote | kvmdbg ...`)
//   -s               tcp::1234
//
// Pure parsing; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kvmdbg::system {

struct GdbEndpoint {
    enum class Kind { tcp, unix_socket, stdio };
    Kind kind = Kind::tcp;
    std::string host = "127.0.0.1";  ///< tcp
    std::uint16_t port = 1234;       ///< tcp
    std::string path;                ///< unix

    /// "tcp 127.0.0.1:1234", "unix /tmp/x.sock", "stdio": for messages.
    std::string describe() const;
};

/// Parses a -gdb device. Errors (EINVAL) name the spec: an unknown kind, a
/// missing or out-of-range port, an empty unix path.
Result<GdbEndpoint> parse_gdb_endpoint(std::string_view spec);

}  // namespace kvmdbg::system
