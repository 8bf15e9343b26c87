// The arm64 ONE_REG register table (arch/arm64/regs_kvm.h) against the ids
// KVM documents (Documentation/virt/kvm/api.rst "ARM64 registers": core
// registers 0x6030 0000 0010 <index>, FP/SIMD 0x6040 ... (128-bit) and
// 0x6020 ... (32-bit), system registers 0x6030 0000 0013 <op0:op1:CRn:CRm:op2>)
// and the values QEMU and kvmtool use for the same registers. Built only for
// aarch64 hosts (the table is made from the arm64 <asm/kvm.h>); in a cross
// build it runs under qemu-user.
#include <cstddef>
#include <cstring>
#include <set>
#include <string>

#include "arch/arm64/regs_kvm.h"
#include "tests/support/cunit_main.h"

namespace {

namespace a64 = kvmdbg::arch::arm64;

const a64::OneRegField* find(const char* name) {
    for (const auto& f : a64::arm64_one_regs()) {
        if (std::strcmp(f.name, name) == 0) {
            return &f;
        }
    }
    return nullptr;
}

std::uint64_t id_of(const char* name) {
    const auto* f = find(name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    return f->id;
}

void test_core_ids() {
    CU_ASSERT_EQUAL(id_of("x0"), 0x6030000000100000ull);
    CU_ASSERT_EQUAL(id_of("x30"), 0x603000000010003cull);
    CU_ASSERT_EQUAL(id_of("sp_el0"), 0x603000000010003eull);
    CU_ASSERT_EQUAL(id_of("pc"), 0x6030000000100040ull);
    CU_ASSERT_EQUAL(id_of("pstate"), 0x6030000000100042ull);
    CU_ASSERT_EQUAL(id_of("sp_el1"), 0x6030000000100044ull);
    CU_ASSERT_EQUAL(id_of("elr_el1"), 0x6030000000100046ull);
    CU_ASSERT_EQUAL(id_of("spsr_el1"), 0x6030000000100048ull);
    CU_ASSERT_EQUAL(a64::reg_id::pc(), id_of("pc"));
    CU_ASSERT_EQUAL(a64::reg_id::pstate(), id_of("pstate"));
    CU_ASSERT_EQUAL(a64::reg_id::elr_el1(), id_of("elr_el1"));
    CU_ASSERT_EQUAL(a64::reg_id::spsr_el1(), id_of("spsr_el1"));
}

void test_fp_ids() {
    // vregs are __uint128_t, 16-byte aligned after spsr[5]: V0 at index 0x54.
    CU_ASSERT_EQUAL(id_of("v0"), 0x6040000000100054ull);
    CU_ASSERT_EQUAL(id_of("v31"), 0x60400000001000d0ull);
    CU_ASSERT_EQUAL(id_of("fpsr"), 0x60200000001000d4ull);
    CU_ASSERT_EQUAL(id_of("fpcr"), 0x60200000001000d5ull);
}

void test_sysreg_ids() {
    CU_ASSERT_EQUAL(id_of("sctlr_el1"), 0x603000000013c080ull);
    CU_ASSERT_EQUAL(id_of("tcr_el1"), 0x603000000013c102ull);
    CU_ASSERT_EQUAL(id_of("ttbr0_el1"), 0x603000000013c100ull);
    CU_ASSERT_EQUAL(id_of("ttbr1_el1"), 0x603000000013c101ull);
    CU_ASSERT_EQUAL(id_of("vbar_el1"), 0x603000000013c600ull);
    CU_ASSERT_EQUAL(id_of("esr_el1"), 0x603000000013c290ull);
    CU_ASSERT_EQUAL(id_of("far_el1"), 0x603000000013c300ull);
    CU_ASSERT_EQUAL(id_of("mdscr_el1"), 0x6030000000138012ull);
    CU_ASSERT_EQUAL(id_of("mair_el1"), 0x603000000013c510ull);
    CU_ASSERT_EQUAL(a64::reg_id::esr_el1(), id_of("esr_el1"));
    CU_ASSERT_EQUAL(a64::reg_id::far_el1(), id_of("far_el1"));
    CU_ASSERT_EQUAL(a64::reg_id::vbar_el1(), id_of("vbar_el1"));
    CU_ASSERT_EQUAL(a64::reg_id::sctlr_el1(), id_of("sctlr_el1"));
    CU_ASSERT_EQUAL(a64::reg_id::id_aa64mmfr1_el1(), 0x603000000013c039ull);
    CU_ASSERT_EQUAL(a64::reg_id::id_aa64pfr1_el1(), 0x603000000013c021ull);
}

// Every byte of KvmdbgArm64State is covered exactly once, by a field whose
// size matches the id's size field (bits 55:52: 2 = 4 bytes, 3 = 8, 4 = 16).
void test_table_covers_state() {
    std::set<std::uint64_t> ids;
    std::size_t covered[sizeof(KvmdbgArm64State)] = {};
    for (const auto& f : a64::arm64_one_regs()) {
        CU_ASSERT(ids.insert(f.id).second);
        CU_ASSERT_EQUAL(std::size_t{1} << ((f.id >> 52) & 0xf), f.size);
        CU_ASSERT_FATAL(f.offset + f.size <= sizeof(KvmdbgArm64State));
        for (std::size_t b = 0; b < f.size; ++b) {
            ++covered[f.offset + b];
        }
    }
    CU_ASSERT_EQUAL(a64::arm64_one_regs().size(), 80u);
    std::size_t once = 0;
    for (std::size_t n : covered) {
        CU_ASSERT(n <= 1);
        once += n == 1 ? 1 : 0;
    }
    // Everything but padding: 31+4 u64, 32 x 16, fpsr+fpcr, 2 core EL1 + 9 sysregs.
    CU_ASSERT_EQUAL(once, (31 + 4) * 8 + 32 * 16 + 2 * 4 + (2 + 9) * 8);
}

const kvmdbg::test::TestCase kCases[] = {
    {"core register ids", test_core_ids},
    {"FP/SIMD register ids", test_fp_ids},
    {"system register ids", test_sysreg_ids},
    {"the table covers the state once", test_table_covers_state},
};

const kvmdbg::test::TestSuite kSuites[] = {
    {"arm64_regs_kvm", kCases},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
