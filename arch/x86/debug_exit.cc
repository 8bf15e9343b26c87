#include "arch/x86/debug_exit.h"

#include "arch/x86/debug_reg_merge.h"

namespace kvmdbg::arch::x86 {

namespace {

constexpr std::uint64_t kConditionBits = dr6::kHitMask | dr6::kBD | dr6::kBS | dr6::kBT;

WatchKind watch_kind(DebugAccess a) {
    switch (a) {
    case DebugAccess::read: return WatchKind::read;
    case DebugAccess::access: return WatchKind::access;
    default: return WatchKind::write;
    }
}

// The lowest matched debugger slot, preferring watch slots (see the header).
std::optional<unsigned> pick_debugger_slot(unsigned debugger_hits, const DebugRegPlan& plan) {
    std::optional<unsigned> exec;
    for (unsigned n = 0; n < kNumDebugRegs; ++n) {
        if ((debugger_hits & (1u << n)) == 0) {
            continue;
        }
        if (plan.owners[n].request.kind != DebugAccess::exec) {
            return n;
        }
        if (!exec) {
            exec = n;
        }
    }
    return exec;
}

HardwareBreakpoint make_breakpoint(unsigned slot, const DebugRegPlan& plan) {
    const SlotOwner& o = plan.owners[slot];
    return HardwareBreakpoint{slot, o.request_id, o.request.addr, std::nullopt};
}

Watchpoint make_watchpoint(unsigned debugger_hits, const DebugRegPlan& plan) {
    // Report the request of the chosen slot once, from its lowest matched slot.
    unsigned chosen = *pick_debugger_slot(debugger_hits, plan);
    const SlotOwner& o = plan.owners[chosen];
    return Watchpoint{o.request_id,   chosen,      watch_kind(o.request.kind), o.request.addr, o.request.len,
                      o.request.addr, std::nullopt};
}

}  // namespace

DebugEvent classify_debug_exit(const DebugExitInfo& exit, const DebugRegPlan& plan) {
    if (exit.vector == kVectorBP) {
        if (exit.sw_breakpoint_at_pc) {
            return SoftwareBreakpoint{exit.pc};
        }
        return NotOurs{kVectorBP, 0};
    }
    if (exit.vector != kVectorDB) {
        return NotOurs{exit.vector, 0};
    }

    const Dr6Status st = decode_dr6(exit.dr6, plan.regs.dr7);
    unsigned debugger_hits = 0;
    unsigned guest_hits = 0;
    for (unsigned n = 0; n < kNumDebugRegs; ++n) {
        if ((st.hits & (1u << n)) == 0) {
            continue;
        }
        if (plan.owners[n].kind == SlotOwner::Kind::debugger) {
            debugger_hits |= 1u << n;
        } else if (plan.owners[n].kind == SlotOwner::Kind::guest) {
            guest_hits |= 1u << n;
        }
    }
    const bool step_done = st.bs && exit.debugger_stepping;
    const bool our_gd = st.bd && (plan.regs.dr7 & dr7::kGD) != 0;

    // The conditions that belong to the guest, in physical numbering.
    std::uint64_t guest_cond = guest_hits;
    if (st.bs && !exit.debugger_stepping) {
        guest_cond |= dr6::kBS;
    }
    if (st.bd && !our_gd) {
        guest_cond |= dr6::kBD;
    }
    if (st.bt) {
        guest_cond |= dr6::kBT;
    }
    const std::uint64_t guest_dr6 = guest_view_dr6((exit.dr6 & ~kConditionBits) | guest_cond, plan);
    const std::optional<std::uint64_t> residue = guest_cond != 0 ? std::optional<std::uint64_t>(guest_dr6)
                                                                 : std::nullopt;

    if (step_done) {
        StepDone done;
        done.guest_dr6 = residue;
        unsigned watch_hits = 0;
        unsigned exec_hits = 0;
        for (unsigned n = 0; n < kNumDebugRegs; ++n) {
            if ((debugger_hits & (1u << n)) != 0) {
                (plan.owners[n].request.kind == DebugAccess::exec ? exec_hits : watch_hits) |= 1u << n;
            }
        }
        if (watch_hits != 0) {
            done.also_watchpoint = make_watchpoint(watch_hits, plan);
        }
        if (exec_hits != 0) {
            done.also_breakpoint = make_breakpoint(*pick_debugger_slot(exec_hits, plan), plan);
        }
        return done;
    }
    if (debugger_hits != 0) {
        unsigned slot = *pick_debugger_slot(debugger_hits, plan);
        if (plan.owners[slot].request.kind == DebugAccess::exec) {
            HardwareBreakpoint bp = make_breakpoint(slot, plan);
            bp.guest_dr6 = residue;
            return bp;
        }
        Watchpoint wp = make_watchpoint(debugger_hits, plan);
        wp.guest_dr6 = residue;
        return wp;
    }
    if (our_gd) {
        return GuestDebugRegAccess{exit.pc};
    }
    return NotOurs{kVectorDB, guest_dr6};
}

}  // namespace kvmdbg::arch::x86
