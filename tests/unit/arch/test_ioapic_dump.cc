// `monitor info ioapic`'s decoder (arch/x86/ioapic_dump.h) against a
// hand-built struct kvm_ioapic_state: KVM's reset state (every pin masked)
// with a few entries as a guest programs them, byte-exact; then every
// field of a redirection entry on its own.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "arch/x86/ioapic_dump.h"
#include "arch/x86/irqchip_state.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::arch::x86;

constexpr std::uint64_t kMasked = 1ull << 16;

void test_layout_is_the_kernels() {
    // struct kvm_ioapic_state: base_address, ioregsel, id, irr, pad, redirtbl[24].
    CU_ASSERT_EQUAL(sizeof(KvmdbgX86IoapicState), 216u);
    CU_ASSERT_EQUAL(offsetof(KvmdbgX86IoapicState, id), 12u);
    CU_ASSERT_EQUAL(offsetof(KvmdbgX86IoapicState, irr), 16u);
    CU_ASSERT_EQUAL(offsetof(KvmdbgX86IoapicState, redirtbl), 24u);
}

void test_programmed_table() {
    KvmdbgX86IoapicState s{};
    s.base_address = 0xfec00000;
    s.ioregsel = 0x23;
    s.id = 0;
    s.irr = (1u << 9) | (1u << 23);
    for (auto& e : s.redirtbl) {
        e = kMasked;
    }
    s.redirtbl[1] = 0x31;                                                           // edge, active-high, unmasked
    s.redirtbl[9] = (0x01ull << 56) | (1u << 15) | (1u << 14) | (1u << 13) | 0x39;  // level, low, remote IRR
    s.redirtbl[23] = (0xffull << 56) | (1u << 12) | (1u << 11) | (1u << 8) | 0xfe;  // lowest, logical, pending
    std::string want = "IOAPIC: id 0x00, base 0xfec00000, IOREGSEL 0x23, irr 0x00800200 (asserted pins: 9 23)\n";
    for (unsigned pin = 0; pin < 24; ++pin) {
        char line[160];
        const char* rest = nullptr;
        switch (pin) {
        case 1: rest = "0x0000000000000031 vector 0x31 fixed    physical dest 0x00 active-high edge  unmasked"; break;
        case 9:
            rest = "0x010000000000e039 vector 0x39 fixed    physical dest 0x01 active-low  level unmasked remote-IRR";
            break;
        case 23:
            rest =
                "0xff000000000019fe vector 0xfe lowest   logical  dest 0xff active-high edge  unmasked "
                "send-pending";
            break;
        default: rest = "0x0000000000010000 vector 0x00 fixed    physical dest 0x00 active-high edge  masked"; break;
        }
        std::snprintf(line, sizeof line, "  pin %2u: %s\n", pin, rest);
        want += line;
    }
    std::string got = format_ioapic_state(s);
    CU_ASSERT_STRING_EQUAL(got.c_str(), want.c_str());
}

void test_every_delivery_mode() {
    const char* names[8] = {"fixed   ", "lowest  ", "SMI     ", "reserved",
                            "NMI     ", "INIT    ", "reserved", "ExtINT  "};
    for (unsigned mode = 0; mode < 8; ++mode) {
        std::string got = describe_redirection_entry(static_cast<std::uint64_t>(mode) << 8);
        CU_ASSERT_STRING_EQUAL(got.substr(12, 8).c_str(), names[mode]);
    }
}

void test_reserved_bits_ignored() {
    // Bits 55:17 are reserved: they change the raw value only.
    std::uint64_t e = 0x00fffffffffe0000ull | 0x20;
    CU_ASSERT_STRING_EQUAL(describe_redirection_entry(e).c_str(),
                           "vector 0x20 fixed    physical dest 0x00 active-high edge  unmasked");
}

const kvmdbg::test::TestCase kCases[] = {
    {"the struct is struct kvm_ioapic_state's layout", test_layout_is_the_kernels},
    {"a programmed table, byte-exact", test_programmed_table},
    {"every delivery mode", test_every_delivery_mode},
    {"reserved bits do not change the decoding", test_reserved_bits_ignored},
};

const kvmdbg::test::TestSuite kSuites[] = {{"ioapic_dump", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
