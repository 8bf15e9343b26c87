#include "arch/arm64/debug_exit.h"

#include "common/hex_string.h"

namespace kvmdbg::arch::arm64 {

namespace {

const char* ec_name(std::uint32_t ec) {
    switch (ec) {
    case 0x00: return "unknown reason";
    case 0x01: return "WFI/WFE";
    case 0x15: return "SVC (AArch64)";
    case 0x16: return "HVC (AArch64)";
    case 0x17: return "SMC (AArch64)";
    case 0x18: return "MSR/MRS trap";
    case 0x20: return "instruction abort, lower EL";
    case 0x21: return "instruction abort, current EL";
    case 0x24: return "data abort, lower EL";
    case 0x25: return "data abort, current EL";
    case ec::kBkpt32: return "AArch32 BKPT";
    case ec::kVectorCatch: return "AArch32 vector catch";
    default: return "unrecognised";
    }
}

// Distance from `addr` to the range [start, start + len): 0 inside.
std::uint64_t distance(std::uint64_t addr, std::uint64_t start, std::uint64_t len) {
    if (addr < start) {
        return start - addr;
    }
    if (addr - start < len) {
        return 0;
    }
    return addr - (start + len - 1);
}

WatchKind watch_kind(DebugAccess a) {
    switch (a) {
    case DebugAccess::read: return WatchKind::read;
    case DebugAccess::access: return WatchKind::access;
    default: return WatchKind::write;
    }
}

bool lsc_matches(DebugAccess a, bool write) {
    switch (a) {
    case DebugAccess::write: return write;
    case DebugAccess::read: return !write;
    default: return true;
    }
}

}  // namespace

DecodedDebugExit decode_debug_exit(std::uint32_t hsr, std::uint32_t hsr_high, std::uint64_t far) {
    DecodedDebugExit d;
    d.ec = esr_ec(hsr);
    d.iss = esr_iss(hsr);
    d.iss2 = hsr_high & 0xffffff;
    d.far = far;
    switch (d.ec) {
    case ec::kBrk64:
        d.kind = DebugExceptionKind::brk;
        d.brk_imm = static_cast<std::uint16_t>(d.iss & 0xffff);
        d.description = "BRK #" + hex_string(d.brk_imm);
        break;
    case ec::kBreakpointLower:
    case ec::kBreakpointCurrent:
        d.kind = DebugExceptionKind::breakpoint;
        d.from_lower_el = d.ec == ec::kBreakpointLower;
        d.description = "hardware breakpoint";
        break;
    case ec::kStepLower:
    case ec::kStepCurrent:
        d.kind = DebugExceptionKind::software_step;
        d.from_lower_el = d.ec == ec::kStepLower;
        d.step_isv = (d.iss >> 24) & 1;
        d.step_ex = d.step_isv && ((d.iss >> 6) & 1);
        d.description = d.step_ex ? "software step (load-exclusive stepped)" : "software step";
        break;
    case ec::kWatchpointLower:
    case ec::kWatchpointCurrent:
        d.kind = DebugExceptionKind::watchpoint;
        d.from_lower_el = d.ec == ec::kWatchpointLower;
        d.watch_write = (d.iss >> 6) & 1;
        d.watch_cm = (d.iss >> 8) & 1;
        d.description = std::string("watchpoint (") +
                        (d.watch_cm      ? "cache maintenance"
                         : d.watch_write ? "write"
                                         : "read") +
                        ") at " + hex_string(far);
        break;
    default:
        d.kind = DebugExceptionKind::unknown;
        d.description = "exception class " + hex_string(d.ec) + " (" + ec_name(d.ec) +
                        ") is not a debug event kvmdbg handles (hsr " + hex_string(hsr) + ", hsr_high " +
                        hex_string(hsr_high) + ")";
        break;
    }
    return d;
}

DebugEvent classify_debug_exit(const DebugExitInfo& exit, const DebugRegPlan& plan) {
    DecodedDebugExit d = decode_debug_exit(exit.hsr, exit.hsr_high, exit.far);
    switch (d.kind) {
    case DebugExceptionKind::brk:
        if (exit.sw_breakpoint_at_pc) {
            return SoftwareBreakpoint{exit.pc, d.brk_imm};
        }
        return NotOurs{d};
    case DebugExceptionKind::software_step:
        if (exit.debugger_stepping) {
            return StepDone{exit.pc};
        }
        return NotOurs{d};
    case DebugExceptionKind::breakpoint:
        for (unsigned n = 0; n < plan.counts.breakpoints && n < kMaxDebugRegs; ++n) {
            const SlotOwner& o = plan.breakpoints[n];
            if (o.used && (plan.regs.bcr[n] & dbgbcr::kE) != 0 && plan.regs.bvr[n] == exit.pc) {
                return HardwareBreakpoint{n, o.request_id, exit.pc};
            }
        }
        return NotOurs{d};
    case DebugExceptionKind::watchpoint: {
        // Exact hit on a request's whole range (any of its pieces) first;
        // else the nearest request whose LSC fits the access.
        const SlotOwner* best = nullptr;
        unsigned best_slot = 0;
        std::uint64_t best_distance = UINT64_MAX;
        for (unsigned n = 0; n < plan.counts.watchpoints && n < kMaxDebugRegs; ++n) {
            const SlotOwner& o = plan.watchpoints[n];
            if (!o.used) {
                continue;
            }
            bool write = d.watch_write || d.watch_cm;
            if (!lsc_matches(o.request.kind, write)) {
                continue;
            }
            std::uint64_t dist = distance(exit.far, o.request.addr, o.request.len);
            if (dist < best_distance) {
                best = &o;
                best_slot = n;
                best_distance = dist;
            }
        }
        if (best == nullptr) {
            return NotOurs{d};
        }
        // Among the request's own slots, name the one whose piece holds FAR.
        for (unsigned n = 0; n < plan.counts.watchpoints && n < kMaxDebugRegs; ++n) {
            const SlotOwner& o = plan.watchpoints[n];
            if (o.used && o.request_id == best->request_id && distance(exit.far, o.piece_addr, o.piece_len) == 0) {
                best_slot = n;
                break;
            }
        }
        Watchpoint w;
        w.request_id = best->request_id;
        w.slot = best_slot;
        w.kind = watch_kind(best->request.kind);
        w.addr = best->request.addr;
        w.len = best->request.len;
        w.far = exit.far;
        w.write = d.watch_write;
        if (best_distance == 0) {
            w.hit_addr = exit.far;
        } else if (exit.far < w.addr) {
            w.hit_addr = w.addr;
        } else {
            w.hit_addr = w.addr + w.len - 1;
        }
        return w;
    }
    case DebugExceptionKind::unknown: break;
    }
    return UnknownDebugExit{d};
}

}  // namespace kvmdbg::arch::arm64
