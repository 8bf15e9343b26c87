// Numbers and ranges as the monitor commands take them: C literals (0x
// hex, decimal, 0 octal) without a sign, and FIRST[-LAST] ranges with LAST
// not below FIRST. Pure; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace kvmdbg::system {

/// The value of `text`, or std::nullopt for anything but one whole unsigned
/// 64-bit C literal.
std::optional<std::uint64_t> parse_monitor_number(const std::string& text);

/// "FIRST" or "FIRST-LAST" as an inclusive (first, last), or std::nullopt.
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_monitor_range(const std::string& text);

}  // namespace kvmdbg::system
