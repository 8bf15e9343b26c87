#include "arch/arm64/page_walk.h"

#include "arch/arm64/reflect.h"
#include "common/hex_string.h"

namespace kvmdbg::arch::arm64 {

namespace {

constexpr std::uint64_t bits(std::uint64_t v, unsigned hi, unsigned lo) {
    return (v >> lo) & ((hi - lo == 63) ? ~0ull : ((1ull << (hi - lo + 1)) - 1));
}

constexpr std::uint64_t mask(unsigned hi, unsigned lo) {
    return ((hi == 63) ? ~0ull : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);
}

unsigned granule_shift(Granule g) {
    switch (g) {
    case Granule::k4K: return 12;
    case Granule::k16K: return 14;
    case Granule::k64K: return 16;
    }
    return 12;
}

struct Format {
    Granule granule;
    unsigned g;  // granule shift
    bool lpa;    // 64 KiB with IPS = 52 bits: OA[51:48] in desc[15:12]
    bool lpa2;   // DS = 1 with 4/16 KiB: OA[49:48] in desc[49:48], OA[51:50] in desc[9:8]
};

// Output address of a descriptor, aligned down to `shift` bits.
std::uint64_t output_address(const Format& f, std::uint64_t desc, unsigned shift) {
    std::uint64_t oa = desc & mask(47, shift);
    if (f.lpa) {
        oa |= bits(desc, 15, 12) << 48;
    } else if (f.lpa2) {
        oa |= desc & mask(49, 48);
        oa |= bits(desc, 9, 8) << 50;
    }
    return oa;
}

// Can a block descriptor appear at `level`?
bool block_allowed(const Format& f, int level) {
    switch (f.granule) {
    case Granule::k4K: return level == 1 || level == 2 || (level == 0 && f.lpa2);
    case Granule::k16K: return level == 2 || (level == 1 && f.lpa2);
    case Granule::k64K: return level == 2 || (level == 1 && f.lpa);
    }
    return false;
}

}  // namespace

Result<Granule> decode_granule(std::uint64_t tcr, bool tg1) {
    unsigned tg = static_cast<unsigned>(tg1 ? bits(tcr, 31, 30) : bits(tcr, 15, 14));
    if (!tg1) {
        switch (tg) {
        case 0b00: return Granule::k4K;
        case 0b01: return Granule::k64K;
        case 0b10: return Granule::k16K;
        default: break;
        }
    } else {
        switch (tg) {
        case 0b01: return Granule::k16K;
        case 0b10: return Granule::k4K;
        case 0b11: return Granule::k64K;
        default: break;
        }
    }
    return make_error(EINVAL, std::string("TCR_EL1 ") + hex_string(tcr) + ": reserved " + (tg1 ? "TG1" : "TG0") +
                                  " encoding " + std::to_string(tg));
}

namespace {

// One walk as TCR_EL1 and the TTBR set it up (ARM ARM D8.2, D8.3).
struct Walk {
    Format f{};
    unsigned range = 0;       // VA[55]: 0 walks from TTBR0, 1 from TTBR1
    unsigned va_bits = 0;     // 64 - TnSZ
    unsigned stride = 0;      // index bits per level below the first
    unsigned levels = 0;      // how many levels the walk has
    std::uint64_t table = 0;  // the first level's table base
    std::string where;        // "VA 0x... (TTBRn)", for messages

