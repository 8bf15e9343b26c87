// Unit tests for arch/x86/page_walk: every paging mode of Intel SDM Vol. 3A
// chapter 4 on page tables built in a buffer that stands for guest-physical
// memory, read through a bounds-checking PhysReader.
#include "arch/x86/page_walk.h"

#include <cstdio>
#include <vector>

#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::arch::x86;

// Control bits (SDM Vol. 3A 2.5, 2.2.1).
constexpr std::uint64_t kPG = 1ull << 31;
constexpr std::uint64_t kPSE = 1ull << 4;
constexpr std::uint64_t kPAE = 1ull << 5;
constexpr std::uint64_t kLA57 = 1ull << 12;
constexpr std::uint64_t kLME = 1ull << 8;
constexpr std::uint64_t kLMA = 1ull << 10;

// Entry bits (SDM Vol. 3A 4.3 to 4.5, tables 4-4 to 4-20).
constexpr std::uint64_t P = 1ull << 0;
constexpr std::uint64_t RW = 1ull << 1;
constexpr std::uint64_t US = 1ull << 2;
constexpr std::uint64_t A = 1ull << 5;
constexpr std::uint64_t PS = 1ull << 7;
constexpr std::uint64_t G = 1ull << 8;
constexpr std::uint64_t kLargePat = 1ull << 12;  // PAT bit of a 4 MiB/2 MiB/1 GiB page
constexpr std::uint64_t XD = 1ull << 63;
constexpr std::uint64_t kProtKey = 0xfull << 59;     // bits 62:59 (with CR4.PKE)
constexpr std::uint64_t kIgnored52 = 0x7full << 52;  // bits 58:52, ignored

constexpr std::uint64_t kKiB4 = 1ull << 12;
constexpr std::uint64_t kMiB2 = 1ull << 21;
constexpr std::uint64_t kMiB4 = 1ull << 22;
constexpr std::uint64_t kGiB1 = 1ull << 30;

// 64 KiB of guest-physical memory. Tables live in it; the pages they map
// need not (translate reads page tables only).
class GuestPhys {
public:
    GuestPhys() : bytes_(64 * 1024, 0) {}

    void put32(std::uint64_t gpa, std::uint32_t v) { store(gpa, v, 4); }
    void put64(std::uint64_t gpa, std::uint64_t v) { store(gpa, v, 8); }

    // The reader translate() gets: little-endian, nullopt outside the buffer
    // (including an access that starts inside and runs past the end).
    PhysReader reader() {
        return [this](std::uint64_t gpa, unsigned size) -> std::optional<std::uint64_t> {
            ++reads;
            CU_ASSERT(size == 4 || size == 8);
            if (gpa >= bytes_.size() || size > bytes_.size() - gpa) {
                return std::nullopt;
            }
            std::uint64_t v = 0;
            for (unsigned i = size; i-- > 0;) {
                v = (v << 8) | bytes_[gpa + i];
            }
            return v;
        };
    }

    std::uint64_t size() const { return bytes_.size(); }

    unsigned reads = 0;

private:
    void store(std::uint64_t gpa, std::uint64_t v, unsigned size) {
        CU_ASSERT_FATAL(gpa + size <= bytes_.size());
        for (unsigned i = 0; i < size; ++i) {
            bytes_[gpa + i] = static_cast<std::uint8_t>(v >> (8 * i));
        }
    }

    std::vector<std::uint8_t> bytes_;
};

std::optional<Translation> walk(GuestPhys& mem, const PagingState& ps, std::uint64_t linear) {
    mem.reads = 0;
    return translate(ps, linear, mem.reader());
}

void expect(const std::optional<Translation>& t, std::uint64_t physical, std::uint64_t page_size, bool writable) {
    CU_ASSERT_FATAL(t.has_value());
    if (t->physical != physical || t->page_size != page_size || t->writable != writable) {
        std::fprintf(stderr, "got 0x%llx/%llx/%d, wanted 0x%llx/%llx/%d\n",
                     static_cast<unsigned long long>(t->physical), static_cast<unsigned long long>(t->page_size),
                     t->writable, static_cast<unsigned long long>(physical), static_cast<unsigned long long>(page_size),
                     writable);
    }
    CU_ASSERT_EQUAL(t->physical, physical);
    CU_ASSERT_EQUAL(t->page_size, page_size);
    CU_ASSERT_EQUAL(t->writable, writable);
}

