// arm64 single-step DAIF plan (arch/arm64/step_daif.h).
#include <optional>

#include "arch/arm64/reflect.h"
#include "arch/arm64/step_daif.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::arch::arm64;

constexpr std::uint64_t kVbar = 0x40081000;
constexpr std::uint64_t kNop = 0xd503201f;
constexpr std::uint64_t kEl1h = 0b00101;
constexpr std::uint64_t kAIF = pstate::kA | pstate::kI | pstate::kF;

std::uint32_t daifset(unsigned imm) { return 0xd50340dfu | imm << 8; }
std::uint32_t daifclr(unsigned imm) { return 0xd50340ffu | imm << 8; }

void test_decode_daif_instructions() {
    std::uint64_t bits = 0;
    CU_ASSERT(daif_effect(daifset(0x2), &bits) == DaifEffect::set);  // msr daifset, #2 (I)
    CU_ASSERT_EQUAL(bits, pstate::kI);
    CU_ASSERT(daif_effect(daifclr(0xf), &bits) == DaifEffect::clear);
    CU_ASSERT_EQUAL(bits, pstate::kDaif);
    CU_ASSERT(daif_effect(daifset(0x8), &bits) == DaifEffect::set);
    CU_ASSERT_EQUAL(bits, pstate::kD);
    CU_ASSERT(daif_effect(0xd51b4220) == DaifEffect::write);  // msr daif, x0
    CU_ASSERT(daif_effect(0xd51b423e) == DaifEffect::write);  // msr daif, x30
    CU_ASSERT(daif_effect(0xd53b4220) == DaifEffect::none);   // mrs x0, daif (read)
    CU_ASSERT(daif_effect(0xd69f03e0) == DaifEffect::eret);
    CU_ASSERT(daif_effect(0xd69f0bff) == DaifEffect::eret);
    CU_ASSERT(daif_effect(0xd69f0fff) == DaifEffect::eret);
    CU_ASSERT(daif_effect(kNop) == DaifEffect::none);
    CU_ASSERT(daif_effect(0xd50340bf) == DaifEffect::none);  // msr spsel-ish op2=5, not DAIF
}

void test_plan_forces_aif_keeps_d() {
    StepDaifPlan p = plan_step_daif(0x60000000 | kEl1h, 0x1000, kVbar, kNop);
    CU_ASSERT_EQUAL(p.saved_daif, 0ull);
    CU_ASSERT_EQUAL(p.step_pstate, 0x60000000 | kEl1h | kAIF);
    CU_ASSERT_EQUAL(p.step_pstate & pstate::kD, 0ull);
    p = plan_step_daif(kEl1h | pstate::kD | pstate::kI, 0x1000, kVbar, kNop);
    CU_ASSERT_EQUAL(p.saved_daif, pstate::kD | pstate::kI);
    CU_ASSERT_EQUAL(p.step_pstate, kEl1h | pstate::kDaif);
}

void test_restore_plain_instruction() {
    // A NOP (or an ADDS changing flags): DAIF back to the saved value, the
    // rest of PSTATE as the instruction left it.
    StepDaifPlan p = plan_step_daif(kEl1h, 0x1000, kVbar, kNop);
    StepDaifRestore r = restore_step_daif(p, 0x40000000 | kEl1h | kAIF, 0x1004, 0);
    CU_ASSERT_EQUAL(r.pstate, 0x40000000 | kEl1h);
    CU_ASSERT(!r.spsr_el1.has_value());
    CU_ASSERT(!r.exception_taken);
    // Unreadable instruction: treated as plain.
    p = plan_step_daif(kEl1h | pstate::kF, 0x1000, kVbar, std::nullopt);
    r = restore_step_daif(p, kEl1h | kAIF, 0x1004, 0);
    CU_ASSERT_EQUAL(r.pstate, kEl1h | pstate::kF);
}

void test_restore_stepping_msr_daifset() {
    // Stepping `msr daifset, #2` with interrupts enabled: the guest wanted I
    // masked, so I stays set; A and F go back to clear.
    StepDaifPlan p = plan_step_daif(kEl1h, 0x1000, kVbar, daifset(0x2));
    StepDaifRestore r = restore_step_daif(p, kEl1h | kAIF, 0x1004, 0);
    CU_ASSERT_EQUAL(r.pstate, kEl1h | pstate::kI);
}

