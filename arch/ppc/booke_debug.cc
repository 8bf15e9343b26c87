#include "arch/ppc/booke_debug.h"

#include <string>

#include "common/hex_string.h"

namespace kvmdbg::arch::ppc {

namespace {

const char* kind_name(DebugAccess kind) {
    switch (kind) {
    case DebugAccess::exec: return "hardware breakpoint";
    case DebugAccess::write: return "write watchpoint";
    case DebugAccess::read: return "read watchpoint";
    case DebugAccess::access: return "access watchpoint";
    }
    return "?";
}

}  // namespace

std::uint32_t bp_type(DebugAccess kind) {
    switch (kind) {
    case DebugAccess::exec: return kDebugBreakpoint;
    case DebugAccess::write: return kDebugWatchWrite;
    case DebugAccess::read: return kDebugWatchRead;
    case DebugAccess::access: return kDebugWatchWrite | kDebugWatchRead;
    }
    return kDebugNone;
}

Result<PpcDebugRegs> build_debug_regs(std::span<const DebugRequest> requests) {
    PpcDebugRegs regs;
    unsigned inst = 0;
    unsigned data = 0;
    unsigned n = 0;
    for (const DebugRequest& r : requests) {
        std::string what = std::string(kind_name(r.kind)) + " at " + hex_string(r.addr);
        if (r.len == 0) {
            return make_error(EINVAL, what + ": length 0");
        }
        if (r.kind == DebugAccess::exec) {
            if (r.len != 1 && r.len != 4) {
                return make_error(EINVAL, what + ": an instruction breakpoint covers one 4-byte instruction");
            }
            if (++inst > kInstSlots) {
                return make_error(ENOSPC, what + ": BookE has only 2 instruction address compare registers (IAC1-2)");
            }
        } else {
            if (r.len > 8) {
                return make_error(EINVAL, what + ": BookE data address compare watches one access, at most 8 bytes");
            }
            if (++data > kDataSlots) {
                return make_error(ENOSPC, what + ": BookE has only 2 data address compare registers (DAC1-2)");
            }
        }
        regs.bp[n++] = PpcBp{r.addr, bp_type(r.kind)};
    }
    return regs;
}

Result<std::uint32_t> debug_control(bool sw_breakpoints, bool hw_breakpoints, bool step, bool sstep_cap) {
    if (step && !sstep_cap) {
        return make_error(ENOTSUP, "single-step needs KVM_CAP_PPC_GUEST_DEBUG_SSTEP, which this host's KVM lacks");
    }
    if (!sw_breakpoints && !hw_breakpoints && !step) {
        return std::uint32_t{0};
    }
    std::uint32_t control = kGuestDbgEnable;
    if (sw_breakpoints) {
        control |= kGuestDbgUseSwBp;
    }
    if (hw_breakpoints) {
        control |= kGuestDbgUseHwBp;
    }
    if (step) {
        control |= kGuestDbgSingleStep;
    }
    return control;
}

Result<std::array<std::uint8_t, 4>> sw_breakpoint_bytes(std::uint32_t debug_inst, std::endian guest_order) {
    if (debug_inst == 0) {
        return make_error(EINVAL, "KVM_REG_PPC_DEBUG_INST is 0: read it with KVM_GET_ONE_REG first");
    }
    std::array<std::uint8_t, 4> b{};
    for (unsigned i = 0; i < 4; ++i) {
        unsigned shift = guest_order == std::endian::big ? 24 - 8 * i : 8 * i;
        b[i] = static_cast<std::uint8_t>(debug_inst >> shift);
    }
    return b;
}

DebugEvent classify_debug_exit(const DebugExitInfo& exit, const PpcDebugRegs& loaded) {
    const ReflectProgram reflect{kEsrPil, exit.pc};
    if (exit.status == 0) {
        if (exit.debugger_stepping) {
            return StepDone{exit.pc};
        }
        if (exit.sw_breakpoint_at_pc) {
            return SoftwareBreakpoint{exit.pc};
        }
        return reflect;
    }
    if (exit.status & kDebugBreakpoint) {
        for (unsigned i = 0; i < kInstSlots + kDataSlots; ++i) {
            if ((loaded.bp[i].type & kDebugBreakpoint) && loaded.bp[i].addr == exit.address) {
                return HardwareBreakpoint{i, exit.address};
            }
        }
    } else if (exit.status & (kDebugWatchWrite | kDebugWatchRead)) {
        std::uint32_t bit = exit.status & (kDebugWatchWrite | kDebugWatchRead);
        for (unsigned i = 0; i < kInstSlots + kDataSlots; ++i) {
            const PpcBp& e = loaded.bp[i];
            if (!(e.type & kDebugBreakpoint) && (e.type & bit) && e.addr == exit.address) {
                DebugAccess kind = e.type == (kDebugWatchWrite | kDebugWatchRead) ? DebugAccess::access
                                   : (e.type & kDebugWatchWrite)                  ? DebugAccess::write
                                                                                  : DebugAccess::read;
                return Watchpoint{i, kind, exit.address};
            }
        }
    }
    if (exit.debugger_stepping) {
        return StepDone{exit.pc};
    }
    return reflect;
}

void apply_program_interrupt(BookeInterruptState& state, const ReflectProgram& reflect) {
    state.srr0 = reflect.srr0;
    state.srr1 = state.msr;
    state.esr = reflect.esr;
    state.msr &= kMsrCe | kMsrMe | kMsrDe;
    state.pc = (state.ivpr & ~std::uint64_t{0xffff}) | (state.ivor6 & 0xfff0u);
}

}  // namespace kvmdbg::arch::ppc
