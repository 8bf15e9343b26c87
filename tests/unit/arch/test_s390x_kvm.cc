// arch/s390x/s390x_kvm.cc on an s390x host (built only there; the cross
// suite runs it under qemu-s390x): the kernel structs it fills hold the
// values at the uapi offsets in the host's (big-endian) byte order, the
// hw_bp pointer and count match, pads are zero, the program interrupt has
// KVM_S390_PROGRAM_INT with ILC flags, and the register copies round-trip.
#include <cstring>
#include <vector>

#include "arch/s390x/s390x_kvm.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::arch::s390x;

void test_guest_debug() {
    std::vector<S390HwBp> bps = {{0x1000, 0x101000, 1, kHwBp}, {0x2000, 0x102000, 100, kHwWpWrite}};
    KvmS390GuestDebug dbg;
    to_kvm(bps, debug_control(false, true, false), dbg);
    CU_ASSERT_EQUAL(dbg.dbg.control, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP);
    CU_ASSERT_EQUAL(dbg.dbg.arch.nr_hw_bp, 2u);
    CU_ASSERT_PTR_EQUAL(dbg.dbg.arch.hw_bp, dbg.hw_bp.data());
    CU_ASSERT_EQUAL(dbg.dbg.arch.pad, 0u);
    // Byte view of entry 1 as the kernel copies it in (copy_from_user).
    std::uint8_t raw[sizeof(kvm_hw_breakpoint)];
    std::memcpy(raw, &dbg.hw_bp[1], sizeof raw);
    const std::uint8_t addr[8] = {0, 0, 0, 0, 0, 0, 0x20, 0x00};
    const std::uint8_t phys[8] = {0, 0, 0, 0, 0, 0x10, 0x20, 0x00};
    const std::uint8_t len[8] = {0, 0, 0, 0, 0, 0, 0, 100};
    CU_ASSERT(std::memcmp(raw, addr, 8) == 0);
    CU_ASSERT(std::memcmp(raw + 8, phys, 8) == 0);
    CU_ASSERT(std::memcmp(raw + 16, len, 8) == 0);
    CU_ASSERT_EQUAL(raw[24], KVM_HW_WP_WRITE);
    for (unsigned i = 25; i < 32; ++i)
        CU_ASSERT_EQUAL(raw[i], 0);

    to_kvm({}, 0, dbg);
    CU_ASSERT_EQUAL(dbg.dbg.arch.nr_hw_bp, 0u);
    CU_ASSERT_PTR_NULL(dbg.dbg.arch.hw_bp);
}

void test_exits_and_irq() {
    kvm_debug_exit_arch e{};
    e.addr = 0x2008;
    e.type = KVM_HW_WP_WRITE;
    DebugExit d = from_kvm(e);
    CU_ASSERT_EQUAL(d.addr, 0x2008u);
    CU_ASSERT_EQUAL(d.type, kHwWpWrite);

    kvm_run run;
    std::memset(&run, 0, sizeof run);
    run.s390_sieic.icptcode = 0x04;
    run.s390_sieic.ipa = 0x8324;
    run.s390_sieic.ipb = 0x05010000;
    SieicExit s = sieic_from_run(run);
    CU_ASSERT_EQUAL(s.icptcode, kIcptInstruction);
    CU_ASSERT_EQUAL(s.ipa, 0x8324);
    CU_ASSERT_EQUAL(s.ipb, 0x05010000u);

    kvm_s390_irq irq = program_irq(kPgmOperation, 4);
    CU_ASSERT_EQUAL(irq.type, KVM_S390_PROGRAM_INT);
    CU_ASSERT_EQUAL(irq.u.pgm.code, 0x0001);
    CU_ASSERT_EQUAL(irq.u.pgm.flags, KVM_S390_PGM_FLAGS_ILC_VALID | KVM_S390_PGM_FLAGS_ILC_1);
    irq = program_irq(kPgmOperation, 2);
    CU_ASSERT_EQUAL(irq.u.pgm.flags, KVM_S390_PGM_FLAGS_ILC_VALID | KVM_S390_PGM_FLAGS_ILC_0);
}

void test_registers_round_trip() {
    kvm_regs regs{};
    kvm_sregs sregs{};
    kvm_fpu fpu{};
    kvm_run run;
    std::memset(&run, 0, sizeof run);
    for (unsigned i = 0; i < 16; ++i) {
        regs.gprs[i] = 0x1000 + i;
        sregs.acrs[i] = 0x20 + i;
        sregs.crs[i] = 0x300 + i;
        fpu.fprs[i] = 0x4000 + i;
    }
    fpu.fpc = 7;
    run.psw_mask = 0x0704000180000000ull;
    run.psw_addr = 0x12345;
    S390State s;
    from_kvm(regs, sregs, fpu, run, s);
    CU_ASSERT_EQUAL(s.gprs[15], 0x100fu);
    CU_ASSERT_EQUAL(s.acrs[3], 0x23u);
    CU_ASSERT_EQUAL(s.fprs[2], 0x4002u);
    CU_ASSERT_EQUAL(s.fpc, 7u);
    CU_ASSERT_EQUAL(s.psw_addr, 0x12345u);
    s.gprs[0] = 99;
    s.psw_addr = 0x54321;
    kvm_regs r2 = regs;
    kvm_sregs s2 = sregs;
    kvm_fpu f2 = fpu;
    kvm_run run2 = run;
    to_kvm(s, r2, s2, f2, run2);
    CU_ASSERT_EQUAL(r2.gprs[0], 99u);
    CU_ASSERT_EQUAL(run2.psw_addr, 0x54321u);
    CU_ASSERT_EQUAL(s2.crs[5], 0x305u);  // control registers kept
}

const kvmdbg::test::TestCase kCases[] = {{"kvm_guest_debug + hw_bp bytes", test_guest_debug},
                                         {"exit structs and program irq", test_exits_and_irq},
                                         {"registers round trip", test_registers_round_trip}};
const kvmdbg::test::TestSuite kSuites[] = {{"s390x kvm adaptor", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
