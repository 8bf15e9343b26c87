// Binary data in packets (gdb manual, "Overview" in "Remote Protocol"):
// the bytes '#' (0x23), '$' (0x24), '}' (0x7d) and '*' (0x2a) are sent as
// '}' followed by the byte XOR 0x20. Used by the `X` request and by the `x`
// and `qXfer` replies; text packets are never escaped (gdb unescapes only
// the binary parts, and reads a raw '*' in a reply as run-length encoding).
//
//   byte   sent as
//   0x23   0x7d 0x03
//   0x24   0x7d 0x04
//   0x2a   0x7d 0x0a
//   0x7d   0x7d 0x5d
//
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kvmdbg::gdb {

/// Escapes `bytes` for a packet payload.
std::string escape_binary(std::span<const std::uint8_t> bytes);

/// escape_binary(bytes) appended to `out`: one size pass, one allocation at
/// most, and runs of bytes that need no escape copied whole (guest memory
/// is mostly such runs).
void append_escaped_binary(std::string& out, std::span<const std::uint8_t> bytes);

/// Escapes the characters of `text` (qXfer documents).
std::string escape_binary_text(std::string_view text);

/// Undoes escape_binary. A '}' as the last byte is std::nullopt (truncated
/// escape). Unescaped '#', '$' or '*' are accepted as themselves: the framer
/// has already found the packet's end, and gdb never sends them raw.
std::optional<std::vector<std::uint8_t>> unescape_binary(std::string_view payload);

}  // namespace kvmdbg::gdb