// Index of `linear` at the level whose entries map 2^shift bytes.
std::uint64_t idx9(std::uint64_t linear, int shift) { return (linear >> shift) & 0x1ff; }
std::uint64_t idx10(std::uint64_t linear, int shift) { return (linear >> shift) & 0x3ff; }

// ------------------------------------------------------------------ paging off

void test_paging_off_is_identity() {
    GuestPhys mem;
    PagingState ps;
    ps.cr3 = 0x1000;
    ps.cr4 = kPAE | kPSE;  // ignored without CR0.PG
    expect(walk(mem, ps, 0x12345678), 0x12345678, kKiB4, true);
    expect(walk(mem, ps, 0xfffff), 0xfffff, kKiB4, true);  // real-mode top (CS.base + IP)
    CU_ASSERT_EQUAL(mem.reads, 0u);
}

// ---------------------------------------------------------------- 32-bit paging

// CR3 -> PD at 0x1000 -> PT at 0x2000 (SDM 4.3, Figure 4-2).
//   31      22 21      12 11         0
//  +----------+----------+------------+
//  | PD index | PT index |   offset   |
//  +----------+----------+------------+
constexpr std::uint64_t kLin32 = 0x12345678;  // PD 0x048, PT 0x345, offset 0x678

PagingState paging32(std::uint64_t cr4 = 0) {
    PagingState ps;
    ps.cr0 = kPG | 1;        // PE too
    ps.cr3 = 0x1000 | 0x18;  // PWT/PCD are not address bits
    ps.cr4 = cr4;
    return ps;
}

void build32(GuestPhys& mem, std::uint32_t pde_flags, std::uint32_t pte_flags) {
    mem.put32(0x1000 + idx10(kLin32, 22) * 4, 0x2000 | pde_flags);
    mem.put32(0x2000 + idx10(kLin32, 12) * 4, 0xabcde000 | pte_flags);
}

void test_32bit_4k() {
    GuestPhys mem;
    build32(mem, P | RW | US | A, P | RW | A | G);
    expect(walk(mem, paging32(), kLin32), 0xabcde678, kKiB4, true);
    CU_ASSERT_EQUAL(mem.reads, 2u);
    // Offsets 0 and 0xfff of the same page.
    expect(walk(mem, paging32(), 0x12345000), 0xabcde000, kKiB4, true);
    expect(walk(mem, paging32(), 0x12345fff), 0xabcdefff, kKiB4, true);
    // The neighbouring PTE is empty.
    CU_ASSERT_FALSE(walk(mem, paging32(), 0x12346000).has_value());
}

void test_32bit_ps_ignored_without_cr4_pse() {
    // Without CR4.PSE the PS bit is ignored: the PDE still points to a PT.
    GuestPhys mem;
    build32(mem, P | RW | PS, P | RW);
    expect(walk(mem, paging32(), kLin32), 0xabcde678, kKiB4, true);
    CU_ASSERT_EQUAL(mem.reads, 2u);
}

void test_32bit_4m() {
    GuestPhys mem;
    // PD index 2 maps 0x00800000-0x00bfffff to a 4 MiB page at 0x12c00000.
    mem.put32(0x1000 + 2 * 4, 0x12c00000 | P | RW | PS);
    expect(walk(mem, paging32(kPSE), 0x00abcdef), 0x12ebcdef, kMiB4, true);
    CU_ASSERT_EQUAL(mem.reads, 1u);
    // Very first and very last byte of the large page.
    expect(walk(mem, paging32(kPSE), 0x00800000), 0x12c00000, kMiB4, true);
    expect(walk(mem, paging32(kPSE), 0x00bfffff), 0x12ffffff, kMiB4, true);
    // One past it is PD index 3: not present.
    CU_ASSERT_FALSE(walk(mem, paging32(kPSE), 0x00c00000).has_value());
}

