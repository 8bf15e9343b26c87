// x86 guest page-table walker: linear address -> guest-physical address.
//
// Pure logic over a caller-supplied physical-memory reader, so it runs on any
// host and is unit-tested on page tables built in a buffer. Guest page tables
// are guest-controlled: every table read goes through the reader, which must
// bounds-check (GuestRam does), and a walk never loops (at most 5 levels).
//
// Modes (Intel SDM Vol. 3A chapter 4, "Paging"):
//
//   CR0.PG=0                 linear == physical (real mode: linear = CS.base + IP,
//                            computed by the caller)
//   CR0.PG=1, CR4.PAE=0      32-bit paging, 4 KiB pages, 4 MiB pages with CR4.PSE (4.3)
//   CR4.PAE=1, EFER.LMA=0    PAE paging, 4 KiB and 2 MiB pages (4.4)
//   EFER.LMA=1, CR4.LA57=0   4-level paging, 4 KiB, 2 MiB, 1 GiB pages (4.5)
//   EFER.LMA=1, CR4.LA57=1   5-level paging (4.5)
//
//   4-level linear address:
//   63      48 47    39 38    30 29    21 20    12 11         0
//   +---------+--------+--------+--------+--------+------------+
//   | sign ext|  PML4  |  PDPT  |   PD   |   PT   |   offset   |
//   +---------+--------+--------+--------+--------+------------+
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

namespace kvmdbg::arch::x86 {

/// The control state that selects the paging mode.
struct PagingState {
    std::uint64_t cr0 = 0;
    std::uint64_t cr3 = 0;
    std::uint64_t cr4 = 0;
    std::uint64_t efer = 0;
};

/// Reads `size` (4 or 8) bytes of guest-physical memory, little-endian.
/// Returns std::nullopt when the address is outside RAM.
using PhysReader = std::function<std::optional<std::uint64_t>(std::uint64_t gpa, unsigned size)>;

/// Result of a successful walk.
struct Translation {
    std::uint64_t physical;   ///< guest-physical address of `linear`
    std::uint64_t page_size;  ///< size of the page that maps it (bytes)
    bool writable;            ///< every level allows writes (R/W set)
};

/// Translates `linear`. Returns std::nullopt for a non-present entry, a
/// non-canonical address, a reserved-bit violation we check (PS on a level
/// that cannot have it: a PAE PDPTE, a PML4E, a PML5E), or a table outside
/// RAM.
std::optional<Translation> translate(const PagingState& paging, std::uint64_t linear, const PhysReader& read_phys);

}  // namespace kvmdbg::arch::x86
