#include "arch/x86/cpuid_features.h"

namespace kvmdbg::arch::x86 {

namespace {

constexpr std::uint32_t kCpuid1EcxFma = 1u << 12;
constexpr std::uint32_t kCpuid1EcxOsxsave = 1u << 27;
constexpr std::uint32_t kCpuid1EcxAvx = 1u << 28;
constexpr std::uint32_t kCpuid1EcxF16c = 1u << 29;
constexpr std::uint32_t kXsave1Ecx = kCpuid1EcxFma | kCpuid1EcxXsave | kCpuid1EcxOsxsave | kCpuid1EcxAvx |
                                     kCpuid1EcxF16c;
// AVX2, AVX512F, DQ, IFMA, PF, ER, CD, BW, VL.
constexpr std::uint32_t kXsave7Ebx = (1u << 5) | (1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) |
                                     (1u << 28) | (1u << 30) | (1u << 31);
// AVX512_VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ.
constexpr std::uint32_t kXsave7Ecx = (1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14);

}  // namespace

void hide_cpuid_features(std::span<CpuidLeaf> leaves, const HiddenCpuidFeatures& hidden) {
    for (CpuidLeaf& leaf : leaves) {
        if (leaf.function == 1) {
            if (hidden.cx16) {
                leaf.ecx &= ~kCpuid1EcxCx16;
            }
            if (hidden.xsave) {
                leaf.ecx &= ~kXsave1Ecx;
            }
        } else if (leaf.function == 7 && leaf.index == 0 && hidden.xsave) {
            leaf.ebx &= ~kXsave7Ebx;
            leaf.ecx &= ~kXsave7Ecx;
        } else if (leaf.function == 0xd && hidden.xsave) {
            leaf.eax = leaf.ebx = leaf.ecx = leaf.edx = 0;
        }
    }
}

std::vector<std::string> hidden_feature_names(const HiddenCpuidFeatures& hidden) {
    std::vector<std::string> names;
    if (hidden.cx16) {
        names.emplace_back("cx16");
    }
    if (hidden.xsave) {
        names.emplace_back("xsave (and AVX, AVX2, AVX-512)");
    }
    return names;
}

}  // namespace kvmdbg::arch::x86