void test_32bit_4m_pse36() {
    // PSE-36: PDE bits 20:13 are physical bits 39:32; bit 12 is PAT, not an
    // address bit (SDM Table 4-4).
    GuestPhys mem;
    std::uint32_t pde = 0xffc00000u | (0xabu << 13) | static_cast<std::uint32_t>(kLargePat | P | PS);
    mem.put32(0x1000 + 0x3ff * 4, pde);
    expect(walk(mem, paging32(kPSE), 0xffffffff), 0xabffffffffull, kMiB4, false);
    expect(walk(mem, paging32(kPSE), 0xffc01234), 0xabffc01234ull, kMiB4, false);
}

void test_32bit_not_present() {
    GuestPhys mem;
    build32(mem, RW, P | RW);  // PDE not present
    CU_ASSERT_FALSE(walk(mem, paging32(), kLin32).has_value());
    CU_ASSERT_EQUAL(mem.reads, 1u);
    build32(mem, P | RW, RW);  // PTE not present
    CU_ASSERT_FALSE(walk(mem, paging32(), kLin32).has_value());
    CU_ASSERT_EQUAL(mem.reads, 2u);
    // A not-present 4 MiB PDE.
    mem.put32(0x1000 + 2 * 4, 0x12c00000 | RW | PS);
    CU_ASSERT_FALSE(walk(mem, paging32(kPSE), 0x00abcdef).has_value());
}

void test_32bit_writable() {
    GuestPhys mem;
    const std::uint32_t levels[][2] = {{P | RW, P | RW}, {P, P | RW}, {P | RW, P}, {P, P}};
    for (const auto& f : levels) {
        build32(mem, f[0], f[1]);
        auto t = walk(mem, paging32(), kLin32);
        CU_ASSERT_FATAL(t.has_value());
        CU_ASSERT_EQUAL(t->writable, (f[0] & RW) != 0 && (f[1] & RW) != 0);
    }
}

void test_32bit_tables_outside_memory() {
    GuestPhys mem;
    PagingState ps = paging32();
    ps.cr3 = 0xfffff000;  // PD beyond the 64 KiB
    CU_ASSERT_FALSE(walk(mem, ps, kLin32).has_value());
    CU_ASSERT_EQUAL(mem.reads, 1u);
    // PDE points to a PT beyond memory.
    mem.put32(0x1000 + idx10(kLin32, 22) * 4, 0x00800000 | P | RW);
    CU_ASSERT_FALSE(walk(mem, paging32(), kLin32).has_value());
    CU_ASSERT_EQUAL(mem.reads, 2u);
    // PT in the last page of memory: the last PTE (index 0x3ff) still reads.
    mem.put32(0x1000 + idx10(kLin32, 22) * 4, static_cast<std::uint32_t>(mem.size() - 0x1000) | P | RW);
    mem.put32(mem.size() - 4, 0x55555000 | P | RW);
    expect(walk(mem, paging32(), 0x123ff00f), 0x5555500f, kKiB4, true);
}

// ------------------------------------------------------------------ PAE paging

// CR3 -> PDPT (32-byte aligned, 4 entries) -> PD -> PT (SDM 4.4, Figure 4-5).
//   31 30 29     21 20     12 11         0
//  +-----+---------+---------+------------+
//  |PDPT |   PD    |   PT    |   offset   |
//  +-----+---------+---------+------------+
constexpr std::uint64_t kLinPae = 0xc0345678;  // PDPT 3, PD 0x001, PT 0x145, offset 0x678

PagingState paging_pae() {
    PagingState ps;
    ps.cr0 = kPG | 1;
    ps.cr3 = 0x1fe0;  // a PDPT need not be page aligned
    ps.cr4 = kPAE;
    return ps;
}

void build_pae(GuestPhys& mem, std::uint64_t pdpte_flags, std::uint64_t pde_flags, std::uint64_t pte_flags) {
    mem.put64(0x1fe0 + 3 * 8, 0x2000 | pdpte_flags);
    mem.put64(0x2000 + idx9(kLinPae, 21) * 8, 0x3000 | pde_flags);
    // Above 4 GiB, with XD: bit 63 is not an address bit.
    mem.put64(0x3000 + idx9(kLinPae, 12) * 8, 0x0000001234567000ull | pte_flags);
}

