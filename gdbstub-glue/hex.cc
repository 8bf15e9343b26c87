#include "gdbstub-glue/hex.h"

namespace kvmdbg::gdb {

namespace {
constexpr char kDigits[] = "0123456789abcdef";
}

int hex_digit_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

std::optional<std::uint64_t> parse_hex_u64(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    for (char c : text) {
        int d = hex_digit_value(c);
        if (d < 0 || (value >> 60) != 0) {
            return std::nullopt;
        }
        value = (value << 4) | static_cast<std::uint64_t>(d);
    }
    return value;
}

std::optional<std::vector<std::uint8_t>> decode_hex(std::string_view text) {
    if (text.size() % 2 != 0) {
        return std::nullopt;
    }
    std::vector<std::uint8_t> out;
    out.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
        int hi = hex_digit_value(text[i]);
        int lo = hex_digit_value(text[i + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
    }
    return out;
}

std::string encode_hex(std::span<const std::uint8_t> bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (std::uint8_t b : bytes) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 0xf]);
    }
    return out;
}

std::string encode_hex_text(std::string_view text) {
    return encode_hex(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::string format_hex(std::uint64_t value) {
    char buf[16];
    int n = 0;
    do {
        buf[n++] = kDigits[value & 0xf];
        value >>= 4;
    } while (value != 0);
    std::string out;
    while (n > 0) {
        out.push_back(buf[--n]);
    }
    return out;
}

}  // namespace kvmdbg::gdb
