// Hex helpers for the GDB remote serial protocol (gdb manual, "Overview" in
// "Remote Protocol": numbers are big-endian hex, binary data two hex digits
// per byte). Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kvmdbg::gdb {

/// Value of one hex digit (either case), or -1.
int hex_digit_value(char c);

/// Parses a protocol number: one or more hex digits (either case), leading
/// zeros allowed, value < 2^64. Anything else (empty, a sign, a space, an
/// overflow) is std::nullopt.
std::optional<std::uint64_t> parse_hex_u64(std::string_view text);

/// Decodes two hex digits per byte ("0a1B" -> {0x0a, 0x1b}). An odd length
/// or a non-hex character is std::nullopt; "" decodes to {}.
std::optional<std::vector<std::uint8_t>> decode_hex(std::string_view text);

/// Lower-case hex, two digits per byte, in order.
std::string encode_hex(std::span<const std::uint8_t> bytes);

/// encode_hex(bytes) appended to `out` (one allocation at most, no
/// temporary: `m` replies are 128 KiB).
void append_hex(std::string& out, std::span<const std::uint8_t> bytes);

/// Lower-case hex of the characters of `text` (qRcmd output, thread extra
/// info).
std::string encode_hex_text(std::string_view text);

/// Lower-case hex of `value` without leading zeros ("0" for zero).
std::string format_hex(std::uint64_t value);

}  // namespace kvmdbg::gdb
