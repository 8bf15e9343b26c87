#include "arch/s390x/debug.h"

#include <string>

#include "common/hex_string.h"

namespace kvmdbg::arch::s390x {

namespace {

void put_be(std::span<std::uint8_t> out, std::uint64_t value, unsigned bytes) {
    for (unsigned i = 0; i < bytes; ++i) {
        out[i] = static_cast<std::uint8_t>(value >> (8 * (bytes - 1 - i)));
    }
}

std::uint64_t get_be64(std::span<const std::uint8_t> in) {
    std::uint64_t v = 0;
    for (unsigned i = 0; i < 8; ++i) {
        v = v << 8 | in[i];
    }
    return v;
}

// DIAGNOSE is RS-a: 83 R1R3 B2D2 (D2 12 bits). With B2 = 0 the function
// code is D2 itself; KVM passes ipa = 83R1R3 and ipb = B2D2 << 16.
constexpr std::uint16_t kDiagFunction = 0x501;

}  // namespace

SwBreakpointInsn sw_breakpoint_insn(bool user_instr0_enabled) {
    if (user_instr0_enabled) {
        return SwBreakpointInsn{{0x00, 0x00, 0x00, 0x00}, 2};
    }
    return SwBreakpointInsn{{0x83, 0x24, 0x05, 0x01}, 4};
}

Result<std::vector<S390HwBp>> build_hw_bps(std::span<const DebugRequest> requests, const TranslateFn& translate) {
    if (requests.size() > kMaxHwBp) {
        return make_error(ENOSPC, std::to_string(requests.size()) +
                                      " hardware breakpoints/watchpoints: s390 KVM takes at most 50");
    }
    std::vector<S390HwBp> out;
    out.reserve(requests.size());
    for (const DebugRequest& r : requests) {
        S390HwBp bp;
        bp.addr = r.addr;
        if (r.kind == DebugAccess::read || r.kind == DebugAccess::access) {
            return make_error(ENOTSUP, "watchpoint at " + hex_string(r.addr) +
                                           ": s390 PER has no storage-fetch event (write watchpoints only)");
        }
        if (r.len == 0 || r.addr + r.len - 1 < r.addr) {
            return make_error(EINVAL,
                              "range at " + hex_string(r.addr) + " length " + std::to_string(r.len) + " is invalid");
        }
        if (r.kind == DebugAccess::exec) {
            bp.type = kHwBp;
            bp.len = 1;
        } else {
            if (r.len > kMaxWpLen) {
                return make_error(EINVAL, "watchpoint at " + hex_string(r.addr) + " is " + std::to_string(r.len) +
                                              " bytes: s390 KVM watches at most 100");
            }
            bp.type = kHwWpWrite;
            bp.len = r.len;
        }
        Result<std::uint64_t> phys = translate(r.addr);
        if (!phys.ok()) {
            return make_error(phys.error().code, "translating " + hex_string(r.addr) + ": " + phys.error().message);
        }
        bp.phys_addr = phys.value();
        out.push_back(bp);
    }
    return out;
}

std::uint32_t debug_control(bool sw_breakpoints, bool hw_breakpoints, bool step) {
    if (!sw_breakpoints && !hw_breakpoints && !step) {
        return 0;
    }
    std::uint32_t control = kGuestDbgEnable;
    if (hw_breakpoints) {
        control |= kGuestDbgUseHwBp;
    }
    if (step) {
        control |= kGuestDbgSingleStep;
    }
    return control;
}

DebugEvent classify_exit(const ExitInfo& info) {
    if (const auto* d = std::get_if<DebugExit>(&info.exit)) {
        if (d->type & kSingleStep) {
            return StepDone{info.psw_addr};
        }
        if (d->type & kHwBp) {
            return HardwareBreakpoint{d->addr};
        }
        if (d->type & kHwWpWrite) {
            return Watchpoint{d->addr};
        }
        if (info.debugger_stepping) {
            return StepDone{info.psw_addr};
        }
        return NotDebug{};
    }
    const SieicExit& s = std::get<SieicExit>(info.exit);
    unsigned ilen = 0;
    if (info.user_instr0 && s.icptcode == kIcptOperationException && s.ipa == 0x0000) {
        ilen = 2;
    } else if (!info.user_instr0 && s.icptcode == kIcptInstruction && (s.ipa >> 8) == 0x83 && (s.ipb >> 28) == 0 &&
               ((s.ipb >> 16) & 0xfff) == kDiagFunction) {
        ilen = 4;
    } else {
        return NotDebug{};
    }
    std::uint64_t pc = info.psw_addr - ilen;
    if (info.sw_breakpoint_at && info.sw_breakpoint_at(pc)) {
        return SoftwareBreakpoint{pc};
    }
    return ReflectOperation{pc, ilen};
}

Result<Psw> program_interruption(std::span<std::uint8_t> lowcore, const Psw& current, std::uint64_t insn_addr,
                                 unsigned ilen, std::uint16_t code) {
    if (ilen != 2 && ilen != 4 && ilen != 6) {
        return make_error(EINVAL, "instruction length " + std::to_string(ilen) + " is not 2, 4 or 6");
    }
    if (lowcore.size() < kLowcorePgmNewPsw + 16) {
        return make_error(EINVAL, "lowcore of " + std::to_string(lowcore.size()) + " bytes is too short");
    }
    lowcore[kLowcoreIlcCode] = 0;
    lowcore[kLowcoreIlcCode + 1] = static_cast<std::uint8_t>((ilen / 2) << 1);
    put_be(lowcore.subspan(kLowcoreIlcCode + 2, 2), code, 2);
    put_be(lowcore.subspan(kLowcorePgmOldPsw, 8), current.mask, 8);
    put_be(lowcore.subspan(kLowcorePgmOldPsw + 8, 8), insn_addr + ilen, 8);
    Psw next;
    next.mask = get_be64(lowcore.subspan(kLowcorePgmNewPsw, 8));
    next.addr = get_be64(lowcore.subspan(kLowcorePgmNewPsw + 8, 8));
    return next;
}

}  // namespace kvmdbg::arch::s390x
