// The address helpers the ppc, s390x and riscv64 guest-debug hooks use
// without a page walker: e500's KVM_TRANSLATE request (arch/ppc/
// booke_translate.h), s390x prefixing with DAT off (arch/s390x/prefixing.h)
// and riscv64's Bare satp (arch/riscv64/bare_translation.h).
#include "arch/ppc/booke_translate.h"
#include "arch/riscv64/bare_translation.h"
#include "arch/s390x/prefixing.h"
#include "tests/support/cunit_main.h"

namespace {

namespace ppc = kvmdbg::arch::ppc;
namespace s390x = kvmdbg::arch::s390x;
namespace rv = kvmdbg::arch::riscv64;

void test_ppc_translate_request() {
    // EA in bits 0-31, PID in 32-39, AS = MSR[DS] in bit 40.
    CU_ASSERT_EQUAL(ppc::translate_request(0xc0001234, 0, 0), 0xc0001234ull);
    CU_ASSERT_EQUAL(ppc::translate_request(0x10000000, 5, ppc::kMsrDs), 0x10510000000ull);
    // MSR[IS] alone does not select AS 1 for a data access; PID keeps 8 bits.
    CU_ASSERT_EQUAL(ppc::translate_request(0x1000, 0x1ff, ppc::kMsrIs), 0xff00001000ull);
    // A 64-bit value keeps only the 32-bit effective address.
    CU_ASSERT_EQUAL(ppc::translate_request(0xffffffff00000010ull, 0, 0), 0x10ull);
}

void test_s390x_prefixing() {
    const std::uint64_t prefix = 0x10000;
    CU_ASSERT_EQUAL(s390x::real_to_absolute(0x0, prefix), 0x10000u);
    CU_ASSERT_EQUAL(s390x::real_to_absolute(0x1fff, prefix), 0x11fffu);
    CU_ASSERT_EQUAL(s390x::real_to_absolute(0x10000, prefix), 0x0u);
    CU_ASSERT_EQUAL(s390x::real_to_absolute(0x11fff, prefix), 0x1fffu);
    CU_ASSERT_EQUAL(s390x::real_to_absolute(0x12000, prefix), 0x12000u);
    CU_ASSERT_EQUAL(s390x::real_to_absolute(0x2000, prefix), 0x2000u);
    // Prefix 0: the identity. Bits outside the prefix field are ignored.
    CU_ASSERT_EQUAL(s390x::real_to_absolute(0x1000, 0), 0x1000u);
    CU_ASSERT_EQUAL(s390x::real_to_absolute(0x1000, 0x10fff), 0x11000u);
}

void test_s390x_dat_refused() {
    auto off = s390x::absolute_without_dat(0x0000000180000000ull, 0x20000, 0x100);
    CU_ASSERT_FATAL(off.ok());
    CU_ASSERT_EQUAL(*off, 0x20100u);
    auto on = s390x::absolute_without_dat(0x0400000180000000ull, 0x20000, 0x100);
    CU_ASSERT_FATAL(!on.ok());
    CU_ASSERT_EQUAL(on.error().code, ENOTSUP);
}

void test_riscv64_bare() {
    auto bare = rv::physical_without_paging(0, 0x80200000);
    CU_ASSERT_FATAL(bare.ok());
    CU_ASSERT_EQUAL(*bare, 0x80200000u);
    auto sv39 = rv::physical_without_paging(8ull << 60 | 0x80000, 0xffffffff80000000ull);
    CU_ASSERT_FATAL(!sv39.ok());
    CU_ASSERT_EQUAL(sv39.error().code, ENOTSUP);
    CU_ASSERT(sv39.error().message.find("Sv39") != std::string::npos);
}

const kvmdbg::test::TestCase kCases[] = {{"e500 KVM_TRANSLATE request", test_ppc_translate_request},
                                         {"s390x prefixing", test_s390x_prefixing},
                                         {"s390x DAT on refused", test_s390x_dat_refused},
                                         {"riscv64 Bare satp", test_riscv64_bare}};
const kvmdbg::test::TestSuite kSuites[] = {{"cross-ISA addresses", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
