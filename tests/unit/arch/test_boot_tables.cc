// Unit tests for arch/x86/boot_tables: GDT bytes, identity page tables,
// and the entry/reset vCPU states.
#include "arch/x86/boot_tables.h"

#include <cstring>
#include <vector>

#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::arch::x86;

std::uint64_t load64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) {
        v = (v << 8) | p[i];
    }
    return v;
}

// Decodes one descriptor into the fields KVM's struct kvm_segment uses
// (SDM Vol. 3A 3.4.5), to cross-check the GDT against the states.
struct Decoded {
    std::uint64_t base;
    std::uint32_t limit;  // expanded by G
    std::uint8_t type, s, dpl, present, avl, l, db, g;
};

Decoded decode(std::uint64_t d) {
    Decoded x{};
    x.base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
    std::uint32_t raw_limit = static_cast<std::uint32_t>((d & 0xffff) | (((d >> 48) & 0xf) << 16));
    x.type = (d >> 40) & 0xf;
    x.s = (d >> 44) & 1;
    x.dpl = (d >> 45) & 3;
    x.present = (d >> 47) & 1;
    x.avl = (d >> 52) & 1;
    x.l = (d >> 53) & 1;
    x.db = (d >> 54) & 1;
    x.g = (d >> 55) & 1;
    x.limit = x.g ? (raw_limit << 12) | 0xfff : raw_limit;
    return x;
}

void assert_segment_matches(const KvmdbgX86Segment& seg, const std::vector<std::uint8_t>& gdt) {
    std::uint64_t d = load64(gdt.data() + seg.selector);
    Decoded x = decode(d);
    CU_ASSERT_EQUAL(seg.base, x.base);
    CU_ASSERT_EQUAL(seg.limit, x.limit);
    CU_ASSERT_EQUAL(seg.type, x.type);
    CU_ASSERT_EQUAL(seg.s, x.s);
    CU_ASSERT_EQUAL(seg.dpl, x.dpl);
    CU_ASSERT_EQUAL(seg.present, x.present);
    CU_ASSERT_EQUAL(seg.l, x.l);
    CU_ASSERT_EQUAL(seg.db, x.db);
    CU_ASSERT_EQUAL(seg.g, x.g);
    CU_ASSERT_EQUAL(seg.unusable, 0);
}

std::vector<std::uint8_t> boot_gdt() {
    std::vector<std::uint8_t> gdt(kBootGdtSize);
    CU_ASSERT_FATAL(write_boot_gdt(gdt).ok());
    return gdt;
}

// ------------------------------------------------------------------ GDT

void test_gdt_bytes() {
    std::vector<std::uint8_t> buf(kBootGdtSize + 8, 0xaa);
    CU_ASSERT_FATAL(write_boot_gdt(buf).ok());
    const std::uint8_t expected[32] = {
        0,    0,    0,    0,    0,    0,    0,    0,     // null
        0xff, 0xff, 0x00, 0x00, 0x00, 0x9b, 0xcf, 0x00,  // 0x08 32-bit code
        0xff, 0xff, 0x00, 0x00, 0x00, 0x93, 0xcf, 0x00,  // 0x10 data
        0xff, 0xff, 0x00, 0x00, 0x00, 0x9b, 0xaf, 0x00,  // 0x18 64-bit code
    };
    CU_ASSERT_EQUAL(std::memcmp(buf.data(), expected, sizeof expected), 0);
    for (std::size_t i = kBootGdtSize; i < buf.size(); ++i) {
        CU_ASSERT_EQUAL(buf[i], 0xaa);  // nothing written past the table
    }
    CU_ASSERT_EQUAL(kBootCode32Selector, 0x08);
    CU_ASSERT_EQUAL(kBootDataSelector, 0x10);
    CU_ASSERT_EQUAL(kBootCode64Selector, 0x18);
}

void test_gdt_descriptor_fields() {
    auto gdt = boot_gdt();
    Decoded code32 = decode(load64(gdt.data() + 0x08));
    CU_ASSERT_EQUAL(code32.type, 0xb);
    CU_ASSERT_EQUAL(code32.db, 1);
    CU_ASSERT_EQUAL(code32.l, 0);
    CU_ASSERT_EQUAL(code32.g, 1);
    CU_ASSERT_EQUAL(code32.limit, 0xffffffffu);
    Decoded data = decode(load64(gdt.data() + 0x10));
    CU_ASSERT_EQUAL(data.type, 0x3);
    CU_ASSERT_EQUAL(data.s, 1);
    Decoded code64 = decode(load64(gdt.data() + 0x18));
    CU_ASSERT_EQUAL(code64.l, 1);
    CU_ASSERT_EQUAL(code64.db, 0);  // L=1 requires D=0 (SDM 3.4.5)
    CU_ASSERT_EQUAL(load64(gdt.data()), 0u);
}