void test_pae_4k() {
    GuestPhys mem;
    // A PAE PDPTE has no R/W bit (bits 2:1 reserved, SDM Table 4-8): the
    // walker must not make the page read-only because of it.
    build_pae(mem, P, P | RW | US, P | RW | XD);
    expect(walk(mem, paging_pae(), kLinPae), 0x1234567678ull, kKiB4, true);
    CU_ASSERT_EQUAL(mem.reads, 3u);
    // The upper half of the linear address is not looked at in PAE mode.
    expect(walk(mem, paging_pae(), 0xffffffff00000000ull | kLinPae), 0x1234567678ull, kKiB4, true);
}

void test_pae_2m() {
    GuestPhys mem;
    mem.put64(0x1fe0 + 1 * 8, 0x2000 | P);
    // PD index 0x1ff of PDPT 1: linear 0x7fe00000-0x7fffffff.
    mem.put64(0x2000 + 0x1ff * 8, 0x0000000400200000ull | kLargePat | P | RW | PS | XD);
    expect(walk(mem, paging_pae(), 0x7fe00000), 0x400200000ull, kMiB2, true);
    expect(walk(mem, paging_pae(), 0x7fffffff), 0x4003fffffull, kMiB2, true);
    expect(walk(mem, paging_pae(), 0x7fe12345), 0x400212345ull, kMiB2, true);
    CU_ASSERT_EQUAL(mem.reads, 2u);
}

void test_pae_not_present() {
    GuestPhys mem;
    build_pae(mem, 0, P | RW, P | RW);
    CU_ASSERT_FALSE(walk(mem, paging_pae(), kLinPae).has_value());
    CU_ASSERT_EQUAL(mem.reads, 1u);
    build_pae(mem, P, RW, P | RW);
    CU_ASSERT_FALSE(walk(mem, paging_pae(), kLinPae).has_value());
    CU_ASSERT_EQUAL(mem.reads, 2u);
    build_pae(mem, P, P | RW, RW);
    CU_ASSERT_FALSE(walk(mem, paging_pae(), kLinPae).has_value());
    CU_ASSERT_EQUAL(mem.reads, 3u);
}

void test_pae_pdpte_ps_is_reserved() {
    // Bit 7 of a PAE PDPTE is reserved (SDM Table 4-8): no 1 GiB pages here.
    GuestPhys mem;
    build_pae(mem, P | PS, P | RW, P | RW);
    CU_ASSERT_FALSE(walk(mem, paging_pae(), kLinPae).has_value());
}

void test_pae_writable() {
    GuestPhys mem;
    for (std::uint64_t pde : {P, P | RW}) {
        for (std::uint64_t pte : {P, P | RW}) {
            build_pae(mem, P, pde, pte);
            auto t = walk(mem, paging_pae(), kLinPae);
            CU_ASSERT_FATAL(t.has_value());
            CU_ASSERT_EQUAL(t->writable, (pde & RW) != 0 && (pte & RW) != 0);
        }
    }
}

void test_pae_tables_outside_memory() {
    GuestPhys mem;
    PagingState ps = paging_pae();
    ps.cr3 = 0x10000;  // exactly one past the end
    CU_ASSERT_FALSE(walk(mem, ps, kLinPae).has_value());
    build_pae(mem, P, P | RW, P | RW);
    mem.put64(0x2000 + idx9(kLinPae, 21) * 8, 0xfffff000ull | P | RW);
    CU_ASSERT_FALSE(walk(mem, paging_pae(), kLinPae).has_value());
    CU_ASSERT_EQUAL(mem.reads, 3u);
}

// ------------------------------------------------------------ 4-level paging

// CR3 -> PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000 (SDM 4.5).
//   63      48 47    39 38    30 29    21 20    12 11         0
//   +---------+--------+--------+--------+--------+------------+
//   | sign ext|  PML4  |  PDPT  |   PD   |   PT   |   offset   |
//   +---------+--------+--------+--------+--------+------------+
constexpr std::uint64_t kLin64 = 0xffff800012345678ull;  // PML4 0x100, PDPT 0, PD 0x091, PT 0x145

