// `monitor info lapic`'s decoder (arch/x86/lapic_dump.h) against hand-built
// struct kvm_lapic_state pages: KVM's reset state of an AP, a BSP as Linux
// leaves it (byte-exact), the ISR/TMR/IRR bitmaps at their word
// boundaries, every timer mode and divisor, and the ICR fields.
#include <cstdint>
#include <cstdio>
#include <string>

#include "arch/x86/irqchip_state.h"
#include "arch/x86/lapic_dump.h"
#include "common/byte_order.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::arch::x86;

void set(KvmdbgX86LapicState& s, unsigned offset, std::uint32_t value) { kvmdbg::store_le(s.regs + offset, value, 4); }

// KVM's kvm_lapic_reset for vCPU `id`: version 0x14 with 6 LVT entries
// (maxlvt 5), DFR flat, SVR 0xff (software-disabled), every LVT masked.
KvmdbgX86LapicState reset_state(std::uint32_t id) {
    KvmdbgX86LapicState s{};
    set(s, 0x20, id << 24);
    set(s, 0x30, 0x00050014);
    set(s, 0xe0, 0xffffffff);
    set(s, 0xf0, 0xff);
    for (unsigned lvt : {0x320u, 0x330u, 0x340u, 0x350u, 0x360u, 0x370u}) {
        set(s, lvt, 0x10000);
    }
    return s;
}

void test_reset_ap() {
    const std::string want =
        "local APIC: ID 0x01, version 0x14 (6 LVT entries, no EOI-broadcast suppression) [0x00050014]\n"
        "  TPR 0x00, PPR 0x00, APR 0x00, LDR 0x00000000 (logical ID 0x00), DFR 0xffffffff (flat), ESR 0x00000000\n"
        "  SVR 0x000000ff: software-disabled, spurious vector 0xff, focus checking on, EOI broadcast on\n"
        "  ISR: none\n"
        "  TMR: none\n"
        "  IRR: none\n"
        "  LVT timer   0x00010000: vector 0x00, one-shot, masked\n"
        "  LVT LINT0   0x00010000: vector 0x00, fixed, active-high, edge, masked\n"
        "  LVT LINT1   0x00010000: vector 0x00, fixed, active-high, edge, masked\n"
        "  LVT error   0x00010000: vector 0x00, masked\n"
        "  LVT perf    0x00010000: vector 0x00, fixed, masked\n"
        "  LVT thermal 0x00010000: vector 0x00, fixed, masked\n"
        "  timer: initial count 0x00000000, current count 0x00000000, divide by 2 (DCR 0x0)\n"
        "  ICR 0x00000000, ICR2 0x00000000: vector 0x00, fixed, physical, de-assert, edge, no shorthand, dest 0x00\n";
    std::string got = format_lapic_state(reset_state(1));
    CU_ASSERT_STRING_EQUAL(got.c_str(), want.c_str());
}

void test_programmed_bsp() {
    KvmdbgX86LapicState s = reset_state(0);
    set(s, 0x30, 0x01050014);  // EOI-broadcast suppression offered
    set(s, 0x80, 0x20);
    set(s, 0xa0, 0x30);
    set(s, 0xd0, 0x01000000);
    set(s, 0xe0, 0x0fffffff);  // cluster model
    set(s, 0xf0, 0x13ff);      // enabled, focus checking off, EOI broadcast suppressed
    set(s, 0x280, 0x40);
    set(s, 0x100 + 0x10, 1u << 16);                     // ISR: 0x30
    set(s, 0x180 + 0x10, 1u << 16);                     // TMR: 0x30
    set(s, 0x200 + 0x10 * 7, (1u << 12) | (1u << 31));  // IRR: 0xec 0xff
    set(s, 0x200, 1u << 0);                             // IRR: 0x00 too (any bit counts)
    set(s, 0x320, 0x000200ec);                          // periodic, unmasked
    set(s, 0x350, 0x00010700);                          // ExtINT, masked
    set(s, 0x360, 0x0000e400);                          // NMI, level, active-low, remote IRR
    set(s, 0x370, 0x000010fe);                          // send pending
    set(s, 0x340, 0x00000400);                          // NMI
    set(s, 0x330, 0x00000200);                          // SMI
    set(s, 0x380, 0x00100000);
    set(s, 0x390, 0x000fa000);
    set(s, 0x3e0, 0x3);
    set(s, 0x300, 0x000c4500);  // INIT, assert, all-but-self
    set(s, 0x310, 0x03000000);
    const std::string want =
        "local APIC: ID 0x00, version 0x14 (6 LVT entries, with EOI-broadcast suppression) [0x01050014]\n"
        "  TPR 0x20, PPR 0x30, APR 0x00, LDR 0x01000000 (logical ID 0x01), DFR 0x0fffffff (cluster), ESR 0x00000040\n"
        "  SVR 0x000013ff: software-enabled, spurious vector 0xff, focus checking off, EOI broadcast suppressed\n"
        "  ISR: 0x30\n"
        "  TMR: 0x30\n"
        "  IRR: 0x00 0xec 0xff\n"
        "  LVT timer   0x000200ec: vector 0xec, periodic, unmasked\n"
        "  LVT LINT0   0x00010700: vector 0x00, ExtINT, active-high, edge, masked\n"
        "  LVT LINT1   0x0000e400: vector 0x00, NMI, active-low, level, unmasked, remote-IRR\n"
        "  LVT error   0x000010fe: vector 0xfe, unmasked, send-pending\n"
        "  LVT perf    0x00000400: vector 0x00, NMI, unmasked\n"
        "  LVT thermal 0x00000200: vector 0x00, SMI, unmasked\n"
        "  timer: initial count 0x00100000, current count 0x000fa000, divide by 16 (DCR 0x3)\n"
        "  ICR 0x000c4500, ICR2 0x03000000: vector 0x00, INIT, physical, assert, edge, all-but-self, dest 0x03\n";
    std::string got = format_lapic_state(s);
    CU_ASSERT_STRING_EQUAL(got.c_str(), want.c_str());
}

