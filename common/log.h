// Log: QEMU-style `-d CATEGORIES` / `-D FILE` logging.
//
// One Log object is owned by the emulator and passed by reference to whoever
// logs; there is no global logger (docs/design.md rule 6). Enabled categories are
// fixed after set-up; write() may then be called from any thread (each call
// emits one whole line under a mutex).
#pragma once

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kvmdbg {

/// Log categories for `-d`. Names are listed by `-d help`.
enum class LogCategory : std::uint32_t {
    exits = 1u << 0,         ///< vCPU events and the guest's exit/reset/power-off requests
    guest_errors = 1u << 1,  ///< the guest did something invalid (bad port, MMIO hole)
    unimp = 1u << 2,         ///< access to an unimplemented device
    guest_debug = 1u << 3,   ///< guest-debug state pushes, probe results, exit classification
    loader = 1u << 4,        ///< what the loaders placed where
    gdb = 1u << 5,           ///< gdb remote protocol packets
    io = 1u << 6,            ///< every guest device access (system/device_access_trace.h)
};

class Log {
public:
    Log() = default;
    ~Log();
    Log(const Log&) = delete;
    Log& operator=(const Log&) = delete;

    /// Enables the comma-separated categories in `spec` ("exits,unimp" or
    /// "all"). Errors: EINVAL naming the unknown category.
    Status enable(std::string_view spec);

    /// Sends log output to `path` instead of stderr (`-D`). Errors: errno of fopen.
    Status set_file(const std::string& path);

    /// "name: description" lines for `-d help`.
    static std::string help();

    bool enabled(LogCategory c) const { return (mask_ & static_cast<std::uint32_t>(c)) != 0; }

    /// Writes one line (a newline is appended) if `c` is enabled.
    void write(LogCategory c, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

private:
    std::uint32_t mask_ = 0;
    std::FILE* file_ = nullptr;  // nullptr means stderr
    std::mutex mu_;
};

}  // namespace kvmdbg
