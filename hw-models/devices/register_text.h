// Register dumps for `monitor info device NAME` (IoDevice::state_text):
// one "NAME = VALUE" line per register, the value in hex with the
// register's width. Pure; any thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace kvmdbg::hw {

/// "NAME = 0x0c\n" for `width_bytes` 1 (0x%02x), 2, 4 or 8.
inline std::string register_line(const char* name, std::uint64_t value, unsigned width_bytes) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%-10s = 0x%0*llx\n", name, static_cast<int>(width_bytes * 2),
                  static_cast<unsigned long long>(value));
    return buf;
}

}  // namespace kvmdbg::hw