PagingState paging4() {
    PagingState ps;
    ps.cr0 = kPG | 1;
    ps.cr3 = 0x1000 | 0x5;  // PCID 5 in bits 11:0 is not an address bit
    ps.cr4 = kPAE;
    ps.efer = kLME | kLMA;
    return ps;
}

void build4(GuestPhys& mem, std::uint64_t linear, const std::uint64_t flags[4], std::uint64_t frame) {
    mem.put64(0x1000 + idx9(linear, 39) * 8, 0x2000 | flags[0]);
    mem.put64(0x2000 + idx9(linear, 30) * 8, 0x3000 | flags[1]);
    mem.put64(0x3000 + idx9(linear, 21) * 8, 0x4000 | flags[2]);
    mem.put64(0x4000 + idx9(linear, 12) * 8, frame | flags[3]);
}

void test_4level_4k() {
    GuestPhys mem;
    const std::uint64_t flags[4] = {P | RW | US, P | RW | US, P | RW | US, P | RW | A | G | XD};
    build4(mem, kLin64, flags, 0x0000000987654000ull);
    CU_ASSERT_EQUAL(idx9(kLin64, 39), 0x100u);
    CU_ASSERT_EQUAL(idx9(kLin64, 21), 0x091u);
    CU_ASSERT_EQUAL(idx9(kLin64, 12), 0x145u);
    expect(walk(mem, paging4(), kLin64), 0x987654678ull, kKiB4, true);
    CU_ASSERT_EQUAL(mem.reads, 4u);
}

void test_4level_address_bits_only() {
    // Bits 62:52 (protection key, ignored) and 63 (XD) are not address bits;
    // bits 51:12 all are (MAXPHYADDR up to 52).
    GuestPhys mem;
    const std::uint64_t flags[4] = {P | RW | kProtKey | XD, P | RW | kIgnored52, P | RW,
                                    P | RW | kProtKey | kIgnored52 | XD};
    build4(mem, kLin64, flags, 0x000ffffffffff000ull);
    expect(walk(mem, paging4(), kLin64), 0x000ffffffffff678ull, kKiB4, true);
}

void test_4level_pat_bit_of_4k_pte_is_not_ps() {
    // Bit 7 of a PTE is PAT, not PS.
    GuestPhys mem;
    const std::uint64_t flags[4] = {P | RW, P | RW, P | RW, P | RW | PS};
    build4(mem, kLin64, flags, 0x5000);
    expect(walk(mem, paging4(), kLin64), 0x5678, kKiB4, true);
}

void test_4level_2m() {
    GuestPhys mem;
    constexpr std::uint64_t lin = 0x00007fffffe00000ull;  // the last 2 MiB of the lower half
    mem.put64(0x1000 + idx9(lin, 39) * 8, 0x2000 | P | RW);
    mem.put64(0x2000 + idx9(lin, 30) * 8, 0x3000 | P | RW);
    mem.put64(0x3000 + idx9(lin, 21) * 8, 0x0000123456e00000ull | kLargePat | P | RW | PS | XD);
    expect(walk(mem, paging4(), lin), 0x123456e00000ull, kMiB2, true);
    CU_ASSERT_EQUAL(mem.reads, 3u);
    // The last byte of the page and of the canonical lower half.
    expect(walk(mem, paging4(), 0x00007fffffffffffull), 0x123456ffffffull, kMiB2, true);
}

void test_4level_1g() {
    GuestPhys mem;
    constexpr std::uint64_t lin = 0xffffffffc0000000ull;  // the last 1 GiB of the address space
    mem.put64(0x1000 + 0x1ff * 8, 0x2000 | P | RW);
    mem.put64(0x2000 + 0x1ff * 8, 0x0000004040000000ull | kLargePat | P | RW | PS);
    expect(walk(mem, paging4(), lin), 0x4040000000ull, kGiB1, true);
    CU_ASSERT_EQUAL(mem.reads, 2u);
    expect(walk(mem, paging4(), 0xffffffffffffffffull), 0x407fffffffull, kGiB1, true);
    expect(walk(mem, paging4(), 0xffffffffc1234567ull), 0x4041234567ull, kGiB1, true);
}

