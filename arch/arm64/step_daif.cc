#include "arch/arm64/step_daif.h"

#include "arch/arm64/reflect.h"

namespace kvmdbg::arch::arm64 {

namespace {

constexpr std::uint64_t kForced = pstate::kA | pstate::kI | pstate::kF;

// Did the step end with a synchronous exception entry to EL1? The entry
// lands on VBAR_EL1 + 0x000/0x200/0x400/0x600 in EL1h.
bool on_sync_vector(std::uint64_t vbar, std::uint64_t pc, std::uint64_t ps) {
    if ((ps & (pstate::kModeMask)) != pstate::kModeEl1h) {
        return false;
    }
    std::uint64_t base = vbar & ~0x7ffull;
    if (pc < base || pc - base > 0x600) {
        return false;
    }
    std::uint64_t off = pc - base;
    return off == 0x000 || off == 0x200 || off == 0x400 || off == 0x600;
}

}  // namespace

DaifEffect daif_effect(std::uint32_t insn, std::uint64_t* bits) {
    // MSR DAIFSet/DAIFClr, #imm4: CRm (bits 11:8) holds imm4.
    std::uint32_t without_crm = insn & ~0xf00u;
    if (without_crm == 0xd50340dfu || without_crm == 0xd50340ffu) {
        if (bits != nullptr) {
            *bits = static_cast<std::uint64_t>((insn >> 8) & 0xf) << 6;
        }
        return without_crm == 0xd50340dfu ? DaifEffect::set : DaifEffect::clear;
    }
    if ((insn & ~0x1fu) == 0xd51b4220u) {
        return DaifEffect::write;  // MSR DAIF, Xt
    }
    if (insn == 0xd69f03e0u || insn == 0xd69f0bffu || insn == 0xd69f0fffu) {
        return DaifEffect::eret;  // ERET, ERETAA, ERETAB
    }
    return DaifEffect::none;
}

StepDaifPlan plan_step_daif(std::uint64_t pstate_before, std::uint64_t pc, std::uint64_t vbar_el1,
                            std::optional<std::uint32_t> insn) {
    StepDaifPlan plan;
    plan.saved_daif = pstate_before & pstate::kDaif;
    plan.step_pstate = pstate_before | kForced;
    plan.pc = pc;
    plan.vbar_el1 = vbar_el1;
    plan.insn = insn.value_or(0);
    plan.insn_known = insn.has_value();
    return plan;
}

StepDaifRestore restore_step_daif(const StepDaifPlan& plan, std::uint64_t pstate_after, std::uint64_t pc_after,
                                  std::uint64_t spsr_el1_after) {
    StepDaifRestore r;
    r.pstate = pstate_after;
    if (on_sync_vector(plan.vbar_el1, pc_after, pstate_after)) {
        // Exception entry set DAIF itself; what must be undone is the
        // forced masking recorded in SPSR_EL1, where the guest's ERET will
        // find it.
        r.exception_taken = true;
        r.spsr_el1 = (spsr_el1_after & ~kForced) | (plan.saved_daif & kForced);
        return r;
    }
    std::uint64_t bits = 0;
    DaifEffect effect = plan.insn_known ? daif_effect(plan.insn, &bits) : DaifEffect::none;
    if (pc_after == plan.pc) {
        // Still at the stepped instruction: it did not execute (a breakpoint
        // or watchpoint fired first). None of the DAIF writers can end on its
        // own address, so only the saved bits count.
        effect = DaifEffect::none;
    }
    std::uint64_t daif = plan.saved_daif;
    switch (effect) {
    case DaifEffect::set: daif |= bits; break;
    case DaifEffect::clear: daif &= ~bits; break;
    case DaifEffect::write:
    case DaifEffect::eret: return r;  // DAIF is what the instruction wrote
    case DaifEffect::none: break;
    }
    r.pstate = (pstate_after & ~pstate::kDaif) | daif;
    return r;
}

}  // namespace kvmdbg::arch::arm64
