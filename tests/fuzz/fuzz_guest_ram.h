// The guest RAM the loader fuzz targets load into: made once per process
// and reused across inputs (a loader checks before it writes, so what an
// input leaves behind never changes what the next one is allowed to do).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <utility>

#include "hw-models/guest_ram.h"

namespace kvmdbg::fuzz {

/// RAM regions {guest-physical base, size}.
using RamLayout = std::initializer_list<std::pair<std::uint64_t, std::uint64_t>>;

/// 16 MiB at 0 and 2 MiB at 4 GiB: an x86 PC's low RAM and RAM above the hole.
inline constexpr RamLayout kX86RamLayout = {{0, 16ull << 20}, {4ull << 30, 2ull << 20}};

/// The process's RAM with `layout`, built on the first call (later calls
/// return it whatever they pass). Aborts if a region cannot be added.
inline hw::GuestRam& fuzz_guest_ram(RamLayout layout) {
    static hw::GuestRam* ram = [layout] {
        auto* r = new hw::GuestRam;
        for (const auto& [base, size] : layout) {
            if (!r->add_region(base, size).ok()) {
                std::abort();
            }
        }
        return r;
    }();
    return *ram;
}

}  // namespace kvmdbg::fuzz