void test_4level_not_present_at_each_level() {
    for (unsigned level = 0; level < 4; ++level) {
        GuestPhys mem;
        std::uint64_t flags[4] = {P | RW, P | RW, P | RW, P | RW};
        flags[level] = RW;  // present bit clear, everything else set
        build4(mem, kLin64, flags, 0x5000);
        CU_ASSERT_FALSE(walk(mem, paging4(), kLin64).has_value());
        CU_ASSERT_EQUAL(mem.reads, level + 1);
    }
}

void test_4level_pml4_ps_rejected() {
    // PS is reserved in a PML4E (SDM Table 4-15): no 512 GiB pages.
    GuestPhys mem;
    const std::uint64_t flags[4] = {P | RW | PS, P | RW, P | RW, P | RW};
    build4(mem, kLin64, flags, 0x5000);
    CU_ASSERT_FALSE(walk(mem, paging4(), kLin64).has_value());
    CU_ASSERT_EQUAL(mem.reads, 1u);
}

void test_4level_non_canonical() {
    GuestPhys mem;
    const std::uint64_t flags[4] = {P | RW, P | RW, P | RW, P | RW};
    build4(mem, kLin64, flags, 0x5000);
    for (std::uint64_t lin : {0x0000800000000000ull, 0xffff7fffffffffffull, 0x8000000000000000ull,
                              0x0001000000000000ull, 0xfffe800012345678ull, 0x7fff800012345678ull}) {
        CU_ASSERT_FALSE(walk(mem, paging4(), lin).has_value());
        CU_ASSERT_EQUAL(mem.reads, 0u);  // rejected before any table read
    }
    // The canonical edges are walked (and not mapped here).
    for (std::uint64_t lin : {0x00007fffffffffffull, 0xffff800000000000ull, 0ull, ~0ull}) {
        CU_ASSERT_FALSE(walk(mem, paging4(), lin).has_value());
        CU_ASSERT(mem.reads >= 1u);
    }
}

void test_4level_writable_combines_all_levels() {
    for (unsigned ro = 0; ro <= 4; ++ro) {
        GuestPhys mem;
        std::uint64_t flags[4] = {P | RW, P | RW, P | RW, P | RW};
        if (ro < 4) {
            flags[ro] = P;
        }
        build4(mem, kLin64, flags, 0x5000);
        auto t = walk(mem, paging4(), kLin64);
        CU_ASSERT_FATAL(t.has_value());
        CU_ASSERT_EQUAL(t->writable, ro == 4);
    }
    // A large page is writable only if the levels above it are too.
    GuestPhys mem;
    mem.put64(0x1000 + 0x1ff * 8, 0x2000 | P);
    mem.put64(0x2000 + 0x1ff * 8, 0x40000000ull | P | RW | PS);
    expect(walk(mem, paging4(), 0xffffffffc0000000ull), 0x40000000ull, kGiB1, false);
    mem.put64(0x1000 + 0x1ff * 8, 0x2000 | P | RW);
    expect(walk(mem, paging4(), 0xffffffffc0000000ull), 0x40000000ull, kGiB1, true);
}

void test_4level_tables_outside_memory() {
    for (unsigned level = 0; level < 4; ++level) {
        GuestPhys mem;
        const std::uint64_t flags[4] = {P | RW, P | RW, P | RW, P | RW};
        build4(mem, kLin64, flags, 0x5000);
        PagingState ps = paging4();
        if (level == 0) {
            ps.cr3 = 0x000ffffffffff000ull;  // PML4 at the top of a 52-bit space
        } else {
            // Entry of the level above points past the 64 KiB.
            const std::uint64_t table[4] = {0x1000, 0x2000, 0x3000};
            const int shift[4] = {39, 30, 21};
            mem.put64(table[level - 1] + idx9(kLin64, shift[level - 1]) * 8, 0x10000 | P | RW);
        }
        CU_ASSERT_FALSE(walk(mem, ps, kLin64).has_value());
        CU_ASSERT_EQUAL(mem.reads, level + 1);
    }
}

