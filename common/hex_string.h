// hex_string: addresses and register values in messages, as "0x1f" (lower
// case, no padding), the form gdb and the docs use. Protocol hex (gdb's
// packet encoding) is gdbstub-glue/hex.h, not this.
//
// Any thread; no state.
#pragma once

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>

namespace kvmdbg {

/// "0x" followed by `v` in lower-case hex without leading zeros ("0x0" for 0).
inline std::string hex_string(std::uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return buf;
}

}  // namespace kvmdbg
