// GuestRam: the machine's guest-physical RAM, owned by the machine.
//
// RAM is one or more page-aligned regions of anonymous host memory, each at a
// guest-physical address (pc-lite: low RAM at 0 and, above 3 GiB, the rest at
// 4 GiB). Every accessor bounds-checks the whole range against one region:
// guest- and file-controlled addresses never index host memory unchecked.
//
// Threads: the layout is fixed after construction; byte accesses may come
// from any thread (the guest itself writes concurrently, as on hardware).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/mapped_region.h"
#include "common/result.h"

namespace kvmdbg::hw {

class GuestRam {
public:
    struct Region {
        std::uint64_t gpa;
        MappedRegion memory;
    };

    /// Adds a zeroed region of `size` bytes at `gpa` (both page aligned,
    /// no overlap). Errors: EINVAL for a bad layout, ENOMEM.
    Status add_region(std::uint64_t gpa, std::uint64_t size);

    const std::vector<Region>& regions() const { return regions_; }

    /// Total bytes of RAM over all regions.
    std::uint64_t total_size() const;

    /// Host pointer to [gpa, gpa+len) if the whole range lies in one region,
    /// else nullptr. len == 0 is valid for any gpa inside RAM.
    std::uint8_t* host_ptr(std::uint64_t gpa, std::uint64_t len) const;

    /// Copies from/to guest-physical memory. Errors: EFAULT naming the range.
    Status read(std::uint64_t gpa, std::span<std::uint8_t> out) const;
    Status write(std::uint64_t gpa, std::span<const std::uint8_t> in);

    /// Zeroes every region (machine reset).
    void clear();

private:
    std::vector<Region> regions_;
};

}  // namespace kvmdbg::hw
