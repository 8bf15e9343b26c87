#include "hw-models/loaders/load_messages.h"

#include <cstdio>

namespace kvmdbg::hw {

std::string hex_text(std::uint64_t value) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
    return buf;
}

std::string range_text(std::uint64_t start, std::uint64_t end) {
    return "[" + hex_text(start) + ", " + hex_text(end) + ")";
}

Error file_error(int code, const std::string& path, const std::string& what) {
    return make_error(code, path + ": " + what);
}

}  // namespace kvmdbg::hw
