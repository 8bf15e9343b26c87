// C-layout mirrors of the KVM structs that end in a flexible array.
//
// linux-libc-dev 6.1 declares those arrays with __DECLARE_FLEX_ARRAY, which
// puts an empty struct before the array. An empty struct is 0 bytes in C but
// 1 byte in C++, so in C++ the array moves (offsetof(kvm_msrs, entries) is
// 16, not 8) and the _IOW/_IOWR ioctl numbers, which encode sizeof, change
// (KVM_GET_SUPPORTED_CPUID fails with EINVAL). These headers describe the
// kernel's C layout; use them with the k* ioctl numbers below, never the
// kernel's struct or macro, from C++.
#pragma once

#include <linux/kvm.h>

#include <cstddef>

namespace kvmdbg::accel::kvm {

/// struct kvm_msrs header; `kvm_msr_entry entries[nmsrs]` follow at offset 8.
struct KvmMsrsHeader {
    __u32 nmsrs;
    __u32 pad;
};

/// struct kvm_cpuid2 header; `kvm_cpuid_entry2 entries[nent]` follow at offset 8.
struct KvmCpuid2Header {
    __u32 nent;
    __u32 padding;
};

static_assert(sizeof(KvmMsrsHeader) == 8 && sizeof(KvmCpuid2Header) == 8, "kernel C layout");
static_assert(sizeof(kvm_msr_entry) == 16 && sizeof(kvm_cpuid_entry2) == 40, "kernel C layout");

inline constexpr unsigned long kKvmGetMsrs = _IOWR(KVMIO, 0x88, KvmMsrsHeader);
inline constexpr unsigned long kKvmSetMsrs = _IOW(KVMIO, 0x89, KvmMsrsHeader);
inline constexpr unsigned long kKvmGetSupportedCpuid = _IOWR(KVMIO, 0x05, KvmCpuid2Header);
inline constexpr unsigned long kKvmSetCpuid2 = _IOW(KVMIO, 0x90, KvmCpuid2Header);

/// One MSR in the C layout of struct kvm_msrs.
struct KvmOneMsr {
    KvmMsrsHeader header;
    kvm_msr_entry entry;
};
static_assert(offsetof(KvmOneMsr, entry) == 8, "entries[] follow the 8-byte header");

}  // namespace kvmdbg::accel::kvm
