// KvmdbgArm64State <-> gdb aarch64 register bytes (arch/arm64/gdb_registers.h):
// offsets, byte order, SP selection, cpsr width, G/P round trips, errors.
#include <cstring>
#include <vector>

#include "arch/arm64/gdb_registers.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::arch::arm64;

KvmdbgArm64State sample() {
    KvmdbgArm64State s;
    std::memset(&s, 0, sizeof s);
    for (unsigned i = 0; i < 31; ++i) {
        s.x[i] = 0x1111111100000000ull * (i + 1) + i;
    }
    s.sp_el0 = 0x0000ffffcafe0000ull;
    s.sp_el1 = 0xffff8000deadb000ull;
    s.pc = 0xffff800010080000ull;
    s.pstate = 0x1'600003c5ull;  // bit 32 set (kept by writes), Z C, DAIF, EL1h
    for (unsigned v = 0; v < 32; ++v) {
        for (unsigned b = 0; b < 16; ++b) {
            s.v[v][b] = static_cast<std::uint8_t>(v * 16 + b);
        }
    }
    s.fpsr = 0x08000010;
    s.fpcr = 0x03c00000;
    s.sctlr_el1 = 0x30d0199d;
    s.tcr_el1 = 0x35b5503510;
    s.ttbr0_el1 = 0x41000000;
    s.ttbr1_el1 = 0x41010000;
    s.vbar_el1 = 0xffff800010010800ull;
    s.esr_el1 = 0xf2000001;
    s.far_el1 = 0x1234;
    s.elr_el1 = 0xffff800010080004ull;
    s.spsr_el1 = 0x3c5;
    s.mdscr_el1 = 0x8000;
    s.mair_el1 = 0x4ff;
    return s;
}

std::uint64_t le(const std::vector<std::uint8_t>& g, std::size_t off, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = n; i-- > 0;) {
        v = v << 8 | g[off + i];
    }
    return v;
}

void test_layout_sizes_offsets() {
    CU_ASSERT_EQUAL(gdb_register_size(0), 8u);
    CU_ASSERT_EQUAL(gdb_register_size(kGdbRegSp), 8u);
    CU_ASSERT_EQUAL(gdb_register_size(kGdbRegCpsr), 4u);
    CU_ASSERT_EQUAL(gdb_register_size(kGdbRegV0 + 31), 16u);
    CU_ASSERT_EQUAL(gdb_register_size(kGdbRegFpcr), 4u);
    CU_ASSERT_EQUAL(gdb_register_size(kGdbRegSpEl1), 8u);
    CU_ASSERT_EQUAL(gdb_register_size(kGdbRegisterCount), 0u);
    CU_ASSERT_EQUAL(gdb_register_offset(kGdbRegSp), 248u);
    CU_ASSERT_EQUAL(gdb_register_offset(kGdbRegPc), 256u);
    CU_ASSERT_EQUAL(gdb_register_offset(kGdbRegCpsr), 264u);
    CU_ASSERT_EQUAL(gdb_register_offset(kGdbRegV0), 268u);
    CU_ASSERT_EQUAL(gdb_register_offset(kGdbRegFpsr), 780u);
    CU_ASSERT_EQUAL(gdb_register_offset(kGdbRegSctlr), 788u);
    CU_ASSERT_EQUAL(gdb_register_offset(kGdbRegisterCount), kGdbRegistersSize);
    CU_ASSERT_EQUAL(kGdbRegistersSize, 892u);
}

void test_g_packet_fields() {
    KvmdbgArm64State s = sample();
    std::vector<std::uint8_t> g = gdb_registers_from_state(s);
    CU_ASSERT_EQUAL_FATAL(g.size(), kGdbRegistersSize);
    CU_ASSERT_EQUAL(le(g, 0, 8), s.x[0]);
    CU_ASSERT_EQUAL(le(g, 29 * 8, 8), s.x[29]);
    CU_ASSERT_EQUAL(le(g, 248, 8), s.sp_el1);  // EL1h: sp is SP_EL1
    CU_ASSERT_EQUAL(le(g, 256, 8), s.pc);
    CU_ASSERT_EQUAL(le(g, 264, 4), 0x600003c5ull);
    CU_ASSERT_EQUAL(g[268], 0x00);
    CU_ASSERT_EQUAL(g[268 + 15], 0x0f);
    CU_ASSERT_EQUAL(g[268 + 31 * 16 + 15], 0xff);
    CU_ASSERT_EQUAL(le(g, 780, 4), s.fpsr);
    CU_ASSERT_EQUAL(le(g, 784, 4), s.fpcr);
    const std::uint64_t sys[] = {s.sctlr_el1, s.tcr_el1,  s.ttbr0_el1, s.ttbr1_el1, s.vbar_el1, s.esr_el1, s.far_el1,
                                 s.elr_el1,   s.spsr_el1, s.mdscr_el1, s.mair_el1,  s.sp_el0,   s.sp_el1};
    for (unsigned i = 0; i < 13; ++i) {
        CU_ASSERT_EQUAL(le(g, 788 + 8 * i, 8), sys[i]);
    }
}