    int first_level() const { return 4 - static_cast<int>(levels); }
};

// The bits above the range must all equal VA[55] (top byte ignored with TBI).
bool in_va_range(std::uint64_t va, unsigned range, unsigned va_bits, bool tbi) {
    unsigned top = tbi ? 55 : 63;
    std::uint64_t upper = bits(va, top, va_bits);
    std::uint64_t expect = range ? bits(~0ull, top, va_bits) : 0;
    return upper == expect;
}

Result<Walk> start_walk(const PagingState& paging, std::uint64_t va) {
    const std::uint64_t tcr = paging.tcr_el1;
    Walk w;
    w.range = static_cast<unsigned>(bits(va, 55, 55));
    const unsigned tsz = static_cast<unsigned>(w.range ? bits(tcr, 21, 16) : bits(tcr, 5, 0));
    const bool epd = w.range ? bits(tcr, 23, 23) : bits(tcr, 7, 7);
    const bool tbi = w.range ? bits(tcr, 38, 38) : bits(tcr, 37, 37);
    const bool ds = bits(tcr, 59, 59) != 0;
    const bool pa52 = bits(tcr, 34, 32) == 0b110;
    const std::uint64_t ttbr = w.range ? paging.ttbr1_el1 : paging.ttbr0_el1;

    auto granule = decode_granule(tcr, w.range == 1);
    if (!granule) {
        return granule.error();
    }
    w.f = Format{*granule, granule_shift(*granule), false, false};
    w.f.lpa = w.f.granule == Granule::k64K && pa52;
    w.f.lpa2 = w.f.granule != Granule::k64K && ds;

    // 52-bit VAs need FEAT_LVA (64 KiB) or DS (4/16 KiB); the largest TnSZ
    // is 48 (FEAT_TTST) for every granule.
    unsigned min_tsz = (w.f.granule == Granule::k64K || ds) ? 12 : 16;
    const std::string tnsz = std::string("TCR_EL1 ") + hex_string(tcr) + ": T" + std::to_string(w.range) + "SZ " +
                             std::to_string(tsz);
    if (tsz < min_tsz || tsz > 48) {
        return make_error(EINVAL, tnsz + " out of range " + std::to_string(min_tsz) + "..48 for this granule");
    }
    w.va_bits = 64 - tsz;
    w.where = "VA " + hex_string(va) + " (TTBR" + std::to_string(w.range) + ")";
    if (epd) {
        return make_error(EFAULT, w.where + ": walks disabled by TCR_EL1.EPD" + std::to_string(w.range));
    }
    if (!in_va_range(va, w.range, w.va_bits, tbi)) {
        return make_error(EFAULT, w.where + ": outside the " + std::to_string(w.va_bits) + "-bit range");
    }

    w.stride = w.f.g - 3;
    w.levels = (w.va_bits - w.f.g + w.stride - 1) / w.stride;
    if (w.levels == 0) {
        return make_error(EINVAL, tnsz + " leaves no translation level for this granule");
    }
    // Start table base: BADDR[47:1] (we use [47:6] at least: tables are
    // 64-byte aligned at minimum), BADDR[51:48] in TTBR[5:2] for 52-bit PAs.
    w.table = ttbr & mask(47, 1);
    if (pa52 || ds) {
        w.table = (ttbr & mask(47, 6)) | (bits(ttbr, 5, 2) << 48);
    }
    return w;
}

// A page (level 3) or block descriptor mapping `va` in a block of
// 2^shift bytes.
Translation leaf(const Walk& w, std::uint64_t desc, std::uint64_t va, unsigned shift, int level) {
    Translation t;
    t.page_size = 1ull << shift;
    t.physical = output_address(w.f, desc, shift) | (va & (t.page_size - 1));
    t.level = level;
    t.ttbr = w.range;
    t.granule = w.f.granule;
    return t;
}

Result<Translation> walk_tables(const Walk& w, std::uint64_t va, const PhysReader& read_phys) {
    std::uint64_t table = w.table;
    for (int level = w.first_level(); level <= 3; ++level) {
        const unsigned shift = w.f.g + w.stride * static_cast<unsigned>(3 - level);
        const unsigned index_bits = level == w.first_level() ? w.va_bits - shift : w.stride;
        const std::uint64_t index = bits(va, shift + index_bits - 1, shift);
        // Align the table to its own size (the low bits are ignored, RES0).
        const std::uint64_t table_bytes = 8ull << index_bits;
        const std::uint64_t aligned = table & ~((table_bytes < 64 ? 64 : table_bytes) - 1);
        const std::uint64_t desc_addr = aligned + index * 8;
        auto desc = read_phys(desc_addr);
        const std::string at = w.where + " level " + std::to_string(level) + " descriptor at " + hex_string(desc_addr);
        if (!desc) {
            return make_error(EFAULT, at + ": not in guest RAM");
        }
        if ((*desc & 1) == 0) {
            return make_error(EFAULT, at + ": invalid (" + hex_string(*desc) + ")");
        }
        const bool table_bit = (*desc & 2) != 0;
        if (level == 3) {
            if (!table_bit) {
                return make_error(EFAULT, at + ": reserved level-3 descriptor type 0b01 (" + hex_string(*desc) + ")");
            }
            return leaf(w, *desc, va, w.f.g, 3);
        }
        if (!table_bit) {
            if (!block_allowed(w.f, level)) {
                return make_error(EFAULT,
                                  at + ": block descriptor not allowed at this level (" + hex_string(*desc) + ")");
            }
            return leaf(w, *desc, va, shift, level);
        }
        table = output_address(w.f, *desc, w.f.g);
    }
    return make_error(EFAULT, w.where + ": walk did not end at level 3");
}

}  // namespace

Result<Translation> translate(const PagingState& paging, std::uint64_t va, const PhysReader& read_phys) {
    if ((paging.sctlr_el1 & sctlr::kM) == 0) {
        Translation t;
        t.physical = va;
        t.page_size = 1ull << 12;
        t.level = 3;
        t.mmu_off = true;
        return t;
    }
    auto walk = start_walk(paging, va);
    if (!walk) {
        return walk.error();
    }
    return walk_tables(*walk, va, read_phys);
}

}  // namespace kvmdbg::arch::arm64
