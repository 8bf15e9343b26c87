#include "accel/kvm/hw_slot_allocator.h"

#include <algorithm>
#include <string>

namespace kvmdbg::accel::kvm {

namespace {

constexpr unsigned kArm64MaxDbgRegs = 16;  // KVM_ARM_MAX_DBG_REGS

// "hardware debug registers" (shared), "hardware breakpoint registers", ...
std::string pool_name(const HwSlotLimits& l, HwSlotKind kind) {
    if (l.shared) {
        return "hardware debug registers";
    }
    return kind == HwSlotKind::breakpoint ? "hardware breakpoint registers" : "hardware watchpoint registers";
}

}  // namespace

HwSlotLimits x86_hw_slot_limits() { return HwSlotLimits{true, 4, 0}; }

HwSlotLimits arm64_hw_slot_limits(unsigned bps, unsigned wps) {
    return HwSlotLimits{false, std::min(bps, kArm64MaxDbgRegs), std::min(wps, kArm64MaxDbgRegs)};
}

unsigned HwSlotAllocator::capacity(HwSlotKind kind) const {
    if (limits_.shared || kind == HwSlotKind::breakpoint) {
        return limits_.breakpoints;
    }
    return limits_.watchpoints;
}

unsigned HwSlotAllocator::used(HwSlotKind kind) const {
    return limits_.shared || kind == HwSlotKind::breakpoint ? used_bp_ : used_wp_;
}

unsigned& HwSlotAllocator::counter(HwSlotKind kind) {
    return limits_.shared || kind == HwSlotKind::breakpoint ? used_bp_ : used_wp_;
}

Status HwSlotAllocator::reserve(HwSlotKind kind, unsigned count) {
    if (count == 0) {
        return make_error(EINVAL, "a hardware debug request needs at least one register");
    }
    const unsigned cap = capacity(kind);
    const std::string pool = pool_name(limits_, kind);
    if (cap == 0) {
        return make_error(ENOTSUP, std::string("this host has no hardware ") +
                                       (kind == HwSlotKind::breakpoint ? "breakpoints" : "watchpoints"));
    }
    if (count > cap) {
        return make_error(ENOSPC, "the request needs " + std::to_string(count) + " " + pool + ", the host has only " +
                                      std::to_string(cap));
    }
    const unsigned avail = free(kind);
    if (avail == 0) {
        return make_error(ENOSPC, "all " + std::to_string(cap) + " " + pool + " are in use");
    }
    if (count > avail) {
        return make_error(ENOSPC, "the request needs " + std::to_string(count) + " " + pool + ", only " +
                                      std::to_string(avail) + " of " + std::to_string(cap) + " are free");
    }
    counter(kind) += count;
    return ok_status();
}

void HwSlotAllocator::release(HwSlotKind kind, unsigned count) {
    unsigned& c = counter(kind);
    c = count > c ? 0 : c - count;
}

}  // namespace kvmdbg::accel::kvm