// ------------------------------------------------------------ 5-level paging

// CR4.LA57 adds the PML5 on top (SDM 4.5): bits 56:48 index it, bits 63:57
// sign-extend bit 56.
PagingState paging5() {
    PagingState ps = paging4();
    ps.cr4 |= kLA57;
    return ps;
}

void build5(GuestPhys& mem, std::uint64_t linear, const std::uint64_t flags[5], std::uint64_t frame) {
    mem.put64(0x1000 + idx9(linear, 48) * 8, 0x6000 | flags[0]);
    mem.put64(0x6000 + idx9(linear, 39) * 8, 0x2000 | flags[1]);
    mem.put64(0x2000 + idx9(linear, 30) * 8, 0x3000 | flags[2]);
    mem.put64(0x3000 + idx9(linear, 21) * 8, 0x4000 | flags[3]);
    mem.put64(0x4000 + idx9(linear, 12) * 8, frame | flags[4]);
}

void test_5level_57bit_address() {
    // Bit 56 set (PML5 index 0x101), bits 63:57 all ones.
    constexpr std::uint64_t lin = 0xff0123456789abcdull;
    CU_ASSERT_EQUAL(idx9(lin, 48), 0x101u);
    GuestPhys mem;
    const std::uint64_t flags[5] = {P | RW, P | RW, P | RW, P | RW, P | RW};
    build5(mem, lin, flags, 0x00000abcdef01000ull);
    expect(walk(mem, paging5(), lin), 0xabcdef01bcdull, kKiB4, true);
    CU_ASSERT_EQUAL(mem.reads, 5u);
    // The same address is non-canonical under 4-level paging.
    CU_ASSERT_FALSE(walk(mem, paging4(), lin).has_value());
    CU_ASSERT_EQUAL(mem.reads, 0u);
}

void test_5level_lower_half_above_48_bits() {
    // Bits 55:48 in use in the lower half: non-canonical with 4 levels.
    constexpr std::uint64_t lin = 0x00fe000000001234ull;  // PML5 index 0x0fe
    GuestPhys mem;
    const std::uint64_t flags[5] = {P | RW, P | RW, P, P | RW, P | RW};
    build5(mem, lin, flags, 0x7000);
    expect(walk(mem, paging5(), lin), 0x7234, kKiB4, false);
    CU_ASSERT_FALSE(walk(mem, paging4(), lin).has_value());
}

void test_5level_large_pages() {
    constexpr std::uint64_t lin = 0x0012345680000000ull;
    GuestPhys mem;
    mem.put64(0x1000 + idx9(lin, 48) * 8, 0x6000 | P | RW);
    mem.put64(0x6000 + idx9(lin, 39) * 8, 0x2000 | P | RW);
    mem.put64(0x2000 + idx9(lin, 30) * 8, 0x0000008000000000ull | P | RW | PS);
    expect(walk(mem, paging5(), lin + kGiB1 - 1), 0x8000000000ull + kGiB1 - 1, kGiB1, true);
    CU_ASSERT_EQUAL(mem.reads, 3u);
    // The same slot as a PD with a 2 MiB page at index 0.
    mem.put64(0x2000 + idx9(lin, 30) * 8, 0x3000 | P | RW);
    mem.put64(0x3000 + idx9(lin, 21) * 8, 0x0000000000a00000ull | P | RW | PS);
    expect(walk(mem, paging5(), lin + kMiB2 - 1), 0xa00000ull + kMiB2 - 1, kMiB2, true);
}

