#include "arch/x86/page_walk.h"

namespace kvmdbg::arch::x86 {

namespace {

constexpr std::uint64_t kCr0Pg = 1ull << 31;
constexpr std::uint64_t kCr4Pse = 1ull << 4;
constexpr std::uint64_t kCr4Pae = 1ull << 5;
constexpr std::uint64_t kCr4La57 = 1ull << 12;
constexpr std::uint64_t kEferLma = 1ull << 10;

constexpr std::uint64_t kPresent = 1ull << 0;
constexpr std::uint64_t kWritable = 1ull << 1;
constexpr std::uint64_t kPageSize = 1ull << 7;
// Physical-address bits of a 64-bit entry (MAXPHYADDR up to 52).
constexpr std::uint64_t kAddrMask = 0x000ffffffffff000ull;

std::optional<Translation> walk_32bit(const PagingState& p, std::uint32_t linear, const PhysReader& read_phys) {
    std::uint64_t pde_addr = (p.cr3 & 0xfffff000u) + ((linear >> 22) & 0x3ff) * 4;
    auto pde = read_phys(pde_addr, 4);
    if (!pde || (*pde & kPresent) == 0) {
        return std::nullopt;
    }
    bool writable = (*pde & kWritable) != 0;
    if ((*pde & kPageSize) != 0 && (p.cr4 & kCr4Pse) != 0) {
        // 4 MiB page: bits 31:22 from the PDE, bits 39:32 from PDE bits 20:13 (PSE-36).
        std::uint64_t base = (*pde & 0xffc00000u) | ((*pde & 0x1fe000u) << 19);
        return Translation{base | (linear & 0x3fffff), 1ull << 22, writable};
    }
    std::uint64_t pte_addr = (*pde & 0xfffff000u) + ((linear >> 12) & 0x3ff) * 4;
    auto pte = read_phys(pte_addr, 4);
    if (!pte || (*pte & kPresent) == 0) {
        return std::nullopt;
    }
    writable = writable && (*pte & kWritable) != 0;
    return Translation{(*pte & 0xfffff000u) | (linear & 0xfff), 1ull << 12, writable};
}

std::optional<Translation> walk_pae(const PagingState& p, std::uint32_t linear, const PhysReader& read_phys) {
    std::uint64_t pdpte_addr = (p.cr3 & 0xffffffe0u) + ((linear >> 30) & 0x3) * 8;
    auto pdpte = read_phys(pdpte_addr, 8);
    if (!pdpte || (*pdpte & kPresent) == 0) {
        return std::nullopt;
    }
    if ((*pdpte & kPageSize) != 0) {
        return std::nullopt;  // bit 7 is reserved in a PAE PDPTE (SDM Table 4-8): no 1 GiB pages
    }
    // A PAE PDPTE has no R/W bit (bits 2:1 are reserved): writability comes from the PD and PT.
    std::uint64_t table = *pdpte & kAddrMask;
    bool writable = true;
    // PD then PT; a PDE with PS maps 2 MiB.
    for (int shift : {21, 12}) {
        auto entry = read_phys(table + ((linear >> shift) & 0x1ff) * 8, 8);
        if (!entry || (*entry & kPresent) == 0) {
            return std::nullopt;
        }
        writable = writable && (*entry & kWritable) != 0;
        if (shift == 21 && (*entry & kPageSize) != 0) {
            std::uint64_t base = *entry & kAddrMask & ~((1ull << 21) - 1);
            return Translation{base | (linear & ((1ull << 21) - 1)), 1ull << 21, writable};
        }
        table = *entry & kAddrMask;
    }
    return Translation{table | (linear & 0xfff), 1ull << 12, writable};
}

std::optional<Translation> walk_long(const PagingState& p, std::uint64_t linear, const PhysReader& read_phys) {
    bool la57 = (p.cr4 & kCr4La57) != 0;
    int top_shift = la57 ? 48 : 39;
    // Canonical check: bits above the top level must sign-extend it.
    int sign_bit = top_shift + 8;
    std::uint64_t upper = linear >> sign_bit;
    std::uint64_t all_ones = (~0ull) >> sign_bit;
    if (upper != 0 && upper != all_ones) {
        return std::nullopt;
    }
    std::uint64_t table = p.cr3 & kAddrMask;
    bool writable = true;
    for (int shift = top_shift; shift >= 12; shift -= 9) {
        auto entry = read_phys(table + ((linear >> shift) & 0x1ff) * 8, 8);
        if (!entry || (*entry & kPresent) == 0) {
            return std::nullopt;
        }
        writable = writable && (*entry & kWritable) != 0;
        if ((*entry & kPageSize) != 0 && shift != 12) {
            if (shift > 30) {
                return std::nullopt;  // PS is reserved in PML5E/PML4E
            }
            std::uint64_t page = 1ull << shift;
            std::uint64_t base = *entry & kAddrMask & ~(page - 1);
            return Translation{base | (linear & (page - 1)), page, writable};
        }
        table = *entry & kAddrMask;
    }
    return Translation{table | (linear & 0xfff), 1ull << 12, writable};
}

}  // namespace

std::optional<Translation> translate(const PagingState& paging, std::uint64_t linear, const PhysReader& read_phys) {
    if ((paging.cr0 & kCr0Pg) == 0) {
        return Translation{linear, 1ull << 12, true};
    }
    if ((paging.efer & kEferLma) != 0) {
        return walk_long(paging, linear, read_phys);
    }
    if ((paging.cr4 & kCr4Pae) != 0) {
        return walk_pae(paging, static_cast<std::uint32_t>(linear), read_phys);
    }
    return walk_32bit(paging, static_cast<std::uint32_t>(linear), read_phys);
}

}  // namespace kvmdbg::arch::x86
