// arm64 stage-1 walker (arch/arm64/page_walk.h) on tables built in a fake
// guest-physical memory, for each granule, both TTBRs, blocks and pages,
// 48- and 52-bit addresses (FEAT_LPA with 64 KiB, FEAT_LPA2 with 4/16 KiB).
#include <map>
#include <string>

#include "arch/arm64/page_walk.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::arch::arm64;

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

constexpr std::uint64_t field_mask(unsigned hi, unsigned lo) {
    return ((hi == 63) ? ~0ull : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);
}

// TCR_EL1 builders (field positions from the ARM ARM TCR_EL1 description).
constexpr std::uint64_t kTg0_4K = 0b00ull << 14, kTg0_64K = 0b01ull << 14, kTg0_16K = 0b10ull << 14;
constexpr std::uint64_t kTg1_16K = 0b01ull << 30, kTg1_4K = 0b10ull << 30, kTg1_64K = 0b11ull << 30;
constexpr std::uint64_t kIps52 = 0b110ull << 32;
constexpr std::uint64_t kDs = 1ull << 59;
constexpr std::uint64_t t0sz(unsigned v) { return v; }
constexpr std::uint64_t t1sz(unsigned v) { return static_cast<std::uint64_t>(v) << 16; }

enum class Oa { plain, lpa, lpa2 };

// Guest-physical memory holding 64-bit descriptors, plus a page-table
// builder that is written independently of the walker.
struct Tables {
    std::map<std::uint64_t, std::uint64_t> mem;
    unsigned g;  // granule shift
    unsigned va_bits;
    Oa oa;
    std::uint64_t next;  // next free table address
    std::uint64_t root;

    Tables(unsigned granule_shift, unsigned vabits, Oa format, std::uint64_t table_base)
        : g(granule_shift), va_bits(vabits), oa(format), next(table_base), root(alloc()) {}

    std::uint64_t alloc() {
        std::uint64_t t = next;
        next += 1ull << g;
        return t;
    }
    std::uint64_t encode(std::uint64_t pa) const {
        switch (oa) {
        case Oa::lpa: return (pa & field_mask(47, 16)) | ((pa >> 48) & 0xf) << 12;
        case Oa::lpa2: return (pa & field_mask(49, g)) | ((pa >> 50) & 0x3) << 8;
        default: return pa & field_mask(47, g);
        }
    }
    std::uint64_t decode(std::uint64_t desc) const {
        switch (oa) {
        case Oa::lpa: return (desc & field_mask(47, 16)) | ((desc >> 12) & 0xf) << 48;
        case Oa::lpa2: return (desc & field_mask(49, g)) | ((desc >> 8) & 0x3) << 50;
        default: return desc & field_mask(47, g);
        }
    }
    int start_level() const {
        unsigned stride = g - 3;
        return 4 - static_cast<int>((va_bits - g + stride - 1) / stride);
    }
    unsigned shift(int level) const { return g + (g - 3) * static_cast<unsigned>(3 - level); }
    std::uint64_t index(std::uint64_t va, int level) const {
        unsigned lo = shift(level);
        unsigned hi = level == start_level() ? va_bits : lo + (g - 3);
        return (va >> lo) & ((1ull << (hi - lo)) - 1);
    }
    // Maps `va` to `pa` with a leaf at `leaf_level` (3 = page, else block).
    void map(std::uint64_t va, std::uint64_t pa, int leaf_level) {
        std::uint64_t table = root;
        for (int level = start_level(); level < leaf_level; ++level) {
            std::uint64_t slot = table + index(va, level) * 8;
            auto it = mem.find(slot);
            if (it == mem.end()) {
                std::uint64_t t = alloc();
                mem[slot] = encode(t) | 0b11;
                table = t;
            } else {
                table = decode(it->second);
            }
        }
        std::uint64_t leaf = encode(pa) | (leaf_level == 3 ? 0b11 : 0b01) | 0x400 /* AF */;
        mem[table + index(va, leaf_level) * 8] = leaf;
    }
    PhysReader reader() const {
        return [this](std::uint64_t gpa) -> std::optional<std::uint64_t> {
            auto it = mem.find(gpa);
            if (it != mem.end()) {
                return it->second;
            }
            // Zero (invalid) inside any table we allocated, not RAM elsewhere.
            if (gpa >= first_table_ && gpa < next) {
                return 0;
            }
            return std::nullopt;
        };
    }
    std::uint64_t ttbr() const {
        if (oa == Oa::plain) {
            return root;
        }
        return (root & field_mask(47, 6)) | ((root >> 48) & 0xf) << 2;
    }
    std::uint64_t first_table_ = root;
};

