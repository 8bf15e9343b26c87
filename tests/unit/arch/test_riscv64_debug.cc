// arch/riscv64/debug.h: ebreak vs c.ebreak by the original instruction's
// length bits, the refusals of everything but software breakpoints, exit
// classification, and the breakpoint trap a guest's own ebreak becomes
// (from S-mode and from U-mode, SIE set and clear, vectored stvec).
#include <array>
#include <vector>

#include "arch/riscv64/debug.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::arch::riscv64;

void test_insn_choice() {
    const std::uint8_t addi[4] = {0x13, 0x05, 0x10, 0x00};  // addi a0,zero,1 (32-bit)
    auto r = sw_breakpoint_insn(addi, 4);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(r->length, 4u);
    CU_ASSERT((r->bytes == std::array<std::uint8_t, 4>{0x73, 0x00, 0x10, 0x00}));
    const std::uint8_t c_li[2] = {0x05, 0x45};  // c.li a0,1 (low bits 01)
    r = sw_breakpoint_insn(c_li, 2);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(r->length, 2u);
    CU_ASSERT_EQUAL(r->bytes[0], 0x02);
    CU_ASSERT_EQUAL(r->bytes[1], 0x90);
    const std::uint8_t c_nop[2] = {0x01, 0x00};
    CU_ASSERT_EQUAL(sw_breakpoint_insn(c_nop, 4)->length, 2u);  // the length wins over gdb's kind
    const std::uint8_t c_q0[2] = {0x00, 0x00};                  // quadrant 0: compressed too
    CU_ASSERT_EQUAL(sw_breakpoint_insn(c_q0, 2)->length, 2u);
    const std::uint8_t q2[2] = {0x02, 0x90};
    CU_ASSERT_EQUAL(sw_breakpoint_insn(q2, 2)->length, 2u);
    CU_ASSERT_EQUAL(sw_breakpoint_insn(std::span<const std::uint8_t>(addi, 1), 4).error().code, EINVAL);
    CU_ASSERT_EQUAL(sw_breakpoint_insn(addi, 3).error().code, EINVAL);
    CU_ASSERT_EQUAL(kEbreak, 0x00100073u);
    CU_ASSERT_EQUAL(kCEbreak, 0x9002u);
}

void test_refusals() {
    CU_ASSERT(check_supported(DebugFeature::sw_breakpoint).ok());
    for (DebugFeature f : {DebugFeature::hw_breakpoint, DebugFeature::watchpoint, DebugFeature::single_step}) {
        auto s = check_supported(f);
        CU_ASSERT_FALSE(s.ok());
        CU_ASSERT_EQUAL(s.error().code, ENOTSUP);
        CU_ASSERT(s.error().message.find("riscv64 KVM") != std::string::npos);
    }
    CU_ASSERT_EQUAL(debug_control(true), 1u);
    CU_ASSERT_EQUAL(debug_control(false), 0u);
}

void test_classify() {
    auto ev = classify_debug_exit(0x80200000, true);
    CU_ASSERT_FATAL(std::holds_alternative<SoftwareBreakpoint>(ev));
    CU_ASSERT_EQUAL(std::get<SoftwareBreakpoint>(ev).addr, 0x80200000u);
    ev = classify_debug_exit(0x80200010, false);
    CU_ASSERT_FATAL(std::holds_alternative<ReflectBreakpoint>(ev));
    CU_ASSERT_EQUAL(std::get<ReflectBreakpoint>(ev).addr, 0x80200010u);
}

void test_trap_from_s_mode() {
    TrapState s;
    s.pc = 0x80200010;
    s.mode = 1;
    s.sstatus = kSstatusSie | (1ull << 18);  // SIE, SUM kept
    s.stvec = 0x80201001;                    // vectored: exceptions still go to BASE
    s.sepc = 1;
    s.scause = 9;
    s.stval = 7;
    apply_breakpoint_trap(s, 0x80200010);
    CU_ASSERT_EQUAL(s.sepc, 0x80200010u);
    CU_ASSERT_EQUAL(s.scause, 3u);
    CU_ASSERT_EQUAL(s.stval, 0x80200010u);
    CU_ASSERT_EQUAL(s.sstatus, kSstatusSpp | kSstatusSpie | (1ull << 18));
    CU_ASSERT_EQUAL(s.mode, 1u);
    CU_ASSERT_EQUAL(s.pc, 0x80201000u);
}

void test_trap_from_u_mode() {
    TrapState s;
    s.pc = 0x10074;
    s.mode = 0;
    s.sstatus = kSstatusSpp | kSstatusSpie;  // stale SPP/SPIE, SIE clear
    s.stvec = 0xffffffff80001000ull;
    apply_breakpoint_trap(s, 0x10074);
    CU_ASSERT_EQUAL(s.sstatus, 0u);  // SPP <- U, SPIE <- SIE (0), SIE <- 0
    CU_ASSERT_EQUAL(s.mode, 1u);
    CU_ASSERT_EQUAL(s.pc, 0xffffffff80001000ull);
    CU_ASSERT_EQUAL(s.sepc, 0x10074u);
}

const kvmdbg::test::TestCase kCases[] = {{"ebreak or c.ebreak", test_insn_choice},
                                         {"only software breakpoints", test_refusals},
                                         {"exit classification", test_classify},
                                         {"trap from S-mode", test_trap_from_s_mode},
                                         {"trap from U-mode", test_trap_from_u_mode}};
const kvmdbg::test::TestSuite kSuites[] = {{"riscv64 debug", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
