// arm64 stage-1 page-table walker for the EL1&0 translation regime:
// virtual address -> guest-physical address, for the debugger (memory
// reads/writes and breakpoints on virtual addresses).
//
// Pure logic over a caller-supplied physical-memory reader, so it runs on
// any host and is unit-tested on tables built in a buffer. Guest tables are
// guest-controlled: every read goes through the reader (which must bounds-
// check; GuestRam does) and a walk reads at most 5 descriptors.
// Permissions (AP, UXN/PXN), access flag, and HPD are deliberately ignored:
// the debugger may look at any mapped page.
//
// References: ARM ARM (DDI 0487) D8 "The AArch64 Virtual Memory System
// Architecture" (D5 in editions before J.a): translation granules, the
// VMSAv8-64 translation table format descriptors, FEAT_LPA (52-bit output
// addresses with the 64 KiB granule) and FEAT_LPA2 (52-bit with 4 and
// 16 KiB granules, TCR_EL1.DS = 1); TCR_EL1, TTBR0_EL1, TTBR1_EL1.
//
// Range selection (two VA ranges, EL1&0):
//
//   VA[55] = 0  -> TTBR0_EL1, size 2^(64 - T0SZ), VA[63:64-T0SZ] must be 0
//   VA[55] = 1  -> TTBR1_EL1, size 2^(64 - T1SZ), VA[63:64-T1SZ] must be 1
//   with TBI0/TBI1 (TCR bits 37/38) the top byte VA[63:56] is ignored
//   EPD0/EPD1 (bits 7/23) = 1: walks of that range fault
//
// TCR_EL1 fields used:
//
//   bits   field   meaning
//   5:0    T0SZ    TTBR0 region size 2^(64-T0SZ)
//   7      EPD0
//   15:14  TG0     00 = 4 KiB, 01 = 64 KiB, 10 = 16 KiB, 11 reserved
//   21:16  T1SZ
//   23     EPD1
//   31:30  TG1     01 = 16 KiB, 10 = 4 KiB, 11 = 64 KiB, 00 reserved
//                  (NOT the TG0 encoding!)
//   34:32  IPS     0b110 = 52-bit physical addresses
//   37,38  TBI0, TBI1
//   59     DS      FEAT_LPA2 descriptor format for 4/16 KiB granules
//
// Levels: granule 2^g (g = 12, 14, 16), each level resolves g-3 bits.
//   start level = 4 - ceil((VAbits - g) / (g - 3))  (-1 for 4 KiB with 52 bits)
//
//   granule  page   block levels (size)                    VA 48 -> levels
//   4 KiB    L3     L1 (1 GiB), L2 (2 MiB), L0 (512 GiB, DS=1)   0..3
//   16 KiB   L3     L2 (32 MiB), L1 (64 GiB, DS=1)               0..3 (L0: 1 bit)
//   64 KiB   L3     L2 (512 MiB), L1 (4 TiB, 52-bit PA only)     1..3
//
// Descriptor (levels 0-2: bit 1 = 1 table, 0 block; level 3: 0b11 page,
// 0b01 reserved = invalid; bit 0 = 0 invalid at every level):
//
//   63     52 51  50 49 48 47                     g g-1   16 15 12 11 10 9 8 7  2 1 0
//  +---------+------+-----+-----------------------+---------+-----+-----+---+----+-+-+
//  |  attrs  | RES0 |     |   OA[47:g]            |  ...    |     |attrs|   |attr|T|V|
//  +---------+------+-----+-----------------------+---------+-----+-----+---+----+-+-+
//
//   OA[47:g] = desc[47:g] (for blocks, OA[47:block size bits])
//   64 KiB + IPS=52 (FEAT_LPA):  OA[51:48] = desc[15:12]
//   4/16 KiB + DS=1 (FEAT_LPA2): OA[49:48] = desc[49:48], OA[51:50] = desc[9:8]
//   TTBRn base: BADDR[47:1] (aligned to the start table's size, at least 64
//   bytes); with 52-bit PA (IPS=0b110: FEAT_LPA, or DS=1) BADDR[51:48] =
//   TTBR[5:2].
//
// SCTLR_EL1.M = 0 (MMU off): identity, VA == PA.
//
// Threads: pure, any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "common/result.h"

namespace kvmdbg::arch::arm64 {

/// The registers that define the EL1&0 stage-1 translation.
struct PagingState {
    std::uint64_t sctlr_el1 = 0;
    std::uint64_t tcr_el1 = 0;
    std::uint64_t ttbr0_el1 = 0;
    std::uint64_t ttbr1_el1 = 0;
};

/// Reads 8 bytes of guest-physical memory, little-endian (descriptors are
/// always read as little-endian 64-bit values here: SCTLR_EL1.EE = 1 guests
/// are not supported). Returns std::nullopt when the address is not RAM.
using PhysReader = std::function<std::optional<std::uint64_t>(std::uint64_t gpa)>;

/// Translation granule.
enum class Granule : std::uint8_t { k4K, k16K, k64K };

/// Result of a successful walk.
struct Translation {
    std::uint64_t physical = 0;   ///< guest-physical address of the VA
    std::uint64_t page_size = 0;  ///< size of the page or block that maps it
    int level = 0;                ///< level of the leaf descriptor (-1..3)
    unsigned ttbr = 0;            ///< 0 or 1: the range used
    Granule granule = Granule::k4K;
    bool mmu_off = false;  ///< SCTLR_EL1.M = 0: identity
};

/// The granule of TG0 (`tg1` = false) or TG1 (`tg1` = true), from their
/// different encodings. Errors: EINVAL for the reserved encoding.
Result<Granule> decode_granule(std::uint64_t tcr, bool tg1);

/// Translates `va`.
/// Errors (message names the VA, the level and the descriptor address or
/// value): EFAULT for a VA outside both ranges or in a range disabled by
/// EPDn, an invalid (bit 0 clear) descriptor, a reserved descriptor (level 3
/// 0b01, a block at a level that cannot have one), or a table the reader
/// cannot read; EINVAL for an unsupported TCR (reserved TGn, TnSZ out of
/// range for the granule).
Result<Translation> translate(const PagingState& paging, std::uint64_t va, const PhysReader& read_phys);

}  // namespace kvmdbg::arch::arm64
