#include "arch/x86/debug_regs.h"

#include "common/hex_string.h"

namespace kvmdbg::arch::x86 {

namespace {

constexpr unsigned kRwShift = 16;
constexpr unsigned kLenShift = 18;

unsigned field_shift(unsigned n) { return 4 * n; }

std::string describe(const DebugRequest& r) {
    std::string s = debug_access_name(r.kind);
    s += " at " + hex_string(r.addr);
    if (r.kind != DebugAccess::exec) {
        s += " len " + std::to_string(r.len);
    }
    return s;
}

// Largest naturally aligned 1/2/4/8 block starting at `addr` that fits in `remaining`.
std::uint64_t piece_len(std::uint64_t addr, std::uint64_t remaining) {
    for (std::uint64_t len : {8u, 4u, 2u}) {
        if (addr % len == 0 && remaining >= len) {
            return len;
        }
    }
    return 1;
}

}  // namespace

Result<unsigned> dr7_len_field(std::uint64_t len) {
    switch (len) {
    case 1: return 0b00u;
    case 2: return 0b01u;
    case 4: return 0b11u;
    case 8: return 0b10u;
    default:
        return make_error(EINVAL,
                          "debug register length " + std::to_string(len) + " has no DR7 LEN encoding (1, 2, 4 or 8)");
    }
}

unsigned dr7_len_bytes(unsigned field) {
    static constexpr unsigned kBytes[4] = {1, 2, 8, 4};
    return kBytes[field & 3];
}

Dr7Slot dr7_get_slot(std::uint64_t dr7, unsigned n) {
    Dr7Slot s;
    s.local = (dr7 & dr7::local_enable(n)) != 0;
    s.global = (dr7 & dr7::global_enable(n)) != 0;
    s.rw = static_cast<Dr7Rw>((dr7 >> (kRwShift + field_shift(n))) & 3);
    s.len = dr7_len_bytes(static_cast<unsigned>(dr7 >> (kLenShift + field_shift(n))) & 3);
    return s;
}

Result<std::uint64_t> dr7_set_slot(std::uint64_t dr7, unsigned n, const Dr7Slot& slot) {
    if (n >= kNumDebugRegs) {
        return make_error(EINVAL, "debug register slot " + std::to_string(n) + " does not exist");
    }
    if (slot.rw == Dr7Rw::exec && slot.len != 1) {
        return make_error(EINVAL, "an execute breakpoint must have length 1, not " + std::to_string(slot.len));
    }
    auto len = dr7_len_field(slot.len);
    if (!len) {
        return len.error();
    }
    std::uint64_t v = dr7_clear_slot(dr7, n);
    if (slot.local) {
        v |= dr7::local_enable(n);
    }
    if (slot.global) {
        v |= dr7::global_enable(n);
    }
    v |= static_cast<std::uint64_t>(slot.rw) << (kRwShift + field_shift(n));
    v |= static_cast<std::uint64_t>(*len) << (kLenShift + field_shift(n));
    return v;
}

std::uint64_t dr7_clear_slot(std::uint64_t dr7, unsigned n) {
    std::uint64_t mask = dr7::local_enable(n) | dr7::global_enable(n) | (0xfull << (kRwShift + field_shift(n)));
    return dr7 & ~mask;
}

bool dr7_slot_enabled(std::uint64_t dr7, unsigned n) {
    return (dr7 & (dr7::local_enable(n) | dr7::global_enable(n))) != 0;
}

bool exec_breakpoint_at(const X86DebugRegs& regs, std::uint64_t addr) {
    for (unsigned n = 0; n < kNumDebugRegs; ++n) {
        if (dr7_slot_enabled(regs.dr7, n) && dr7_get_slot(regs.dr7, n).rw == Dr7Rw::exec && regs.dr[n] == addr) {
            return true;
        }
    }
    return false;
}

unsigned dr7_enabled_mask(std::uint64_t dr7) {
    unsigned mask = 0;
    for (unsigned n = 0; n < kNumDebugRegs; ++n) {
        if (dr7_slot_enabled(dr7, n)) {
            mask |= 1u << n;
        }
    }
    return mask;
}

const char* debug_access_name(DebugAccess kind) {
    switch (kind) {
    case DebugAccess::exec: return "hardware breakpoint";
    case DebugAccess::write: return "write watchpoint";
    case DebugAccess::read: return "read watchpoint";
    case DebugAccess::access: return "access watchpoint";
    }
    return "debug request";
}

Result<std::vector<DebugRange>> split_debug_request(const DebugRequest& request) {
    if (request.kind == DebugAccess::read) {
        return make_error(ENOTSUP,
                          "x86 has no read-only watchpoints (DR7 R/W has no read-only "
                          "encoding); use an access watchpoint (awatch)");
    }
    if (request.len == 0) {
        return make_error(EINVAL, describe(request) + ": length 0");
    }
    if (request.kind == DebugAccess::exec) {
        if (request.len != 1) {
            return make_error(EINVAL, "x86 hardware breakpoints have length 1, not " + std::to_string(request.len));
        }
        return std::vector<DebugRange>{{request.addr, 1}};
    }
    if (request.addr + (request.len - 1) < request.addr) {
        return make_error(EINVAL, describe(request) +
                                      ": range wraps past the end of the "
                                      "address space");
    }
    std::vector<DebugRange> pieces;
    std::uint64_t addr = request.addr;
    std::uint64_t remaining = request.len;
    while (remaining > 0) {
        if (pieces.size() == kNumDebugRegs) {
            return make_error(ENOSPC, describe(request) + " needs more than " + std::to_string(kNumDebugRegs) +
                                          " debug registers; x86 has " + std::to_string(kNumDebugRegs));
        }
        std::uint64_t len = piece_len(addr, remaining);
        pieces.push_back({addr, len});
        addr += len;
        remaining -= len;
    }
    return pieces;
}

unsigned free_slot_count(const DebugRegPlan& plan) {
    unsigned n = 0;
    for (const auto& o : plan.owners) {
        n += o.kind == SlotOwner::Kind::free ? 1 : 0;
    }
    return n;
}

unsigned guest_slot_count(const DebugRegPlan& plan) {
    unsigned n = 0;
    for (const auto& o : plan.owners) {
        n += o.kind == SlotOwner::Kind::guest ? 1 : 0;
    }
    return n;
}

Result<unsigned> place_debug_request(DebugRegPlan& plan, std::uint32_t request_id, const DebugRequest& request) {
    for (const auto& o : plan.owners) {
        if (o.kind == SlotOwner::Kind::debugger && o.request_id == request_id) {
            return make_error(EEXIST, "debug request id " + std::to_string(request_id) + " is already placed");
        }
    }
    auto pieces = split_debug_request(request);
    if (!pieces) {
        return pieces.error();
    }
    unsigned free = free_slot_count(plan);
    if (pieces->size() > free) {
        unsigned guest = guest_slot_count(plan);
        unsigned debugger = kNumDebugRegs - free - guest;
        std::string msg = "no free debug register: " + describe(request) + " needs " + std::to_string(pieces->size()) +
                          ", " + std::to_string(free) + " of " + std::to_string(kNumDebugRegs) +
                          " free (the guest uses " + std::to_string(guest) + ", the debugger " +
                          std::to_string(debugger) + ")";
        return make_error(ENOSPC, msg);
    }
    const Dr7Rw rw = request.kind == DebugAccess::exec    ? Dr7Rw::exec
                     : request.kind == DebugAccess::write ? Dr7Rw::write
                                                          : Dr7Rw::access;
    DebugRegPlan next = plan;
    unsigned used = 0;
    std::size_t i = 0;
    for (unsigned n = 0; n < kNumDebugRegs && i < pieces->size(); ++n) {
        if (next.owners[n].kind != SlotOwner::Kind::free) {
            continue;
        }
        const DebugRange& piece = (*pieces)[i++];
        auto dr7 = dr7_set_slot(next.regs.dr7, n, Dr7Slot{false, true, rw, static_cast<unsigned>(piece.len)});
        if (!dr7) {
            return dr7.error();  // unreachable: split only yields encodable pieces
        }
        next.regs.dr7 = *dr7 | dr7::kGE | dr7::kFixed1;
        next.regs.dr[n] = piece.addr;
        next.owners[n] = SlotOwner{SlotOwner::Kind::debugger, 0, request_id, request};
        used |= 1u << n;
    }
    plan = next;
    return used;
}

unsigned remove_debug_request(DebugRegPlan& plan, std::uint32_t request_id) {
    unsigned freed = 0;
    for (unsigned n = 0; n < kNumDebugRegs; ++n) {
        SlotOwner& o = plan.owners[n];
        if (o.kind == SlotOwner::Kind::debugger && o.request_id == request_id) {
            o = SlotOwner{};
            plan.regs.dr[n] = 0;
            plan.regs.dr7 = dr7_clear_slot(plan.regs.dr7, n);
            ++freed;
        }
    }
    return freed;
}

Dr6Status decode_dr6(std::uint64_t dr6, std::uint64_t dr7) {
    Dr6Status s;
    s.raw_hits = static_cast<unsigned>(dr6 & dr6::kHitMask);
    s.hits = s.raw_hits & dr7_enabled_mask(dr7);
    s.bd = (dr6 & dr6::kBD) != 0;
    s.bs = (dr6 & dr6::kBS) != 0;
    s.bt = (dr6 & dr6::kBT) != 0;
    s.in_rtm = (dr6 & dr6::kRTM) == 0;
    s.bus_lock = (dr6 & dr6::kBLD) == 0;
    return s;
}

}  // namespace kvmdbg::arch::x86