void test_gdt_small_buffer() {
    std::vector<std::uint8_t> buf(kBootGdtSize - 1, 0xaa);
    auto st = write_boot_gdt(buf);
    CU_ASSERT_FALSE(st.ok());
    CU_ASSERT_EQUAL(st.error().code, EINVAL);
    CU_ASSERT_EQUAL(buf[0], 0xaa);
}

void test_linux_gdt_bytes() {
    std::vector<std::uint8_t> buf(kBootGdtSize + 8, 0xaa);
    CU_ASSERT_FATAL(write_linux_boot_gdt(buf).ok());
    const std::uint8_t expected[32] = {
        0,    0,    0,    0,    0,    0,    0,    0,     // null
        0xff, 0xff, 0x00, 0x00, 0x00, 0x9b, 0xcf, 0x00,  // 0x08 32-bit code
        0xff, 0xff, 0x00, 0x00, 0x00, 0x9b, 0xaf, 0x00,  // 0x10 __BOOT_CS, 64-bit code
        0xff, 0xff, 0x00, 0x00, 0x00, 0x93, 0xcf, 0x00,  // 0x18 __BOOT_DS, data
    };
    CU_ASSERT_EQUAL(std::memcmp(buf.data(), expected, sizeof expected), 0);
    CU_ASSERT_EQUAL(buf[kBootGdtSize], 0xaa);
    CU_ASSERT_EQUAL(kLinuxBootCodeSelector, 0x10);
    CU_ASSERT_EQUAL(kLinuxBootDataSelector, 0x18);
    std::vector<std::uint8_t> small(kBootGdtSize - 1, 0xaa);
    CU_ASSERT_FALSE(write_linux_boot_gdt(small).ok());
}

// ----------------------------------------------------------- page tables

void test_page_table_sizes() {
    constexpr std::uint64_t g = 1ull << 30;
    CU_ASSERT_EQUAL(identity_page_tables_size(0), 6 * 0x1000u);  // 4 GiB minimum
    CU_ASSERT_EQUAL(identity_page_tables_size(16 << 20), 6 * 0x1000u);
    CU_ASSERT_EQUAL(identity_page_tables_size(4 * g), 6 * 0x1000u);
    CU_ASSERT_EQUAL(identity_page_tables_size(4 * g + 1), 7 * 0x1000u);  // rounded up
    CU_ASSERT_EQUAL(identity_page_tables_size(6 * g), 8 * 0x1000u);
    CU_ASSERT_EQUAL(identity_page_tables_size(512 * g), 514 * 0x1000u);
    CU_ASSERT_EQUAL(identity_page_tables_size(512 * g + 1), 0u);
}

void test_page_table_entries() {
    constexpr std::uint64_t base = 0x200000;
    constexpr std::uint64_t g = 1ull << 30;
    const std::uint64_t top = 5 * g;  // 5 PDs
    std::vector<std::uint8_t> buf(identity_page_tables_size(top) + 0x1000, 0xee);
    CU_ASSERT_FATAL(write_identity_page_tables(buf, base, top).ok());
    const std::uint8_t* pml4 = buf.data();
    const std::uint8_t* pdpt = buf.data() + 0x1000;
    auto pd = [&](int i) { return buf.data() + 0x2000 + 0x1000 * i; };

    CU_ASSERT_EQUAL(load64(pml4), base + 0x1000 + 0x3);
    for (int i = 1; i < 512; ++i) {
        CU_ASSERT_EQUAL(load64(pml4 + 8 * i), 0u);  // garbage cleared
    }
    CU_ASSERT_EQUAL(load64(pdpt + 0), base + 0x2000 + 0x3);
    CU_ASSERT_EQUAL(load64(pdpt + 8 * 3), base + 0x5000 + 0x3);
    CU_ASSERT_EQUAL(load64(pdpt + 8 * 4), base + 0x6000 + 0x3);
    CU_ASSERT_EQUAL(load64(pdpt + 8 * 5), 0u);  // nothing beyond 5 GiB
    CU_ASSERT_EQUAL(load64(pd(0) + 0), 0x83u);  // 0 -> 0, P|RW|PS
    CU_ASSERT_EQUAL(load64(pd(0) + 8), 0x200083u);
    CU_ASSERT_EQUAL(load64(pd(0) + 8 * 511), 0x3fe00083u);
    CU_ASSERT_EQUAL(load64(pd(1) + 0), g | 0x83);
    CU_ASSERT_EQUAL(load64(pd(3) + 8 * 511), 0xffe00083u);  // last 2 MiB below 4 GiB
    CU_ASSERT_EQUAL(load64(pd(4) + 0), 4 * g | 0x83);
    CU_ASSERT_EQUAL(load64(pd(4) + 8 * 511), (5 * g - (2 << 20)) | 0x83);
    // The byte after the tables is untouched.
    CU_ASSERT_EQUAL(buf[identity_page_tables_size(top)], 0xee);
}

