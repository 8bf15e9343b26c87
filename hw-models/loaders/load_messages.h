// Text pieces the loaders' error messages share, so that every loader names
// files and address ranges the same way ("kernel.elf: segment [0x100000,
// 0x200000) is outside RAM"). Pure; any thread.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace kvmdbg::hw {

/// "0x1f00" (lower-case hex with the 0x prefix).
std::string hex_text(std::uint64_t value);

/// "[0x100000, 0x200000)": a half-open guest address range.
std::string range_text(std::uint64_t start, std::uint64_t end);

/// An Error whose message is "PATH: WHAT".
Error file_error(int code, const std::string& path, const std::string& what);

}  // namespace kvmdbg::hw
