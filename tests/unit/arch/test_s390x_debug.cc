// arch/s390x/debug.h: the sw breakpoint choice (0x0000 / DIAG 0x501), the
// per-vCPU hw_bp[] (phys_addr from that vCPU's translation, limits 50 and
// 100), the control word, exit classification (debug exits and the SIEIC
// intercepts of both breakpoint instructions) and the PGM_OPERATION
// program interruption as lowcore + PSW changes, byte for byte.
#include <algorithm>
#include <array>
#include <vector>

#include "arch/s390x/debug.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::arch::s390x;
using kvmdbg::Result;

void test_sw_insn() {
    SwBreakpointInsn i0 = sw_breakpoint_insn(true);
    CU_ASSERT_EQUAL(i0.length, 2u);
    CU_ASSERT_EQUAL(i0.bytes[0], 0x00);
    CU_ASSERT_EQUAL(i0.bytes[1], 0x00);
    SwBreakpointInsn diag = sw_breakpoint_insn(false);
    CU_ASSERT_EQUAL(diag.length, 4u);
    CU_ASSERT((diag.bytes == std::array<std::uint8_t, 4>{0x83, 0x24, 0x05, 0x01}));
}

// Two vCPUs with different prefixes see the same virtual address at
// different absolute addresses.
Result<std::uint64_t> cpu0(std::uint64_t v) { return v + 0x100000; }
Result<std::uint64_t> cpu1(std::uint64_t v) { return v + 0x200000; }

void test_hw_bps_per_vcpu() {
    std::vector<DebugRequest> req = {{DebugAccess::exec, 0x1000, 2}, {DebugAccess::write, 0x2000, 100}};
    auto a = build_hw_bps(req, cpu0);
    auto b = build_hw_bps(req, cpu1);
    CU_ASSERT_FATAL(a.ok() && b.ok());
    CU_ASSERT_EQUAL(a->size(), 2u);
    CU_ASSERT((a.value()[0] == S390HwBp{0x1000, 0x101000, 1, kHwBp}));
    CU_ASSERT((a.value()[1] == S390HwBp{0x2000, 0x102000, 100, kHwWpWrite}));
    CU_ASSERT_EQUAL(b.value()[0].phys_addr, 0x201000u);
    CU_ASSERT_EQUAL(b.value()[1].phys_addr, 0x202000u);
}

void test_hw_bp_limits() {
    std::vector<DebugRequest> req(50, DebugRequest{DebugAccess::exec, 0x1000, 1});
    CU_ASSERT(build_hw_bps(req, cpu0).ok());
    req.push_back(DebugRequest{DebugAccess::exec, 0x2000, 1});
    auto r = build_hw_bps(req, cpu0);
    CU_ASSERT_FALSE(r.ok());
    CU_ASSERT_EQUAL(r.error().code, ENOSPC);
    CU_ASSERT(r.error().message.find("50") != std::string::npos);

    std::vector<DebugRequest> big = {{DebugAccess::write, 0x2000, 101}};
    r = build_hw_bps(big, cpu0);
    CU_ASSERT_EQUAL(r.error().code, EINVAL);
    CU_ASSERT(r.error().message.find("100") != std::string::npos);
    std::vector<DebugRequest> read = {{DebugAccess::read, 0x2000, 4}};
    CU_ASSERT_EQUAL(build_hw_bps(read, cpu0).error().code, ENOTSUP);
    std::vector<DebugRequest> access = {{DebugAccess::access, 0x2000, 4}};
    CU_ASSERT_EQUAL(build_hw_bps(access, cpu0).error().code, ENOTSUP);
    std::vector<DebugRequest> zero = {{DebugAccess::write, 0x2000, 0}};
    CU_ASSERT_EQUAL(build_hw_bps(zero, cpu0).error().code, EINVAL);
    std::vector<DebugRequest> wrap = {{DebugAccess::write, ~0ull - 1, 4}};
    CU_ASSERT_EQUAL(build_hw_bps(wrap, cpu0).error().code, EINVAL);

    TranslateFn unmapped = [](std::uint64_t) -> Result<std::uint64_t> {
        return kvmdbg::make_error(EFAULT, "no translation");
    };
    std::vector<DebugRequest> one = {{DebugAccess::exec, 0xabc000, 1}};
    r = build_hw_bps(one, unmapped);
    CU_ASSERT_EQUAL(r.error().code, EFAULT);
    CU_ASSERT(r.error().message.find("0xabc000") != std::string::npos);
}

void test_control() {
    CU_ASSERT_EQUAL(debug_control(false, false, false), 0u);
    CU_ASSERT_EQUAL(debug_control(true, false, false), 0x1u);
    CU_ASSERT_EQUAL(debug_control(false, true, false), 0x10001u);
    CU_ASSERT_EQUAL(debug_control(false, false, true), 0x3u);
}

void test_classify_debug_exits() {
    ExitInfo info;
    info.psw_addr = 0x5000;
    info.exit = DebugExit{0x5000, kSingleStep};
    CU_ASSERT(std::holds_alternative<StepDone>(classify_exit(info)));
    info.exit = DebugExit{0x1000, kHwBp};
    auto ev = classify_exit(info);
    CU_ASSERT_FATAL(std::holds_alternative<HardwareBreakpoint>(ev));
    CU_ASSERT_EQUAL(std::get<HardwareBreakpoint>(ev).addr, 0x1000u);
    info.exit = DebugExit{0x2008, kHwWpWrite};
    ev = classify_exit(info);
    CU_ASSERT_FATAL(std::holds_alternative<Watchpoint>(ev));
    CU_ASSERT_EQUAL(std::get<Watchpoint>(ev).addr, 0x2008u);
    info.exit = DebugExit{0, 0};
    CU_ASSERT(std::holds_alternative<NotDebug>(classify_exit(info)));
}