// Walks the tables like the MMU (SDM 4.5.4) for a 2 MiB mapping.
std::uint64_t walk(const std::vector<std::uint8_t>& t, std::uint64_t base, std::uint64_t va, bool& ok) {
    ok = false;
    auto entry = [&](std::uint64_t table_gpa, std::uint64_t index) -> std::uint64_t {
        std::uint64_t off = table_gpa - base + 8 * index;
        if (off + 8 > t.size()) {
            return 0;
        }
        return load64(t.data() + off);
    };
    std::uint64_t e = entry(base, (va >> 39) & 511);
    if (!(e & 1)) return 0;
    e = entry(e & 0x000ffffffffff000ull, (va >> 30) & 511);
    if (!(e & 1) || (e & 0x80)) return 0;
    e = entry(e & 0x000ffffffffff000ull, (va >> 21) & 511);
    if (!(e & 1) || !(e & 0x80) || !(e & 2)) return 0;
    ok = true;
    return (e & 0x000fffffffe00000ull) | (va & 0x1fffff);
}

void test_page_tables_identity_walk() {
    constexpr std::uint64_t base = 0x7000;
    const std::uint64_t top = (6ull << 30) + 0x1000;  // 7 GiB of tables
    std::vector<std::uint8_t> t(identity_page_tables_size(top));
    CU_ASSERT_FATAL(write_identity_page_tables(t, base, top).ok());
    const std::uint64_t addrs[] = {0,          0xb8000,    0x100000,       0x1fffff,       0x200000,
                                   0xfee00000, 0xffffffff, 0x100000000ull, 0x180001234ull, 0x1bfffffffull};
    for (std::uint64_t a : addrs) {
        bool ok = false;
        CU_ASSERT_EQUAL(walk(t, base, a, ok), a);
        CU_ASSERT_TRUE(ok);
    }
    bool ok = true;
    walk(t, base, 7ull << 30, ok);  // beyond the map
    CU_ASSERT_FALSE(ok);
}

void test_page_tables_errors() {
    std::vector<std::uint8_t> buf(6 * 0x1000);
    CU_ASSERT_EQUAL(write_identity_page_tables(buf, 0x1001, 0).error().code, EINVAL);
    std::vector<std::uint8_t> small(6 * 0x1000 - 1);
    CU_ASSERT_EQUAL(write_identity_page_tables(small, 0x1000, 0).error().code, EINVAL);
    CU_ASSERT_EQUAL(write_identity_page_tables(buf, 0x1000, (512ull << 30) + 1).error().code, EINVAL);
    CU_ASSERT_TRUE(write_identity_page_tables(buf, 0x1000, 4ull << 30).ok());
}

// ---------------------------------------------------------------- states

void assert_common(const KvmdbgX86State& st, bool bsp) {
    CU_ASSERT_EQUAL(st.tr.type, 0xb);
    CU_ASSERT_EQUAL(st.tr.present, 1);
    CU_ASSERT_EQUAL(st.tr.s, 0);
    CU_ASSERT_EQUAL(st.tr.unusable, 0);
    CU_ASSERT_EQUAL(st.tr.limit, 0xffffu);
    CU_ASSERT_EQUAL(st.fcw, 0x37f);
    CU_ASSERT_EQUAL(st.fsw, 0);
    CU_ASSERT_EQUAL(st.ftwx, 0);
    CU_ASSERT_EQUAL(st.mxcsr, 0x1f80u);
    for (int i = 0; i < 16; ++i) {
        for (int j = 0; j < 16; ++j) {
            CU_ASSERT_EQUAL(st.xmm[i][j], 0);
        }
    }
    for (int i = 0; i < 8; ++i) {
        for (int j = 0; j < 16; ++j) {
            CU_ASSERT_EQUAL(st.fpr[i][j], 0);
        }
    }
    CU_ASSERT_EQUAL(st.dr7, 0x400u);
    CU_ASSERT_EQUAL(st.dr6, 0xffff0ff0u);
    CU_ASSERT_EQUAL(st.apic_base, bsp ? 0xfee00900u : 0xfee00800u);
}