PagingState paging(std::uint64_t tcr, std::uint64_t ttbr0, std::uint64_t ttbr1) {
    return PagingState{1 /* SCTLR_EL1.M */, tcr, ttbr0, ttbr1};
}

void expect(const PagingState& ps, const Tables& t, std::uint64_t va, std::uint64_t pa, std::uint64_t size, int level,
            unsigned ttbr) {
    auto r = translate(ps, va, t.reader());
    if (!r.ok()) {
        std::fprintf(stderr, "translate 0x%llx: %s\n", static_cast<unsigned long long>(va), r.error().message.c_str());
    }
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(r->physical, pa);
    CU_ASSERT_EQUAL(r->page_size, size);
    CU_ASSERT_EQUAL(r->level, level);
    CU_ASSERT_EQUAL(r->ttbr, ttbr);
    CU_ASSERT(!r->mmu_off);
}

void test_granule_encodings_differ() {
    CU_ASSERT(decode_granule(kTg0_4K, false).value() == Granule::k4K);
    CU_ASSERT(decode_granule(kTg0_64K, false).value() == Granule::k64K);
    CU_ASSERT(decode_granule(kTg0_16K, false).value() == Granule::k16K);
    CU_ASSERT(!decode_granule(0b11ull << 14, false).ok());
    CU_ASSERT(decode_granule(kTg1_16K, true).value() == Granule::k16K);
    CU_ASSERT(decode_granule(kTg1_4K, true).value() == Granule::k4K);
    CU_ASSERT(decode_granule(kTg1_64K, true).value() == Granule::k64K);
    auto r = decode_granule(0, true);
    CU_ASSERT(!r.ok() && r.error().code == EINVAL && contains(r.error().message, "TG1"));
}

void test_mmu_off_identity() {
    PagingState ps{0, 0xdeadbeef, 0, 0};
    auto r = translate(ps, 0x40001234, [](std::uint64_t) { return std::nullopt; });
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(r->physical, 0x40001234ull);
    CU_ASSERT(r->mmu_off);
}

void test_4k_48bit_pages_and_blocks() {
    Tables t(12, 48, Oa::plain, 0x80000000);
    t.map(0x0000123456789000, 0x40005000, 3);
    t.map(0x0000000040200000, 0x60000000, 2);  // 2 MiB block
    t.map(0x0000000080000000, 0xc0000000, 1);  // 1 GiB block
    PagingState ps = paging(t0sz(16) | kTg0_4K | kTg1_4K | t1sz(16), t.ttbr(), 0);
    expect(ps, t, 0x0000123456789abc, 0x40005abc, 0x1000, 3, 0);
    expect(ps, t, 0x00000000403fffff, 0x601fffff, 0x200000, 2, 0);
    expect(ps, t, 0x00000000babcdef0, 0xfabcdef0, 0x40000000, 1, 0);
    // Next page is unmapped.
    auto r = translate(ps, 0x000012345678a000, t.reader());
    CU_ASSERT(!r.ok() && r.error().code == EFAULT && contains(r.error().message, "level 3") &&
              contains(r.error().message, "invalid"));
}

