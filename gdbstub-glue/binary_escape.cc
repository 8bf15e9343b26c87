#include "gdbstub-glue/binary_escape.h"

namespace kvmdbg::gdb {

namespace {

constexpr char kEscape = '}';

bool needs_escape(std::uint8_t b) { return b == '#' || b == '$' || b == '}' || b == '*'; }

}  // namespace

std::string escape_binary(std::span<const std::uint8_t> bytes) {
    std::string out;
    out.reserve(bytes.size() + bytes.size() / 8);
    for (std::uint8_t b : bytes) {
        if (needs_escape(b)) {
            out.push_back(kEscape);
            out.push_back(static_cast<char>(b ^ 0x20));
        } else {
            out.push_back(static_cast<char>(b));
        }
    }
    return out;
}

std::string escape_binary_text(std::string_view text) {
    return escape_binary(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::optional<std::vector<std::uint8_t>> unescape_binary(std::string_view payload) {
    std::vector<std::uint8_t> out;
    out.reserve(payload.size());
    for (std::size_t i = 0; i < payload.size(); ++i) {
        auto b = static_cast<std::uint8_t>(payload[i]);
        if (b == kEscape) {
            if (++i == payload.size()) {
                return std::nullopt;
            }
            b = static_cast<std::uint8_t>(payload[i]) ^ 0x20;
        }
        out.push_back(b);
    }
    return out;
}

}  // namespace kvmdbg::gdb