void test_classify_sw_breakpoints() {
    std::vector<std::uint64_t> table = {0x1000};
    ExitInfo info;
    info.sw_breakpoint_at = [&](std::uint64_t a) { return a == table[0]; };
    // 0x0000 with USER_INSTR0: PSW is past the 2-byte instruction.
    info.user_instr0 = true;
    info.psw_addr = 0x1002;
    info.exit = SieicExit{kIcptOperationException, 0x0000, 0};
    auto ev = classify_exit(info);
    CU_ASSERT_FATAL(std::holds_alternative<SoftwareBreakpoint>(ev));
    CU_ASSERT_EQUAL(std::get<SoftwareBreakpoint>(ev).addr, 0x1000u);
    info.psw_addr = 0x3002;
    ev = classify_exit(info);
    CU_ASSERT_FATAL(std::holds_alternative<ReflectOperation>(ev));
    CU_ASSERT_EQUAL(std::get<ReflectOperation>(ev).addr, 0x3000u);
    CU_ASSERT_EQUAL(std::get<ReflectOperation>(ev).ilen, 2u);
    // Another operation exception (ipa != 0) is not ours to judge.
    info.exit = SieicExit{kIcptOperationException, 0xb2ff, 0};
    CU_ASSERT(std::holds_alternative<NotDebug>(classify_exit(info)));

    // DIAG 0x501 without USER_INSTR0: ipa 0x8324, ipb 0x05010000.
    info.user_instr0 = false;
    info.psw_addr = 0x1004;
    info.exit = SieicExit{kIcptInstruction, 0x8324, 0x05010000};
    ev = classify_exit(info);
    CU_ASSERT_FATAL(std::holds_alternative<SoftwareBreakpoint>(ev));
    CU_ASSERT_EQUAL(std::get<SoftwareBreakpoint>(ev).addr, 0x1000u);
    info.psw_addr = 0x3004;
    ev = classify_exit(info);
    CU_ASSERT_FATAL(std::holds_alternative<ReflectOperation>(ev));
    CU_ASSERT_EQUAL(std::get<ReflectOperation>(ev).ilen, 4u);
    // DIAG 0x500 (virtio notify) or 0x44: not breakpoints.
    info.exit = SieicExit{kIcptInstruction, 0x8324, 0x05000000};
    CU_ASSERT(std::holds_alternative<NotDebug>(classify_exit(info)));
    info.exit = SieicExit{kIcptInstruction, 0x8300, 0x00440000};
    CU_ASSERT(std::holds_alternative<NotDebug>(classify_exit(info)));
    // The 0x0000 intercept while DIAG is in use is not a breakpoint of ours.
    info.exit = SieicExit{kIcptOperationException, 0x0000, 0};
    CU_ASSERT(std::holds_alternative<NotDebug>(classify_exit(info)));
}

void test_program_interruption() {
    std::vector<std::uint8_t> lowcore(0x200, 0xee);
    const std::uint8_t new_psw[16] = {0x00, 0x00, 0x00, 0x01, 0x80, 0x00, 0x00, 0x00,
                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x23, 0x40};
    std::copy(std::begin(new_psw), std::end(new_psw), lowcore.begin() + 0x1d0);
    Psw current{0x0704000180000000ull, 0x3002};
    auto next = program_interruption(lowcore, current, 0x3000, 2, kPgmOperation);
    CU_ASSERT_FATAL(next.ok());
    CU_ASSERT((next.value() == Psw{0x0000000180000000ull, 0x12340}));
    const std::uint8_t ilc_code[4] = {0x00, 0x02, 0x00, 0x01};  // ILC 1 (2 bytes), code 0x0001
    CU_ASSERT(std::equal(std::begin(ilc_code), std::end(ilc_code), lowcore.begin() + 0x8c));
    const std::uint8_t old_psw[16] = {0x07, 0x04, 0x00, 0x01, 0x80, 0x00, 0x00, 0x00,
                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x02};
    CU_ASSERT(std::equal(std::begin(old_psw), std::end(old_psw), lowcore.begin() + 0x150));
    CU_ASSERT_EQUAL(lowcore[0x8b], 0xee);  // nothing else written
    CU_ASSERT_EQUAL(lowcore[0x160], 0xee);

    auto diag = program_interruption(lowcore, current, 0x3000, 4, kPgmOperation);
    CU_ASSERT_FATAL(diag.ok());
    CU_ASSERT_EQUAL(lowcore[0x8d], 0x04);   // ILC 2
    CU_ASSERT_EQUAL(lowcore[0x15f], 0x04);  // old PSW address 0x3004
    CU_ASSERT_EQUAL(program_interruption(lowcore, current, 0x3000, 3, 1).error().code, EINVAL);
    std::vector<std::uint8_t> short_lc(0x100);
    CU_ASSERT_EQUAL(program_interruption(short_lc, current, 0x3000, 2, 1).error().code, EINVAL);
}

const kvmdbg::test::TestCase kSetup[] = {{"sw breakpoint instruction", test_sw_insn},
                                         {"hw_bp[] per vCPU", test_hw_bps_per_vcpu},
                                         {"limits and refusals", test_hw_bp_limits},
                                         {"control word", test_control}};
const kvmdbg::test::TestCase kExits[] = {{"KVM_EXIT_DEBUG types", test_classify_debug_exits},
                                         {"SIEIC breakpoint intercepts", test_classify_sw_breakpoints},
                                         {"PGM_OPERATION lowcore and PSW", test_program_interruption}};
const kvmdbg::test::TestSuite kSuites[] = {{"s390x setup", kSetup}, {"s390x exits", kExits}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