void test_4k_ttbr1_kernel_and_39bit() {
    Tables k(12, 48, Oa::plain, 0x90000000);
    k.map(0xffff800010080000, 0x40080000, 3);
    Tables u(12, 39, Oa::plain, 0xa0000000);  // T0SZ = 25: 3 levels from L1
    u.map(0x0000000000400000, 0x41000000, 3);
    PagingState ps = paging(t0sz(25) | kTg0_4K | t1sz(16) | kTg1_4K, u.ttbr(), k.ttbr());
    expect(ps, k, 0xffff800010080ff8, 0x40080ff8, 0x1000, 3, 1);
    expect(ps, u, 0x0000000000400010, 0x41000010, 0x1000, 3, 0);
    CU_ASSERT_EQUAL(u.start_level(), 1);
    // Outside both ranges: bits above the 39-bit range set in a TTBR0 address,
    // and a TTBR1 address that is not all ones above 48 bits.
    auto r = translate(ps, 0x0000008000000000, u.reader());
    CU_ASSERT(!r.ok() && r.error().code == EFAULT && contains(r.error().message, "outside the 39-bit range"));
    r = translate(ps, 0xfeff800010080000, k.reader());
    CU_ASSERT(!r.ok() && r.error().code == EFAULT);
    // With TBI1 the top byte is ignored.
    PagingState tbi = ps;
    tbi.tcr_el1 |= 1ull << 38;
    expect(tbi, k, 0x5aff800010080008, 0x40080008, 0x1000, 3, 1);
}

void test_16k_48bit() {
    Tables t(14, 48, Oa::plain, 0x80000000);
    CU_ASSERT_EQUAL(t.start_level(), 0);
    t.map(0x0000800000004000, 0x40008000, 3);  // VA bit 47: level-0 index 1
    t.map(0x0000000002000000, 0x44000000, 2);  // 32 MiB block
    PagingState ps = paging(t0sz(16) | kTg0_16K | kTg1_16K | t1sz(16), t.ttbr(), 0);
    expect(ps, t, 0x0000800000007ffc, 0x4000bffc, 0x4000, 3, 0);
    expect(ps, t, 0x0000000003ffffff, 0x45ffffff, 0x2000000, 2, 0);
    // TTBR1 with TG1 = 16K (0b01, the encoding of 64K in TG0!).
    Tables k(14, 48, Oa::plain, 0x90000000);
    k.map(0xffff000000010000, 0x50000000, 3);
    PagingState ps1 = paging(t0sz(16) | kTg0_4K | kTg1_16K | t1sz(16), 0, k.ttbr());
    expect(ps1, k, 0xffff000000010123, 0x50000123, 0x4000, 3, 1);
}

void test_64k_48bit() {
    Tables t(16, 48, Oa::plain, 0x80000000);
    CU_ASSERT_EQUAL(t.start_level(), 1);
    t.map(0x0000abcd12340000, 0x40010000, 3);
    t.map(0x0000000020000000, 0x80000000, 2);  // 512 MiB block
    PagingState ps = paging(t0sz(16) | kTg0_64K | kTg1_64K | t1sz(16), t.ttbr(), t.ttbr());
    expect(ps, t, 0x0000abcd1234fffe, 0x4001fffe, 0x10000, 3, 0);
    expect(ps, t, 0x000000003fffffff, 0x9fffffff, 0x20000000, 2, 0);
    // Without FEAT_LPA (IPS != 52 bits) a level-1 block is not allowed.
    Tables b(16, 48, Oa::plain, 0x90000000);
    b.map(0x0000040000000000, 0x0000040000000000, 1);
    PagingState psb = paging(t0sz(16) | kTg0_64K, b.ttbr(), 0);
    auto r = translate(psb, 0x0000040000000000, b.reader());
    CU_ASSERT(!r.ok() && r.error().code == EFAULT && contains(r.error().message, "block descriptor not allowed"));
}

