// hint_nop_length: the reserved-NOP instructions the accelerator completes
// itself when a host's KVM emulator cannot (Xen's rdsspq on the PVM hosts,
// docs/hosts.md).
#include <vector>

#include "arch/x86/hint_nop.h"
#include "tests/support/cunit_main.h"

namespace {

using kvmdbg::arch::x86::hint_nop_length;

std::optional<unsigned> len64(std::vector<std::uint8_t> b) { return hint_nop_length(b, true); }
std::optional<unsigned> len32(std::vector<std::uint8_t> b) { return hint_nop_length(b, false, true); }
std::optional<unsigned> len16(std::vector<std::uint8_t> b) { return hint_nop_length(b, false, false); }

void test_rdssp_and_endbr() {
    // rdsspq %rsi, then garbage that must not be counted (bytes from Xen 4.17).
    CU_ASSERT_EQUAL(len64({0xf3, 0x48, 0x0f, 0x1e, 0xce, 0x83, 0xfe, 0x01}).value_or(0), 5u);
    CU_ASSERT_EQUAL(len64({0xf3, 0x0f, 0x1e, 0xfa}).value_or(0), 4u);  // endbr64
    CU_ASSERT_EQUAL(len32({0xf3, 0x0f, 0x1e, 0xfb}).value_or(0), 4u);  // endbr32
    CU_ASSERT_EQUAL(len32({0xf3, 0x0f, 0x1e, 0xc8}).value_or(0), 4u);  // rdsspd %eax
}

void test_multibyte_nops() {
    CU_ASSERT_EQUAL(len64({0x0f, 0x1f, 0x00}).value_or(0), 3u);              // nopl (%rax)
    CU_ASSERT_EQUAL(len64({0x0f, 0x1f, 0x40, 0x00}).value_or(0), 4u);        // disp8
    CU_ASSERT_EQUAL(len64({0x0f, 0x1f, 0x44, 0x00, 0x00}).value_or(0), 5u);  // SIB + disp8
    CU_ASSERT_EQUAL(len64({0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00}).value_or(0), 6u);
    CU_ASSERT_EQUAL(len64({0x0f, 0x1f, 0x80, 0, 0, 0, 0}).value_or(0), 7u);        // disp32
    CU_ASSERT_EQUAL(len64({0x0f, 0x1f, 0x84, 0x00, 0, 0, 0, 0}).value_or(0), 8u);  // SIB + disp32
    CU_ASSERT_EQUAL(len64({0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0, 0, 0, 0}).value_or(0), 10u);
    CU_ASSERT_EQUAL(len64({0x0f, 0x1f, 0x05, 1, 2, 3, 4}).value_or(0), 7u);        // RIP-relative
    CU_ASSERT_EQUAL(len64({0x0f, 0x1f, 0x04, 0x25, 0, 0, 0, 0}).value_or(0), 8u);  // SIB base=101, mod 0
}

void test_sixteen_bit_addressing() {
    CU_ASSERT_EQUAL(len16({0x0f, 0x1f, 0x06, 0x34, 0x12}).value_or(0), 5u);  // [disp16]
    CU_ASSERT_EQUAL(len16({0x0f, 0x1f, 0x40, 0x01}).value_or(0), 4u);        // [bx+si+disp8]
    CU_ASSERT_EQUAL(len16({0x67, 0x0f, 0x1f, 0x40, 0x01}).value_or(0), 5u);  // 32-bit addressing via 67
}

void test_not_hint_nops() {
    CU_ASSERT(!len64({0x90}).has_value());
    CU_ASSERT(!len64({0x0f, 0x18, 0x00}).has_value());  // prefetch: not in 19..1F
    CU_ASSERT(!len64({0x0f, 0x20, 0xc0}).has_value());  // mov %cr0
    CU_ASSERT(!len64({0xcc}).has_value());
    CU_ASSERT(!len64({}).has_value());
    CU_ASSERT(!len64({0x0f, 0x1f}).has_value());              // ModRM missing
    CU_ASSERT(!len64({0x0f, 0x1f, 0x80, 0, 0}).has_value());  // disp32 truncated
    CU_ASSERT(!len32({0x48, 0x0f, 0x1e, 0xce}).has_value());  // 0x48 is dec eax outside long mode
    std::vector<std::uint8_t> prefixes;
    for (int i = 0; i < 15; ++i) {
        prefixes.push_back(0x66);
    }
    for (std::uint8_t b : {0x0f, 0x1f, 0x00}) {
        prefixes.push_back(b);
    }
    CU_ASSERT(!len64(prefixes).has_value());  // longer than 15 bytes
}

const kvmdbg::test::TestCase kCases[] = {
    {"rdssp and endbr", test_rdssp_and_endbr},
    {"multi-byte nops", test_multibyte_nops},
    {"16-bit addressing", test_sixteen_bit_addressing},
    {"not hint nops", test_not_hint_nops},
};

const kvmdbg::test::TestSuite kSuites[] = {{"hint_nop", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