void test_protected_mode_state() {
    ProtectedModeEntry e;
    e.eip = 0x100020;
    e.eax = 0x2BADB002;
    e.ebx = 0x10a000;
    e.gdt_base = 0x10a800;
    KvmdbgX86State st = protected_mode_entry_state(e);
    assert_common(st, true);
    CU_ASSERT_EQUAL(st.rip, 0x100020u);
    CU_ASSERT_EQUAL(st.gpr[KVMDBG_X86_RAX], 0x2BADB002u);
    CU_ASSERT_EQUAL(st.gpr[KVMDBG_X86_RBX], 0x10a000u);
    CU_ASSERT_EQUAL(st.gpr[KVMDBG_X86_RSP], 0u);
    CU_ASSERT_EQUAL(st.rflags, 0x2u);
    CU_ASSERT_EQUAL(st.cr0, 0x11u);  // PE|ET, no paging
    CU_ASSERT_EQUAL(st.cr3, 0u);
    CU_ASSERT_EQUAL(st.cr4, 0u);
    CU_ASSERT_EQUAL(st.efer, 0u);
    CU_ASSERT_EQUAL(st.gdt.base, 0x10a800u);
    CU_ASSERT_EQUAL(st.gdt.limit, 31);
    CU_ASSERT_EQUAL(st.cs.selector, 0x08);
    CU_ASSERT_EQUAL(st.cs.type, 0xb);
    CU_ASSERT_EQUAL(st.cs.db, 1);
    CU_ASSERT_EQUAL(st.cs.l, 0);
    CU_ASSERT_EQUAL(st.cs.g, 1);
    CU_ASSERT_EQUAL(st.cs.limit, 0xffffffffu);
    const KvmdbgX86Segment* data[] = {&st.ds, &st.es, &st.fs, &st.gs, &st.ss};
    for (const auto* s : data) {
        CU_ASSERT_EQUAL(s->selector, 0x10);
        CU_ASSERT_EQUAL(s->type, 0x3);
        CU_ASSERT_EQUAL(s->db, 1);
        CU_ASSERT_EQUAL(s->g, 1);
        CU_ASSERT_EQUAL(s->present, 1);
        CU_ASSERT_EQUAL(s->base, 0u);
    }
    CU_ASSERT_EQUAL(st.ldt.unusable, 1);
    auto gdt = boot_gdt();
    assert_segment_matches(st.cs, gdt);
    assert_segment_matches(st.ss, gdt);
    assert_segment_matches(st.ds, gdt);
}

void test_long_mode_state() {
    LongModeEntry e;
    e.rip = 0x100000;
    e.rsp = 0x1000000;
    e.rdi = 3;
    e.rsi = 4;
    e.cr3 = 0x105000;
    e.gdt_base = 0x104000;
    e.bsp = false;
    KvmdbgX86State st = long_mode_entry_state(e);
    assert_common(st, false);
    CU_ASSERT_EQUAL(st.rip, 0x100000u);
    CU_ASSERT_EQUAL(st.gpr[KVMDBG_X86_RSP], 0x1000000u);
    CU_ASSERT_EQUAL(st.gpr[KVMDBG_X86_RDI], 3u);
    CU_ASSERT_EQUAL(st.gpr[KVMDBG_X86_RSI], 4u);
    CU_ASSERT_EQUAL(st.rflags, 0x2u);
    CU_ASSERT_EQUAL(st.cr0, 0x80010033u);  // PE|MP|ET|NE|WP|PG
    CU_ASSERT_EQUAL(st.cr3, 0x105000u);
    CU_ASSERT_EQUAL(st.cr4, 0x620u);           // PAE|OSFXSR|OSXMMEXCPT
    CU_ASSERT_EQUAL(st.efer & 0x500, 0x500u);  // LME|LMA
    CU_ASSERT_EQUAL(st.efer & ~0x501ull, 0u);  // nothing but LME|LMA (|SCE)
    CU_ASSERT_EQUAL(st.gdt.base, 0x104000u);
    CU_ASSERT_EQUAL(st.gdt.limit, 31);
    CU_ASSERT_EQUAL(st.cs.selector, 0x18);
    CU_ASSERT_EQUAL(st.cs.l, 1);
    CU_ASSERT_EQUAL(st.cs.db, 0);
    CU_ASSERT_EQUAL(st.cs.type, 0xb);
    CU_ASSERT_EQUAL(st.ss.selector, 0x10);
    CU_ASSERT_EQUAL(st.ldt.unusable, 1);
    auto gdt = boot_gdt();
    assert_segment_matches(st.cs, gdt);
    assert_segment_matches(st.ds, gdt);
    assert_segment_matches(st.gs, gdt);
}

