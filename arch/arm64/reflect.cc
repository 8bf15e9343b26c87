#include "arch/arm64/reflect.h"

#include "common/hex_string.h"

namespace kvmdbg::arch::arm64 {

namespace {

// The EC the guest sees: current-EL variant (odd) when the guest was at
// EL1, lower-EL variant (even) from EL0. BRK has a single class.
std::uint32_t guest_ec(std::uint32_t ec, bool from_el1) {
    if (ec == ec::kBrk64) {
        return ec;
    }
    std::uint32_t lower = ec & ~1u;
    return from_el1 ? lower | 1u : lower;
}

}  // namespace

Result<std::uint32_t> sync_vector_offset(std::uint64_t ps) {
    bool aarch32 = (ps & pstate::kNrw) != 0;
    unsigned el = pstate::el(ps);
    if (aarch32) {
        // AArch32 M[3:0] = 0b0000 is User mode (EL0); everything else is a
        // privileged AArch32 mode, which KVM arm64 guests cannot be in.
        if ((ps & 0xf) != 0) {
            return make_error(ENOTSUP,
                              "PSTATE " + hex_string(ps) + ": AArch32 privileged mode; only AArch32 EL0 is supported");
        }
        return 0x600u;
    }
    switch (el) {
    case 0: return 0x400u;
    case 1: return (ps & pstate::kSp) != 0 ? 0x200u : 0x000u;
    default:
        return make_error(ENOTSUP, "PSTATE " + hex_string(ps) + ": the guest is at EL" + std::to_string(el) +
                                       "; reflecting into a nested hypervisor's EL2 is not supported");
    }
}

Result<ReflectPlan> plan_reflection(const ReflectInput& in) {
    const DecodedDebugExit& ev = in.event;
    if (ev.kind == DebugExceptionKind::unknown) {
        return make_error(EINVAL, "cannot reflect " + ev.description);
    }
    if ((in.vbar_el1 & 0x7ff) != 0) {
        return make_error(EINVAL,
                          "VBAR_EL1 " + hex_string(in.vbar_el1) +
                              " is not 2 KiB aligned (bits 10:0 are RES0): the guest has no usable vector table");
    }
    auto offset = sync_vector_offset(in.pstate);
    if (!offset) {
        return offset.error();
    }
    bool aarch32 = (in.pstate & pstate::kNrw) != 0;
    bool from_el1 = !aarch32 && pstate::el(in.pstate) == 1;

    ReflectPlan p;
    p.vector_offset = *offset;
    p.esr_el1 = static_cast<std::uint64_t>(guest_ec(ev.ec, from_el1)) << 26 | kEsrIl | ev.iss |
                static_cast<std::uint64_t>(ev.iss2) << 32;
    if (ev.kind == DebugExceptionKind::watchpoint) {
        p.writes_far = true;
        p.far_el1 = ev.far;
    }
    p.elr_el1 = in.pc;
    p.spsr_el1 = in.pstate;
    if (ev.kind == DebugExceptionKind::software_step) {
        p.spsr_el1 &= ~pstate::kSs;
    }

    std::uint64_t ps = in.pstate;
    if (aarch32) {
        // AArch32 CPSR bits other than NZCV (IT, J, E, GE, Q, T, its own
        // SSBS/DIT positions) have no AArch64 meaning: drop them.
        ps &= 0xf0000000ull;
    }
    ps &= ~(pstate::kModeMask | pstate::kSs | pstate::kIl | pstate::kBtype);
    ps |= pstate::kModeEl1h | pstate::kDaif;
    if (in.features.pan && (in.sctlr_el1 & sctlr::kSpan) == 0) {
        ps |= pstate::kPan;
    }
    if (in.features.uao) {
        ps &= ~pstate::kUao;
    }
    if (in.features.ssbs) {
        ps = (in.sctlr_el1 & sctlr::kDssbs) != 0 ? ps | pstate::kSsbs : ps & ~pstate::kSsbs;
    }
    if (in.features.mte) {
        ps |= pstate::kTco;
    }
    p.pstate = ps;
    p.pc = in.vbar_el1 + p.vector_offset;
    return p;
}

}  // namespace kvmdbg::arch::arm64
