// CPUID features kvmdbg hides from a guest when the host's KVM cannot run
// their instructions, and the table edit that hides them.
//
// KVM_GET_SUPPORTED_CPUID lists what the host CPU and KVM offer; on a host
// whose KVM runs guest kernel code through an instruction emulator that
// lacks some instructions (a nested, page-table-based KVM such as PVM: see
// docs/hosts.md), a guest that sees the feature uses the instruction and
// dies with an emulation failure. A kernel that does not see it takes
// another path. Hidden per group (Intel SDM Vol. 2A, CPUID):
//
//   group       instruction the probe runs      bits cleared
//   cx16        lock cmpxchg16b                 1:ECX[13] CX16
//   xsave       xsetbv, xsave64, xrstor64       1:ECX[26] XSAVE, [27] OSXSAVE,
//                                               [28] AVX, [12] FMA, [29] F16C;
//                                               7.0:EBX[5] AVX2, [16] AVX512F,
//                                               [17] AVX512DQ, [21] AVX512IFMA,
//                                               [26] AVX512PF, [27] AVX512ER,
//                                               [28] AVX512CD, [30] AVX512BW,
//                                               [31] AVX512VL; 7.0:ECX[1]
//                                               AVX512VBMI, [6] VBMI2, [11]
//                                               VNNI, [12] BITALG, [14]
//                                               VPOPCNTDQ; every 0xD subleaf
//                                               zeroed (no XSAVE state)
//
// (AVX and its successors save their state with XSAVE only, so they go with
// it, as an OS without OSXSAVE could not use them anyway.)
//
// Pure: no kernel headers; any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace kvmdbg::arch::x86 {

/// One CPUID leaf as KVM lists it (function, index: the subleaf).
struct CpuidLeaf {
    std::uint32_t function = 0;
    std::uint32_t index = 0;
    std::uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

/// What the guest must not be told about.
struct HiddenCpuidFeatures {
    bool cx16 = false;
    bool xsave = false;
    bool any() const { return cx16 || xsave; }
};

/// Clears the bits of the hidden groups in `leaves` (table above).
void hide_cpuid_features(std::span<CpuidLeaf> leaves, const HiddenCpuidFeatures& hidden);

/// The names of the hidden groups, e.g. {"cx16", "xsave (and AVX, AVX2, AVX-512)"}.
std::vector<std::string> hidden_feature_names(const HiddenCpuidFeatures& hidden);

/// CPUID.1:ECX bits.
inline constexpr std::uint32_t kCpuid1EcxCx16 = 1u << 13;
inline constexpr std::uint32_t kCpuid1EcxXsave = 1u << 26;

}  // namespace kvmdbg::arch::x86
