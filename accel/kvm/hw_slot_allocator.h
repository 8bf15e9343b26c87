// HwSlotAllocator: counts the hardware debug registers the debugger may use,
// so that an insert fails at insert time with a clear error instead of at
// the next KVM_SET_GUEST_DEBUG.
//
//   x86     one shared pool of 4 address registers DR0-DR3 (Intel SDM Vol. 3B
//           17.2): breakpoints and watchpoints compete for them, and one
//           watchpoint may take several (arch/x86/debug_regs.h splits
//           unaligned ranges)
//   arm64   separate pools: breakpoint registers (KVM_CAP_GUEST_DEBUG_HW_BPS)
//           and watchpoint registers (KVM_CAP_GUEST_DEBUG_HW_WPS), at most
//           KVM_ARM_MAX_DBG_REGS = 16 each (Documentation/virt/kvm/api.rst,
//           "KVM_SET_GUEST_DEBUG"; ARM ARM D2.8/D2.9)
//
// Only counts: which physical register holds what is the arch code's job.
// Threads: not synchronised; one allocator per VM, used with the guest-debug
// state's lock held.
#pragma once

#include <cstdint>

#include "common/result.h"

namespace kvmdbg::accel::kvm {

/// What a slot is used for.
enum class HwSlotKind : std::uint8_t { breakpoint, watchpoint };

/// How many hardware debug registers the host gives the debugger.
struct HwSlotLimits {
    bool shared = false;       ///< one pool for both kinds (x86)
    unsigned breakpoints = 0;  ///< breakpoint registers, or the shared pool's size
    unsigned watchpoints = 0;  ///< watchpoint registers; ignored when shared
};

/// x86: one shared pool of 4.
HwSlotLimits x86_hw_slot_limits();

/// arm64: the host's KVM_CAP_GUEST_DEBUG_HW_BPS and _HW_WPS values, each
/// clamped to 16 (the size of the kvm_guest_debug_arch arrays).
HwSlotLimits arm64_hw_slot_limits(unsigned bps, unsigned wps);

class HwSlotAllocator {
public:
    explicit HwSlotAllocator(HwSlotLimits limits) : limits_(limits) {}

    /// Reserves `count` slots for one request of `kind` (all or nothing).
    /// Errors: EINVAL for count 0; ENOTSUP if the host has no register of
    /// this kind at all ("this host has no hardware watchpoints"); ENOSPC
    /// when not enough are free: "all 4 hardware debug registers are in
    /// use" when none is, else how many are needed and free, or that the
    /// request needs more than the host has.
    Status reserve(HwSlotKind kind, unsigned count = 1);

    /// Returns `count` slots of `kind` (never below zero).
    void release(HwSlotKind kind, unsigned count = 1);

    /// Frees everything (remove all breakpoints).
    void reset() { used_bp_ = used_wp_ = 0; }

    /// Slots of `kind` the host has (the shared pool's size on x86).
    unsigned capacity(HwSlotKind kind) const;
    /// Slots of `kind` in use (both kinds on x86).
    unsigned used(HwSlotKind kind) const;
    /// capacity(kind) - used(kind).
    unsigned free(HwSlotKind kind) const { return capacity(kind) - used(kind); }

    const HwSlotLimits& limits() const { return limits_; }

private:
    unsigned& counter(HwSlotKind kind);

    HwSlotLimits limits_;
    unsigned used_bp_ = 0;  // the shared pool's count on x86
    unsigned used_wp_ = 0;
};

}  // namespace kvmdbg::accel::kvm