void test_restore_stepping_msr_daifclr() {
    // Stepping `msr daifclr, #3` (I and F) with everything masked: the guest
    // unmasked I and F; A stays as it was (masked).
    StepDaifPlan p = plan_step_daif(kEl1h | pstate::kDaif, 0x1000, kVbar, daifclr(0x3));
    StepDaifRestore r = restore_step_daif(p, kEl1h | pstate::kD | pstate::kA, 0x1004, 0);
    CU_ASSERT_EQUAL(r.pstate, kEl1h | pstate::kD | pstate::kA);
    // daifclr #2 (I only) with I,F forced: F goes back to the saved clear.
    p = plan_step_daif(kEl1h | pstate::kI, 0x1000, kVbar, daifclr(0x2));
    r = restore_step_daif(p, kEl1h | pstate::kA | pstate::kF, 0x1004, 0);
    CU_ASSERT_EQUAL(r.pstate, kEl1h);
}

void test_restore_msr_daif_and_eret_keep_result() {
    // msr daif, x1 wrote all four bits: keep what the instruction produced.
    StepDaifPlan p = plan_step_daif(kEl1h, 0x1000, kVbar, 0xd51b4221);
    StepDaifRestore r = restore_step_daif(p, kEl1h | pstate::kA, 0x1004, 0);
    CU_ASSERT_EQUAL(r.pstate, kEl1h | pstate::kA);
    // eret to EL0 with DAIF clear from SPSR.
    p = plan_step_daif(kEl1h | pstate::kDaif, 0x2000, kVbar, 0xd69f03e0);
    r = restore_step_daif(p, 0, 0x400000, 0);
    CU_ASSERT_EQUAL(r.pstate, 0ull);
    CU_ASSERT(!r.spsr_el1.has_value());
}

void test_restore_exception_entry_fixes_spsr() {
    // Stepping an SVC from EL0 with interrupts enabled: the step ends on
    // VBAR+0x400 in EL1h with DAIF all set (entry), and SPSR_EL1 holds the
    // forced A/I/F: put the saved (clear) bits back there.
    StepDaifPlan p = plan_step_daif(0x20000000, 0x400100, kVbar, 0xd4000001);
    StepDaifRestore r = restore_step_daif(p, kEl1h | pstate::kDaif, kVbar + 0x400, 0x20000000 | kAIF);
    CU_ASSERT(r.exception_taken);
    CU_ASSERT_EQUAL(r.pstate, kEl1h | pstate::kDaif);
    CU_ASSERT_FATAL(r.spsr_el1.has_value());
    CU_ASSERT_EQUAL(*r.spsr_el1, 0x20000000ull);
    // A fault taken from EL1h lands on +0x200; saved D and I stay set in SPSR.
    p = plan_step_daif(kEl1h | pstate::kD | pstate::kI, 0x1000, kVbar, 0xf9400000);
    r = restore_step_daif(p, kEl1h | pstate::kDaif, kVbar + 0x200, kEl1h | pstate::kDaif);
    CU_ASSERT(r.exception_taken);
    CU_ASSERT_EQUAL(*r.spsr_el1, kEl1h | pstate::kD | pstate::kI);
    // +0x280 (IRQ) is not a synchronous entry; an EL1t PC at the vector is
    // not an entry either.
    r = restore_step_daif(p, kEl1h | pstate::kDaif, kVbar + 0x280, 0);
    CU_ASSERT(!r.exception_taken);
    r = restore_step_daif(p, 0b00100 | pstate::kDaif, kVbar + 0x200, 0);
    CU_ASSERT(!r.exception_taken);
}

void test_restore_instruction_not_executed() {
    // A breakpoint fired on the stepped `msr daifset, #2` before it ran
    // (PC unchanged): the guest's DAIF is the saved one, not saved | I.
    StepDaifPlan p = plan_step_daif(kEl1h, 0x1000, kVbar, daifset(0x2));
    StepDaifRestore r = restore_step_daif(p, kEl1h | kAIF, 0x1000, 0);
    CU_ASSERT_EQUAL(r.pstate, kEl1h);
    // Same for an ERET that did not execute: forced bits must not stay.
    p = plan_step_daif(kEl1h, 0x2000, kVbar, 0xd69f03e0);
    r = restore_step_daif(p, kEl1h | kAIF, 0x2000, 0);
    CU_ASSERT_EQUAL(r.pstate, kEl1h);
}

const kvmdbg::test::TestCase kCases[] = {
    {"decode DAIF instructions", test_decode_daif_instructions},
    {"plan forces A I F, keeps D", test_plan_forces_aif_keeps_d},
    {"restore after a plain instruction", test_restore_plain_instruction},
    {"stepping msr daifset", test_restore_stepping_msr_daifset},
    {"stepping msr daifclr", test_restore_stepping_msr_daifclr},
    {"msr daif / eret keep the result", test_restore_msr_daif_and_eret_keep_result},
    {"exception entry fixes SPSR_EL1", test_restore_exception_entry_fixes_spsr},
    {"instruction not executed", test_restore_instruction_not_executed},
};
const kvmdbg::test::TestSuite kSuites[] = {{"arm64 step DAIF", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
