// GpaRange: a half-open guest-physical address range, as the loaders report
// what they wrote into RAM. A plain value; any thread.
#pragma once

#include <cstdint>

namespace kvmdbg::hw {

/// A half-open guest-physical range [start, end).
struct GpaRange {
    std::uint64_t start = 0;
    std::uint64_t end = 0;

    bool overlaps(const GpaRange& other) const { return start < other.end && other.start < end; }
};

}  // namespace kvmdbg::hw