void test_sp_follows_pstate() {
    KvmdbgArm64State s = sample();
    CU_ASSERT_EQUAL(current_sp(s), s.sp_el1);
    s.pstate = 0b00100;  // EL1t
    CU_ASSERT_EQUAL(current_sp(s), s.sp_el0);
    s.pstate = 0b00000;  // EL0t
    CU_ASSERT_EQUAL(current_sp(s), s.sp_el0);
    set_current_sp(s, 0x7000);
    CU_ASSERT_EQUAL(s.sp_el0, 0x7000ull);
    CU_ASSERT_EQUAL(s.sp_el1, 0xffff8000deadb000ull);
}

void test_G_round_trip_and_sp_rule() {
    KvmdbgArm64State s = sample();
    std::vector<std::uint8_t> g = gdb_registers_from_state(s);
    KvmdbgArm64State t;
    std::memset(&t, 0, sizeof t);
    t.pstate = s.pstate;  // so sp maps to the same bank
    CU_ASSERT_FATAL(gdb_registers_to_state(g, t).ok());
    CU_ASSERT_EQUAL(std::memcmp(&s, &t, sizeof s), 0);
    // A G that changes only sp_el1 (while sp shows SP_EL1) must not be undone.
    std::vector<std::uint8_t> g2 = g;
    g2[788 + 8 * 12] ^= 0x10;  // sp_el1
    KvmdbgArm64State u = s;
    CU_ASSERT_FATAL(gdb_registers_to_state(g2, u).ok());
    CU_ASSERT_EQUAL(u.sp_el1, s.sp_el1 ^ 0x10);
    // A G that changes sp writes the bank PSTATE selects.
    std::vector<std::uint8_t> g3 = g;
    g3[248] ^= 0x20;
    u = s;
    CU_ASSERT_FATAL(gdb_registers_to_state(g3, u).ok());
    CU_ASSERT_EQUAL(u.sp_el1, s.sp_el1 ^ 0x20);
    CU_ASSERT_EQUAL(u.sp_el0, s.sp_el0);
    // cpsr writes keep PSTATE bits 63:32.
    CU_ASSERT_EQUAL(u.pstate, s.pstate);
}

void test_wrong_size_G_leaves_state() {
    KvmdbgArm64State s = sample();
    KvmdbgArm64State before = s;
    std::vector<std::uint8_t> g(kGdbRegistersSize - 1, 0xee);
    auto st = gdb_registers_to_state(g, s);
    CU_ASSERT(!st.ok() && st.error().code == EINVAL);
    CU_ASSERT_EQUAL(std::memcmp(&s, &before, sizeof s), 0);
}

void test_p_and_P() {
    KvmdbgArm64State s = sample();
    std::vector<std::uint8_t> g = gdb_registers_from_state(s);
    for (unsigned n = 0; n < kGdbRegisterCount; ++n) {
        auto r = gdb_register_read(s, n);
        CU_ASSERT_FATAL(r.ok());
        CU_ASSERT_EQUAL(r->size(), gdb_register_size(n));
        CU_ASSERT(std::memcmp(r->data(), g.data() + gdb_register_offset(n), r->size()) == 0);
    }
    CU_ASSERT(!gdb_register_read(s, kGdbRegisterCount).ok());
    const std::uint8_t cpsr[] = {0x05, 0x00, 0x00, 0x20};  // C, EL1h, DAIF clear
    CU_ASSERT_FATAL(gdb_register_write(s, kGdbRegCpsr, cpsr).ok());
    CU_ASSERT_EQUAL(s.pstate, 0x1'20000005ull);
    std::vector<std::uint8_t> v(16, 0xab);
    CU_ASSERT_FATAL(gdb_register_write(s, kGdbRegV0 + 7, v).ok());
    CU_ASSERT_EQUAL(s.v[7][0], 0xab);
    CU_ASSERT_EQUAL(s.v[7][15], 0xab);
    const std::uint8_t vbar[] = {0x00, 0x08, 0x01, 0x10, 0x00, 0x80, 0xff, 0xff};
    CU_ASSERT_FATAL(gdb_register_write(s, 72, vbar).ok());
    CU_ASSERT_EQUAL(s.vbar_el1, 0xffff800010010800ull);
    KvmdbgArm64State before = s;
    auto st = gdb_register_write(s, kGdbRegPc, cpsr);  // 4 bytes for an 8-byte register
    CU_ASSERT(!st.ok() && st.error().code == EINVAL);
    st = gdb_register_write(s, 200, cpsr);
    CU_ASSERT(!st.ok() && st.error().code == EINVAL);
    CU_ASSERT_EQUAL(std::memcmp(&s, &before, sizeof s), 0);
}

const kvmdbg::test::TestCase kCases[] = {
    {"sizes and offsets", test_layout_sizes_offsets},
    {"g packet fields", test_g_packet_fields},
    {"sp follows PSTATE", test_sp_follows_pstate},
    {"G round trip, sp rule", test_G_round_trip_and_sp_rule},
    {"wrong-size G leaves state", test_wrong_size_G_leaves_state},
    {"p and P", test_p_and_P},
};
const kvmdbg::test::TestSuite kSuites[] = {{"arm64 gdb registers", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