void test_64k_52bit_lpa() {
    // Tables and pages above 2^48: OA[51:48] in descriptor bits 15:12 and in
    // TTBR bits 5:2. 52-bit VA (T0SZ = 12, FEAT_LVA).
    Tables t(16, 52, Oa::lpa, 0x000a000000000000ull);
    t.map(0x000f123456780000ull, 0x000b000012340000ull, 3);
    t.map(0x0000040000000000ull, 0x000c040000000000ull, 1);  // 4 TiB block
    PagingState ps = paging(t0sz(12) | kTg0_64K | kIps52, t.ttbr(), 0);
    expect(ps, t, 0x000f12345678abcdull, 0x000b00001234abcdull, 0x10000, 3, 0);
    expect(ps, t, 0x0000041234567890ull, 0x000c041234567890ull, 0x40000000000ull, 1, 0);
    // The same tables read with IPS = 48 bits lose the high bits: the
    // root is looked up below 2^48, which is not RAM here.
    PagingState ps48 = paging(t0sz(12) | kTg0_64K, t.ttbr(), 0);
    CU_ASSERT(!translate(ps48, 0x000f12345678abcdull, t.reader()).ok());
}

void test_4k_52bit_lpa2() {
    // DS = 1: 52-bit VA starts at level -1 with 4 bits; OA[49:48] in desc
    // bits 49:48 and OA[51:50] in bits 9:8.
    Tables t(12, 52, Oa::lpa2, 0x0006000000000000ull);
    CU_ASSERT_EQUAL(t.start_level(), -1);
    t.map(0x000fedcba9876000ull, 0x000d123456789000ull, 3);
    t.map(0x0000008000000000ull, 0x000e008000000000ull, 0);  // 512 GiB block at level 0
    PagingState ps = paging(t0sz(12) | kTg0_4K | kDs | kIps52, t.ttbr(), 0);
    expect(ps, t, 0x000fedcba9876543ull, 0x000d123456789543ull, 0x1000, 3, 0);
    expect(ps, t, 0x000000bfffffffffull, 0x000e00bfffffffffull, 0x8000000000ull, 0, 0);
    // Without DS: T0SZ 12 is out of range for 4 KiB.
    auto r = translate(paging(t0sz(12) | kTg0_4K, t.ttbr(), 0), 0x1000, t.reader());
    CU_ASSERT(!r.ok() && r.error().code == EINVAL && contains(r.error().message, "T0SZ 12"));
}

void test_16k_52bit_lpa2() {
    Tables t(14, 52, Oa::lpa2, 0x0005000000000000ull);
    CU_ASSERT_EQUAL(t.start_level(), 0);
    t.map(0x000f000000004000ull, 0x000f000000008000ull, 3);
    t.map(0x0000001000000000ull, 0x0008001000000000ull, 1);  // 64 GiB block (DS only)
    PagingState ps = paging(t1sz(12) | kTg1_16K | t0sz(12) | kTg0_16K | kDs | kIps52, t.ttbr(), 0);
    expect(ps, t, 0x000f000000004001ull, 0x000f000000008001ull, 0x4000, 3, 0);
    expect(ps, t, 0x0000001fffffffffull, 0x0008001fffffffffull, 0x1000000000ull, 1, 0);
}

