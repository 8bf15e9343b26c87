#include "arch/arm64/debug_regs.h"

#include <bit>

#include "common/hex_string.h"

namespace kvmdbg::arch::arm64 {

namespace {

std::string describe(const DebugRequest& r) {
    if (r.kind == DebugAccess::exec) {
        return std::string(debug_access_name(r.kind)) + " at " + hex_string(r.addr);
    }
    return std::string(debug_access_name(r.kind)) + " on " + hex_string(r.addr) + ".." +
           hex_string(r.addr + r.len - 1) + " (" + std::to_string(r.len) + " bytes)";
}

constexpr std::uint64_t kMaxMaskLen = 1ull << 31;  // MASK = 31: 2 GiB

// BAS for bytes [first, first + count) of a doubleword.
unsigned bas_bits(unsigned first, unsigned count) { return ((1u << count) - 1u) << first; }

}  // namespace

const char* debug_access_name(DebugAccess kind) {
    switch (kind) {
    case DebugAccess::exec: return "hardware breakpoint";
    case DebugAccess::write: return "write watchpoint";
    case DebugAccess::read: return "read watchpoint";
    case DebugAccess::access: return "access watchpoint";
    }
    return "debug request";
}

WatchLsc watch_lsc(DebugAccess kind) {
    switch (kind) {
    case DebugAccess::write: return WatchLsc::store;
    case DebugAccess::read: return WatchLsc::load;
    default: return WatchLsc::both;
    }
}

Result<std::uint64_t> breakpoint_bvr(std::uint64_t addr) {
    if ((addr & 3) != 0) {
        return make_error(EINVAL, "hardware breakpoint at " + hex_string(addr) +
                                      ": address not 4-byte aligned (A64 instructions are 4-byte aligned; "
                                      "DBGBVR bits 1:0 are RES0)");
    }
    return addr;
}

std::uint64_t watchpoint_wcr(WatchLsc lsc, unsigned bas, unsigned mask) {
    return dbgwcr::kE | dbgwcr::kPacEl1El0 | (static_cast<std::uint64_t>(lsc) << dbgwcr::kLscShift) |
           (static_cast<std::uint64_t>(bas & 0xff) << dbgwcr::kBasShift) |
           (static_cast<std::uint64_t>(mask & 0x1f) << dbgwcr::kMaskShift);
}

WatchedRange decode_watchpoint(std::uint64_t wcr, std::uint64_t wvr) {
    if ((wcr & dbgwcr::kE) == 0) {
        return {};
    }
    unsigned bas = static_cast<unsigned>(wcr >> dbgwcr::kBasShift) & 0xff;
    unsigned mask = static_cast<unsigned>(wcr >> dbgwcr::kMaskShift) & 0x1f;
    if (bas == 0 || mask == 1 || mask == 2) {
        return {};
    }
    if (mask != 0) {
        if (bas != 0xff) {
            return {};
        }
        std::uint64_t len = 1ull << mask;
        return {wvr & ~(len - 1), len};
    }
    std::uint64_t base = wvr & ~7ull;
    if ((wvr & 4) != 0) {
        // DBGWVR[2] = 1: only BAS[3:0] counts, relative to the word at wvr.
        bas &= 0xf;
        if (bas == 0) {
            return {};
        }
        base = wvr & ~3ull;
    }
    // Lowest and highest set bit give the range; the span also covers a
    // (non-architectural) hole, which can only over-report.
    unsigned first = static_cast<unsigned>(std::countr_zero(bas));
    unsigned last = 31u - static_cast<unsigned>(std::countl_zero(bas));
    return {base + first, static_cast<std::uint64_t>(last - first + 1)};
}

Result<std::vector<WatchPiece>> split_watch_request(const DebugRequest& request) {
    if (request.kind == DebugAccess::exec) {
        return make_error(EINVAL, describe(request) + ": not a watchpoint");
    }
    if (request.len == 0) {
        return make_error(EINVAL, std::string(debug_access_name(request.kind)) + " at " + hex_string(request.addr) +
                                      ": length 0");
    }
    if (request.addr + (request.len - 1) < request.addr) {
        return make_error(EINVAL, std::string(debug_access_name(request.kind)) + " at " + hex_string(request.addr) +
                                      " length " + std::to_string(request.len) + ": range wraps past 2^64");
    }
    WatchLsc lsc = watch_lsc(request.kind);
    std::vector<WatchPiece> pieces;
    std::uint64_t addr = request.addr;
    std::uint64_t left = request.len;
    while (left > 0) {
        WatchPiece p;
        if ((addr & 7) != 0 || left < 8) {
            unsigned first = static_cast<unsigned>(addr & 7);
            std::uint64_t count = 8 - first;
            if (count > left) {
                count = left;
            }
            p = {addr, count, addr & ~7ull, watchpoint_wcr(lsc, bas_bits(first, static_cast<unsigned>(count)), 0)};
        } else {
            // The largest aligned power-of-two block (8 B .. 2 GiB) at addr.
            std::uint64_t block = addr == 0 ? kMaxMaskLen : (addr & (~addr + 1));
            if (block > kMaxMaskLen) {
                block = kMaxMaskLen;
            }
            while (block > left) {
                block >>= 1;
            }
            unsigned mask = block == 8 ? 0 : static_cast<unsigned>(std::countr_zero(block));
            p = {addr, block, addr, watchpoint_wcr(lsc, 0xff, mask)};
        }
        pieces.push_back(p);
        addr += p.len;
        left -= p.len;
    }
    return pieces;
}

SlotCounts slot_counts_from_caps(int hw_bps, int hw_wps) {
    auto clamp = [](int v) -> unsigned {
        if (v <= 0) {
            return 0;
        }
        return v > static_cast<int>(kMaxDebugRegs) ? kMaxDebugRegs : static_cast<unsigned>(v);
    };
    return {clamp(hw_bps), clamp(hw_wps)};
}

DebugRegPlan make_debug_reg_plan(SlotCounts counts) {
    DebugRegPlan plan;
    plan.counts = slot_counts_from_caps(static_cast<int>(counts.breakpoints), static_cast<int>(counts.watchpoints));
    return plan;
}

unsigned used_breakpoint_slots(const DebugRegPlan& plan) {
    unsigned n = 0;
    for (const SlotOwner& o : plan.breakpoints) {
        n += o.used ? 1 : 0;
    }
    return n;
}

unsigned used_watchpoint_slots(const DebugRegPlan& plan) {
    unsigned n = 0;
    for (const SlotOwner& o : plan.watchpoints) {
        n += o.used ? 1 : 0;
    }
    return n;
}

bool plan_uses_hw(const DebugRegPlan& plan) { return used_breakpoint_slots(plan) + used_watchpoint_slots(plan) > 0; }

Result<unsigned> place_debug_request(DebugRegPlan& plan, std::uint32_t request_id, const DebugRequest& request) {
    for (unsigned n = 0; n < kMaxDebugRegs; ++n) {
        if ((plan.breakpoints[n].used && plan.breakpoints[n].request_id == request_id) ||
            (plan.watchpoints[n].used && plan.watchpoints[n].request_id == request_id)) {
            return make_error(EEXIST, describe(request) + ": request id " + std::to_string(request_id) +
                                          " already owns a debug register");
        }
    }
    if (request.kind == DebugAccess::exec) {
        auto bvr = breakpoint_bvr(request.addr);
        if (!bvr) {
            return bvr.error();
        }
        if (plan.counts.breakpoints == 0) {
            return make_error(ENOTSUP, describe(request) +
                                           ": this host has no hardware breakpoints (KVM_CAP_GUEST_DEBUG_HW_BPS = 0)");
        }
        for (unsigned n = 0; n < plan.counts.breakpoints; ++n) {
            if (!plan.breakpoints[n].used) {
                plan.breakpoints[n] = {true, request_id, request, request.addr, 4};
                plan.regs.bcr[n] = dbgbcr::kDebuggerBreakpoint;
                plan.regs.bvr[n] = *bvr;
                return 1u << n;
            }
        }
        return make_error(ENOSPC, describe(request) + ": all " + std::to_string(plan.counts.breakpoints) +
                                      " hardware breakpoint registers are in use");
    }
    auto pieces = split_watch_request(request);
    if (!pieces) {
        return pieces.error();
    }
    if (plan.counts.watchpoints == 0) {
        return make_error(ENOTSUP, describe(request) +
                                       ": this host has no hardware watchpoints (KVM_CAP_GUEST_DEBUG_HW_WPS = 0)");
    }
    std::vector<unsigned> free_slots;
    for (unsigned n = 0; n < plan.counts.watchpoints; ++n) {
        if (!plan.watchpoints[n].used) {
            free_slots.push_back(n);
        }
    }
    if (pieces->size() > free_slots.size()) {
        std::string why = pieces->size() > plan.counts.watchpoints
                              ? "needs " + std::to_string(pieces->size()) +
                                    " watchpoint registers (BAS/MASK pieces), "
                                    "more than the " +
                                    std::to_string(plan.counts.watchpoints) + " this host has"
                              : "needs " + std::to_string(pieces->size()) + " watchpoint registers, " +
                                    std::to_string(free_slots.size()) + " of the host's " +
                                    std::to_string(plan.counts.watchpoints) + " are free";
        return make_error(ENOSPC, describe(request) + ": " + why);
    }
    unsigned mask = 0;
    for (std::size_t i = 0; i < pieces->size(); ++i) {
        const WatchPiece& p = (*pieces)[i];
        unsigned n = free_slots[i];
        plan.watchpoints[n] = {true, request_id, request, p.addr, p.len};
        plan.regs.wcr[n] = p.wcr;
        plan.regs.wvr[n] = p.wvr;
        mask |= 1u << n;
    }
    return mask;
}

unsigned remove_debug_request(DebugRegPlan& plan, std::uint32_t request_id) {
    unsigned freed = 0;
    for (unsigned n = 0; n < kMaxDebugRegs; ++n) {
        if (plan.breakpoints[n].used && plan.breakpoints[n].request_id == request_id) {
            plan.breakpoints[n] = {};
            plan.regs.bcr[n] = plan.regs.bvr[n] = 0;
            ++freed;
        }
        if (plan.watchpoints[n].used && plan.watchpoints[n].request_id == request_id) {
            plan.watchpoints[n] = {};
            plan.regs.wcr[n] = plan.regs.wvr[n] = 0;
            ++freed;
        }
    }
    return freed;
}

}  // namespace kvmdbg::arch::arm64