// The Linux 64-bit boot protocol's selectors: CS = __BOOT_CS (0x10), data
// = __BOOT_DS (0x18), each matching its descriptor in the Linux GDT.
void test_long_mode_state_linux_gdt() {
    LongModeEntry e;
    e.rip = 0x1000200;
    e.rsi = 0x10000;
    e.cr3 = 0x2000;
    e.gdt_base = 0x1000;
    e.gdt = BootGdt::linux_64bit;
    KvmdbgX86State st = long_mode_entry_state(e);
    assert_common(st, true);
    CU_ASSERT_EQUAL(st.cs.selector, 0x10);
    CU_ASSERT_EQUAL(st.cs.l, 1);
    CU_ASSERT_EQUAL(st.ds.selector, 0x18);
    CU_ASSERT_EQUAL(st.es.selector, 0x18);
    CU_ASSERT_EQUAL(st.ss.selector, 0x18);
    CU_ASSERT_EQUAL(st.cr0, 0x80010033u);
    CU_ASSERT_EQUAL(st.cr4 & 0x20u, 0x20u);
    CU_ASSERT_EQUAL(st.efer & 0x500, 0x500u);
    CU_ASSERT_EQUAL(st.rflags, 0x2u);
    std::vector<std::uint8_t> gdt(kBootGdtSize);
    CU_ASSERT_FATAL(write_linux_boot_gdt(gdt).ok());
    assert_segment_matches(st.cs, gdt);
    assert_segment_matches(st.ds, gdt);
    assert_segment_matches(st.ss, gdt);
}

void test_reset_state() {
    KvmdbgX86State st = reset_state(false);
    assert_common(st, false);
    CU_ASSERT_EQUAL(st.cs.selector, 0xf000);
    CU_ASSERT_EQUAL(st.cs.base, 0xffff0000u);
    CU_ASSERT_EQUAL(st.cs.limit, 0xffffu);
    CU_ASSERT_EQUAL(st.rip, 0xfff0u);
    CU_ASSERT_EQUAL(st.cr0, 0x60000010u);
    CU_ASSERT_EQUAL(st.rflags, 0x2u);
    CU_ASSERT_EQUAL(st.efer, 0u);
    CU_ASSERT_EQUAL(st.ds.limit, 0xffffu);
    CU_ASSERT_EQUAL(st.ds.base, 0u);
    CU_ASSERT_EQUAL(st.ldt.unusable, 0);
    CU_ASSERT_EQUAL(st.ldt.type, 2);
    CU_ASSERT_EQUAL(reset_state(true).apic_base, 0xfee00900u);
}

const kvmdbg::test::TestCase kGdt[] = {
    {"gdt bytes", test_gdt_bytes},
    {"gdt descriptor fields", test_gdt_descriptor_fields},
    {"gdt small buffer", test_gdt_small_buffer},
    {"linux gdt bytes", test_linux_gdt_bytes},
};
const kvmdbg::test::TestCase kPaging[] = {
    {"sizes", test_page_table_sizes},
    {"entries at boundaries", test_page_table_entries},
    {"identity walk", test_page_tables_identity_walk},
    {"errors", test_page_tables_errors},
};
const kvmdbg::test::TestCase kStates[] = {
    {"protected mode", test_protected_mode_state},
    {"long mode", test_long_mode_state},
    {"long mode, linux gdt", test_long_mode_state_linux_gdt},
    {"reset", test_reset_state},
};
const kvmdbg::test::TestSuite kSuites[] = {
    {"boot gdt", kGdt},
    {"identity page tables", kPaging},
    {"entry states", kStates},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