void test_vector_bitmaps() {
    KvmdbgX86LapicState s{};
    CU_ASSERT_STRING_EQUAL(lapic_vector_list(s, 0x100).c_str(), "none");
    // Each 32-bit word of the 256-bit register sits 16 bytes after the last;
    // the bytes between belong to no vector.
    for (unsigned word = 0; word < 8; ++word) {
        set(s, 0x200 + 0x10 * word, 1u | (1u << 31));
        set(s, 0x200 + 0x10 * word + 4, 0xffffffff);
    }
    CU_ASSERT_STRING_EQUAL(lapic_vector_list(s, 0x200).c_str(),
                           "0x00 0x1f 0x20 0x3f 0x40 0x5f 0x60 0x7f 0x80 0x9f 0xa0 0xbf 0xc0 0xdf 0xe0 0xff");
    CU_ASSERT_EQUAL(lapic_register(s, 0x200), 0x80000001u);
    CU_ASSERT_EQUAL(lapic_register(s, 0x3fc), 0u);
    CU_ASSERT_EQUAL(lapic_register(s, 0x3fd), 0u);  // past the page: 0, no read beyond it
}

void test_timer_modes_and_divisors() {
    const char* modes[4] = {"one-shot", "periodic", "TSC-deadline", "reserved timer mode"};
    for (unsigned m = 0; m < 4; ++m) {
        KvmdbgX86LapicState s = reset_state(0);
        set(s, 0x320, (m << 17) | 0x40);
        std::string want = std::string("  LVT timer   0x") +
                           (m == 0   ? "00000040"
                            : m == 1 ? "00020040"
                            : m == 2 ? "00040040"
                                     : "00060040") +
                           ": vector 0x40, " + modes[m] + ", unmasked\n";
        CU_ASSERT(format_lapic_state(s).find(want) != std::string::npos);
    }
    // DCR bits 3,1:0 (SDM Figure 11-10): 000 /2, 001 /4, 010 /8, 011 /16,
    // 100 /32, 101 /64, 110 /128, 111 /1; bit 2 is not part of it.
    const unsigned divisors[8] = {2, 4, 8, 16, 32, 64, 128, 1};
    for (unsigned v = 0; v < 8; ++v) {
        KvmdbgX86LapicState s = reset_state(0);
        unsigned dcr = (v & 3) | ((v & 4) << 1) | 4;
        set(s, 0x3e0, dcr);
        char want[96];
        std::snprintf(want, sizeof want, "divide by %u (DCR 0x%x)\n", divisors[v], dcr);
        CU_ASSERT(format_lapic_state(s).find(want) != std::string::npos);
    }
}

void test_icr_fields() {
    KvmdbgX86LapicState s = reset_state(0);
    set(s, 0x300, 0x000416ab);  // SIPI, vector 0xab, send pending, to self
    set(s, 0x310, 0xff000000);
    CU_ASSERT(format_lapic_state(s).find("  ICR 0x000416ab, ICR2 0xff000000: vector 0xab, SIPI, physical, de-assert, "
                                         "edge, self, dest 0xff, send-pending\n") != std::string::npos);
    set(s, 0x300, 0x0008c900);  // lowest priority, logical, assert, level, to all
    CU_ASSERT(format_lapic_state(s).find("vector 0x00, lowest, logical, assert, level, all, dest 0xff\n") !=
              std::string::npos);
}

const kvmdbg::test::TestCase kCases[] = {
    {"an AP at KVM's reset state, byte-exact", test_reset_ap},
    {"a programmed BSP, byte-exact", test_programmed_bsp},
    {"ISR/TMR/IRR bitmaps at word boundaries", test_vector_bitmaps},
    {"timer modes and every divisor", test_timer_modes_and_divisors},
    {"ICR fields", test_icr_fields},
};

const kvmdbg::test::TestSuite kSuites[] = {{"lapic_dump", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
