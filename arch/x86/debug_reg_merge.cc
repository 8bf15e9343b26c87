#include "arch/x86/debug_reg_merge.h"

#include <cinttypes>
#include <cstdio>
#include <string>

#include "arch/x86/cpu_state.h"

namespace kvmdbg::arch::x86 {

namespace {

// Slot n's Ln, Gn, R/Wn and LENn bits.
std::uint64_t slot_bits(unsigned n) { return dr7::local_enable(n) | dr7::global_enable(n) | (0xfull << (16 + 4 * n)); }

DebugRegPlan guest_base(const X86DebugRegs& guest) {
    DebugRegPlan plan;
    plan.regs.dr7 = dr7::kFixed1 | dr7::kGD | (guest.dr7 & (dr7::kLE | dr7::kGE | dr7::kRTM));
    for (unsigned n = 0; n < kNumDebugRegs; ++n) {
        if (!dr7_slot_enabled(guest.dr7, n)) {
            continue;
        }
        // Copied bit for bit: the guest may use encodings the debugger never
        // does (I/O breakpoints), and they must behave as on bare metal.
        plan.regs.dr7 |= guest.dr7 & slot_bits(n);
        plan.regs.dr[n] = guest.dr[n];
        plan.owners[n] = SlotOwner{SlotOwner::Kind::guest, n, 0, {}};
    }
    return plan;
}

// DR7/DR6 bits a MOV to DRn can change (KVM's DR7_VOLATILE / DR6_VOLATILE).
constexpr std::uint64_t kDr7Volatile = 0xffff2bffull;
constexpr std::uint64_t kDr6Volatile = 0x0001e80full;

// ModRM rm encoding (rax rcx rdx rbx rsp rbp rsi rdi) -> kvm_regs order.
constexpr unsigned kGprFromEncoding[8] = {
    KVMDBG_X86_RAX, KVMDBG_X86_RCX, KVMDBG_X86_RDX, KVMDBG_X86_RBX,
    KVMDBG_X86_RSP, KVMDBG_X86_RBP, KVMDBG_X86_RSI, KVMDBG_X86_RDI,
};

std::string bytes_hex(std::span<const std::uint8_t> b) {
    std::string s;
    for (std::size_t i = 0; i < b.size() && i < 15; ++i) {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%s%02x", i == 0 ? "" : " ", b[i]);
        s += buf;
    }
    return s.empty() ? "(no bytes)" : s;
}

bool is_ignored_prefix(std::uint8_t b) {
    switch (b) {
    case 0x66:
    case 0x67:
    case 0xf2:
    case 0xf3:
    case 0x26:
    case 0x2e:
    case 0x36:
    case 0x3e:
    case 0x64:
    case 0x65: return true;
    default: return false;
    }
}

}  // namespace

MergedDebugRegs merge_debug_regs_evicting(const X86DebugRegs& guest, std::span<const DebuggerRequestEntry> requests) {
    MergedDebugRegs out{guest_base(guest), {}};
    for (const auto& r : requests) {
        if (!place_debug_request(out.plan, r.id, r.request)) {
            out.evicted.push_back(r.id);
        }
    }
    return out;
}

Result<DebugRegPlan> merge_debug_regs(const X86DebugRegs& guest, std::span<const DebuggerRequestEntry> requests) {
    DebugRegPlan plan = guest_base(guest);
    for (const auto& r : requests) {
        auto placed = place_debug_request(plan, r.id, r.request);
        if (!placed) {
            return placed.error();
        }
    }
    return plan;
}

std::uint64_t guest_view_dr6(std::uint64_t dr6, const DebugRegPlan& plan) {
    std::uint64_t out = (dr6 & 0xffffffffull & ~dr6::kHitMask) | dr6::kFixed1;
    for (unsigned p = 0; p < kNumDebugRegs; ++p) {
        const SlotOwner& o = plan.owners[p];
        if ((dr6 & dr6::hit(p)) != 0 && o.kind == SlotOwner::Kind::guest) {
            out |= dr6::hit(o.guest_slot);
        }
    }
    return out;
}

Result<MovDrOutcome> emulate_mov_dr(std::span<const std::uint8_t> insn, const MovDrContext& ctx) {
    auto not_mov_dr = [&] { return make_error(EINVAL, "not a MOV to/from a debug register: " + bytes_hex(insn)); };
    std::size_t i = 0;
    std::uint8_t rex = 0;
    bool lock = false;
    for (; i < insn.size() && i < 12; ++i) {
        std::uint8_t b = insn[i];
        if (ctx.long_mode && b >= 0x40 && b <= 0x4f) {
            rex = b;  // only counts if the opcode follows directly; see below
        } else if (b == 0xf0) {
            lock = true;
            rex = 0;
        } else if (is_ignored_prefix(b)) {
            rex = 0;  // a REX followed by a legacy prefix is ignored
        } else {
            break;
        }
    }
    if (i + 3 > insn.size() || insn[i] != 0x0f || (insn[i + 1] != 0x21 && insn[i + 1] != 0x23)) {
        return not_mov_dr();
    }
    const bool to_dr = insn[i + 1] == 0x23;
    const std::uint8_t modrm = insn[i + 2];
    const unsigned reg = (modrm >> 3) & 7;
    const unsigned rm = (modrm & 7) | ((rex & 0x1) != 0 ? 8 : 0);

    MovDrOutcome out;
    out.regs = ctx.regs;
    out.gpr = ctx.gpr;
    out.to_dr = to_dr;
    out.dr = reg;
    if (lock || (rex & 0x4) != 0 || ((reg == 4 || reg == 5) && ctx.cr4_de)) {
        out.action = MovDrAction::raise_ud;
        return out;
    }
    if (reg == 4 || reg == 5) {
        out.dr = reg + 2;  // 17.2.2: aliases of DR6/DR7 when CR4.DE=0
    }
    if ((ctx.regs.dr7 & dr7::kGD) != 0) {
        // 17.2.4: the fault happens before the access; the processor sets
        // DR6.BD and clears GD on entry to the #DB handler.
        out.action = MovDrAction::raise_db;
        out.regs.dr6 |= dr6::kBD;
        out.regs.dr7 &= ~dr7::kGD;
        return out;
    }
    const unsigned gpr = rm < 8 ? kGprFromEncoding[rm] : rm;
    const std::uint64_t operand_mask = ctx.long_mode ? ~0ull : 0xffffffffull;
    if (to_dr) {
        const std::uint64_t v = ctx.gpr[gpr] & operand_mask;
        if (out.dr < kNumDebugRegs) {
            out.regs.dr[out.dr] = v;
        } else {
            if ((v >> 32) != 0) {
                out.action = MovDrAction::raise_gp;
                return out;
            }
            if (out.dr == 6) {
                out.regs.dr6 = (v & kDr6Volatile) | dr6::kFixed1;
            } else {
                out.regs.dr7 = (v & kDr7Volatile) | dr7::kFixed1;
            }
        }
    } else {
        const std::uint64_t v = out.dr < kNumDebugRegs ? ctx.regs.dr[out.dr]
                                : out.dr == 6          ? ctx.regs.dr6
                                                       : ctx.regs.dr7;
        out.gpr[gpr] = v & operand_mask;
    }
    out.action = MovDrAction::done;
    out.length = static_cast<unsigned>(i + 3);
    return out;
}

}  // namespace kvmdbg::arch::x86