void test_malformed_tables() {
    Tables t(12, 48, Oa::plain, 0x80000000);
    t.map(0x1000, 0x40001000, 3);
    PagingState ps = paging(t0sz(16) | kTg0_4K | kTg1_4K | t1sz(16), t.ttbr(), 0);
    // Level-3 descriptor of type 0b01 is reserved.
    std::uint64_t l3 = 0;
    for (auto& [addr, desc] : t.mem) {
        if ((desc & 0xfff) == 0x403) {
            l3 = addr;
        }
    }
    CU_ASSERT_FATAL(l3 != 0);
    t.mem[l3] = 0x40001401;
    auto r = translate(ps, 0x1000, t.reader());
    CU_ASSERT(!r.ok() && r.error().code == EFAULT && contains(r.error().message, "reserved level-3"));
    // A block at level 0 without DS is not allowed.
    t.mem[t.root] = 0x0000000000000401;
    r = translate(ps, 0x1000, t.reader());
    CU_ASSERT(!r.ok() && contains(r.error().message, "level 0") && contains(r.error().message, "not allowed"));
    // A table pointing outside RAM.
    t.mem[t.root] = 0x0000700000000003;
    r = translate(ps, 0x1000, t.reader());
    CU_ASSERT(!r.ok() && r.error().code == EFAULT && contains(r.error().message, "not in guest RAM"));
    // EPD0 disables TTBR0 walks.
    r = translate(paging(t0sz(16) | kTg0_4K | 1ull << 7, t.ttbr(), 0), 0x1000, t.reader());
    CU_ASSERT(!r.ok() && contains(r.error().message, "EPD0"));
    // Reserved TG1 on a TTBR1 address; T0SZ out of range.
    r = translate(paging(t0sz(16), 0, 0), 0xffff000000000000ull, t.reader());
    CU_ASSERT(!r.ok() && r.error().code == EINVAL && contains(r.error().message, "TG1"));
    r = translate(paging(t0sz(49) | kTg0_4K, t.ttbr(), 0), 0x1000, t.reader());
    CU_ASSERT(!r.ok() && r.error().code == EINVAL);
}

// Random TCR/TTBR/VA values over a memory of random descriptors: every
// walk ends (success or a clear error) and reads at most 5 descriptors.
void test_random_tables_never_crash() {
    std::uint64_t seed = 0x9e3779b97f4a7c15ull;
    auto next = [&seed]() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        return seed;
    };
    unsigned ok = 0, failed = 0;
    for (int i = 0; i < 20000; ++i) {
        std::uint64_t tcr = next();
        if (i % 2 == 0) {  // half the walks with in-range T0SZ/T1SZ, no EPD
            tcr = (tcr & ~0xbf00bfull) | (16 + next() % 33) | (16 + next() % 33) << 16;
        }
        PagingState ps{1, tcr, next(), next()};
        unsigned reads = 0;
        std::uint64_t salt = next();
        PhysReader reader = [&](std::uint64_t gpa) -> std::optional<std::uint64_t> {
            ++reads;
            if ((gpa ^ salt) % 7 == 0) {
                return std::nullopt;
            }
            return (gpa * 0xff51afd7ed558ccdull) ^ salt;
        };
        auto r = translate(ps, next(), reader);
        CU_ASSERT(reads <= 5);
        if (r.ok()) {
            ++ok;
            CU_ASSERT(r->page_size >= 0x1000);
        } else {
            ++failed;
            CU_ASSERT(!r.error().message.empty());
        }
    }
    CU_ASSERT(ok + failed == 20000);
    CU_ASSERT(ok > 0);  // some random walks do reach a leaf
    // 64 KiB with T0SZ 48: no level at all.
    auto r = translate(paging(t0sz(48) | kTg0_64K, 0, 0), 0x1234, [](std::uint64_t) { return std::nullopt; });
    CU_ASSERT(!r.ok() && r.error().code == EINVAL && contains(r.error().message, "no translation level"));
}

const kvmdbg::test::TestCase kCases[] = {
    {"TG0 and TG1 encodings differ", test_granule_encodings_differ},
    {"MMU off is identity", test_mmu_off_identity},
    {"4K 48-bit pages and blocks", test_4k_48bit_pages_and_blocks},
    {"4K TTBR1 kernel + 39-bit TTBR0", test_4k_ttbr1_kernel_and_39bit},
    {"16K 48-bit", test_16k_48bit},
    {"64K 48-bit", test_64k_48bit},
    {"64K 52-bit (FEAT_LPA)", test_64k_52bit_lpa},
    {"4K 52-bit (FEAT_LPA2)", test_4k_52bit_lpa2},
    {"16K 52-bit (FEAT_LPA2)", test_16k_52bit_lpa2},
    {"malformed tables", test_malformed_tables},
    {"random tables never crash", test_random_tables_never_crash},
};
const kvmdbg::test::TestSuite kSuites[] = {{"arm64 page walk", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
