// hide_cpuid_features: exactly the bits of each hidden group are cleared
// (arch/x86/cpuid_features.h), every other bit and leaf is left as KVM
// listed it.
#include "arch/x86/cpuid_features.h"

#include <vector>

#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::arch::x86;

std::vector<CpuidLeaf> all_ones() {
    return {
        {0, 0, 0xd, 0xffffffff, 0xffffffff, 0xffffffff},
        {1, 0, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
        {7, 0, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
        {7, 1, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
        {0xd, 0, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
        {0xd, 1, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
        {0x80000001, 0, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
    };
}

void test_nothing_hidden_changes_nothing() {
    auto leaves = all_ones();
    hide_cpuid_features(leaves, {});
    for (const auto& l : leaves) {
        CU_ASSERT_EQUAL(l.ebx & l.ecx & l.edx, 0xffffffffu);
    }
    CU_ASSERT_TRUE(hidden_feature_names({}).empty());
}

void test_cx16_clears_one_bit() {
    auto leaves = all_ones();
    HiddenCpuidFeatures h;
    h.cx16 = true;
    hide_cpuid_features(leaves, h);
    CU_ASSERT_EQUAL(leaves[1].ecx, ~(1u << 13));
    CU_ASSERT_EQUAL(leaves[1].edx, 0xffffffffu);
    CU_ASSERT_EQUAL(leaves[2].ebx, 0xffffffffu);
    CU_ASSERT_EQUAL(leaves[4].eax, 0xffffffffu);
    CU_ASSERT_EQUAL(hidden_feature_names(h).size(), 1u);
    CU_ASSERT_EQUAL(hidden_feature_names(h)[0], "cx16");
}

void test_xsave_clears_its_family() {
    auto leaves = all_ones();
    HiddenCpuidFeatures h;
    h.xsave = true;
    hide_cpuid_features(leaves, h);
    const std::uint32_t leaf1 = (1u << 12) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 29);
    CU_ASSERT_EQUAL(leaves[1].ecx, ~leaf1);
    CU_ASSERT_EQUAL(leaves[1].ecx & (1u << 13), 1u << 13);  // cx16 stays
    CU_ASSERT_EQUAL(leaves[2].ebx & (1u << 5), 0u);         // AVX2
    CU_ASSERT_EQUAL(leaves[2].ebx & (1u << 16), 0u);        // AVX512F
    CU_ASSERT_EQUAL(leaves[2].ebx & 1u, 1u);                // FSGSBASE stays
    CU_ASSERT_EQUAL(leaves[2].ecx & (1u << 1), 0u);         // AVX512_VBMI
    CU_ASSERT_EQUAL(leaves[2].edx, 0xffffffffu);
    CU_ASSERT_EQUAL(leaves[3].ebx, 0xffffffffu);  // 7.1 untouched
    for (int i : {4, 5}) {
        CU_ASSERT_EQUAL(leaves[i].eax | leaves[i].ebx | leaves[i].ecx | leaves[i].edx, 0u);
    }
    CU_ASSERT_EQUAL(leaves[6].ecx, 0xffffffffu);
    CU_ASSERT_EQUAL(hidden_feature_names(h).size(), 1u);
}

constexpr kvmdbg::test::TestCase kCases[] = {
    {"nothing hidden changes nothing", test_nothing_hidden_changes_nothing},
    {"cx16 clears CPUID.1:ECX[13] only", test_cx16_clears_one_bit},
    {"xsave clears XSAVE, OSXSAVE, AVX family and leaf 0xD", test_xsave_clears_its_family},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {{"cpuid features", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
