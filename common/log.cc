#include "common/log.h"

#include <cstring>

namespace kvmdbg {

namespace {

struct CategoryName {
    const char* name;
    LogCategory category;
    const char* help;
};

constexpr CategoryName kCategories[] = {
    {"exits", LogCategory::exits, "vCPU events (errors, halts, shutdown) and guest exit/reset/power-off requests"},
    {"guest_errors", LogCategory::guest_errors, "invalid guest actions (unclaimed ports, MMIO holes)"},
    {"unimp", LogCategory::unimp, "accesses to unimplemented devices"},
    {"guest_debug", LogCategory::guest_debug, "guest-debug state, host probe results, debug exits"},
    {"loader", LogCategory::loader, "where the loaders placed images and boot data"},
    {"gdb", LogCategory::gdb, "gdb remote protocol traffic"},
    {"io", LogCategory::io, "every guest port and MMIO access (vCPU, pc, address, size, value, device)"},
};

}  // namespace

Log::~Log() {
    if (file_ != nullptr) {
        std::fclose(file_);
    }
}

Status Log::enable(std::string_view spec) {
    std::uint32_t mask = 0;
    while (!spec.empty()) {
        auto comma = spec.find(',');
        std::string_view item = spec.substr(0, comma);
        spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
        if (item.empty()) {
            continue;
        }
        if (item == "all") {
            for (const auto& c : kCategories) {
                mask |= static_cast<std::uint32_t>(c.category);
            }
            continue;
        }
        bool found = false;
        for (const auto& c : kCategories) {
            if (item == c.name) {
                mask |= static_cast<std::uint32_t>(c.category);
                found = true;
            }
        }
        if (!found) {
            return make_error(EINVAL, "unknown log category '" + std::string(item) + "' (use -d help for the list)");
        }
    }
    mask_ |= mask;
    return ok_status();
}

Status Log::set_file(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "a");
    if (f == nullptr) {
        int err = errno;
        return make_error(err, "cannot open log file " + path + ": " + std::strerror(err));
    }
    std::setvbuf(f, nullptr, _IOLBF, 0);
    if (file_ != nullptr) {
        std::fclose(file_);
    }
    file_ = f;
    return ok_status();
}

std::string Log::help() {
    std::string out = "Log items (comma separated):\n";
    for (const auto& c : kCategories) {
        out += "  ";
        out += c.name;
        out += std::string(14 - std::strlen(c.name), ' ');
        out += c.help;
        out += '\n';
    }
    out += "  all           everything above\n";
    return out;
}

void Log::write(LogCategory c, const char* fmt, ...) {
    // The null test also keeps GCC 12 with -fsanitize=undefined from
    // warning "null format string" about its own nonnull-check path.
    if (!enabled(c) || fmt == nullptr) {
        return;
    }
    std::lock_guard lock(mu_);
    std::FILE* out = file_ != nullptr ? file_ : stderr;
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(out, fmt, ap);
    va_end(ap);
    std::fputc('\n', out);
}

}  // namespace kvmdbg
