#include "system/monitor_numbers.h"

#include <cerrno>
#include <cstdlib>

namespace kvmdbg::system {

std::optional<std::uint64_t> parse_monitor_number(const std::string& text) {
    if (text.empty() || text[0] == '-' || text[0] == '+') {
        return std::nullopt;
    }
    char* end = nullptr;
    errno = 0;
    std::uint64_t v = std::strtoull(text.c_str(), &end, 0);
    if (end == text.c_str() || *end != '\0' || errno != 0) {
        return std::nullopt;
    }
    return v;
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_monitor_range(const std::string& text) {
    std::size_t dash = text.find('-');
    auto first = parse_monitor_number(text.substr(0, dash));
    auto last = dash == std::string::npos ? first : parse_monitor_number(text.substr(dash + 1));
    if (!first || !last || *last < *first) {
        return std::nullopt;
    }
    return std::pair{*first, *last};
}

}  // namespace kvmdbg::system