void test_5level_non_canonical() {
    GuestPhys mem;
    const std::uint64_t flags[5] = {P | RW, P | RW, P | RW, P | RW, P | RW};
    build5(mem, 0, flags, 0x5000);
    for (std::uint64_t lin : {0x0100000000000000ull, 0xfe00000000000000ull, 0x8000000000000000ull,
                              0x7f00000000000000ull, 0xfeffffffffffffffull}) {
        CU_ASSERT_FALSE(walk(mem, paging5(), lin).has_value());
        CU_ASSERT_EQUAL(mem.reads, 0u);
    }
    // The edges are canonical.
    expect(walk(mem, paging5(), 0x123), 0x5123, kKiB4, true);
    for (std::uint64_t lin : {0x00ffffffffffffffull, 0xff00000000000000ull}) {
        CU_ASSERT_FALSE(walk(mem, paging5(), lin).has_value());
        CU_ASSERT(mem.reads >= 1u);
    }
}

void test_5level_not_present_and_ps() {
    for (unsigned level = 0; level < 5; ++level) {
        GuestPhys mem;
        std::uint64_t flags[5] = {P | RW, P | RW, P | RW, P | RW, P | RW};
        flags[level] = RW;
        build5(mem, kLin64, flags, 0x5000);
        CU_ASSERT_FALSE(walk(mem, paging5(), kLin64).has_value());
        CU_ASSERT_EQUAL(mem.reads, level + 1);
    }
    // PS is reserved in a PML5E and in a PML4E.
    for (unsigned level = 0; level < 2; ++level) {
        GuestPhys mem;
        std::uint64_t flags[5] = {P | RW, P | RW, P | RW, P | RW, P | RW};
        flags[level] |= PS;
        build5(mem, kLin64, flags, 0x5000);
        CU_ASSERT_FALSE(walk(mem, paging5(), kLin64).has_value());
        CU_ASSERT_EQUAL(mem.reads, level + 1);
    }
    // LA57 means nothing outside long mode: a PAE walk.
    GuestPhys mem;
    build_pae(mem, P, P | RW, P | RW);
    PagingState ps = paging_pae();
    ps.cr4 |= kLA57;
    expect(walk(mem, ps, kLinPae), 0x1234567678ull, kKiB4, true);
}

const kvmdbg::test::TestCase kOffCases[] = {
    {"paging off is identity", test_paging_off_is_identity},
};

const kvmdbg::test::TestCase k32Cases[] = {
    {"4 KiB", test_32bit_4k},
    {"PS ignored without CR4.PSE", test_32bit_ps_ignored_without_cr4_pse},
    {"4 MiB", test_32bit_4m},
    {"4 MiB PSE-36", test_32bit_4m_pse36},
    {"not present", test_32bit_not_present},
    {"writable", test_32bit_writable},
    {"tables outside memory", test_32bit_tables_outside_memory},
};

const kvmdbg::test::TestCase kPaeCases[] = {
    {"4 KiB", test_pae_4k},
    {"2 MiB", test_pae_2m},
    {"not present", test_pae_not_present},
    {"PDPTE PS reserved", test_pae_pdpte_ps_is_reserved},
    {"writable", test_pae_writable},
    {"tables outside memory", test_pae_tables_outside_memory},
};

const kvmdbg::test::TestCase k4Cases[] = {
    {"4 KiB", test_4level_4k},
    {"address bits only", test_4level_address_bits_only},
    {"PTE PAT bit is not PS", test_4level_pat_bit_of_4k_pte_is_not_ps},
    {"2 MiB", test_4level_2m},
    {"1 GiB", test_4level_1g},
    {"not present at each level", test_4level_not_present_at_each_level},
    {"PML4E PS rejected", test_4level_pml4_ps_rejected},
    {"non-canonical", test_4level_non_canonical},
    {"writable combines all levels", test_4level_writable_combines_all_levels},
    {"tables outside memory", test_4level_tables_outside_memory},
};

const kvmdbg::test::TestCase k5Cases[] = {
    {"57-bit address", test_5level_57bit_address},
    {"lower half above 48 bits", test_5level_lower_half_above_48_bits},
    {"1 GiB and 2 MiB", test_5level_large_pages},
    {"non-canonical", test_5level_non_canonical},
    {"not present and PS", test_5level_not_present_and_ps},
};

const kvmdbg::test::TestSuite kSuites[] = {
    {"paging_off", kOffCases}, {"32bit", k32Cases}, {"pae", kPaeCases}, {"4level", k4Cases}, {"5level", k5Cases},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
