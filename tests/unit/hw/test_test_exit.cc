// TestExit: the virt machine's MMIO exit device; status (V << 1) | 1 for a
// write at offset 0 of any width, other offsets ignored, reads 0.
#include "hw-models/devices/test_exit.h"

#include <vector>

#include "tests/support/cunit_main.h"

using kvmdbg::hw::IoOutcome;
using kvmdbg::hw::TestExit;

namespace {

void test_status_values() {
    std::vector<int> seen;
    TestExit dev([&seen](int s) { seen.push_back(s); });
    CU_ASSERT(dev.write(0, 0, 4) == IoOutcome::stop_machine);
    CU_ASSERT(dev.write(0, 1, 4) == IoOutcome::stop_machine);
    CU_ASSERT(dev.write(0, 0x20, 4) == IoOutcome::stop_machine);
    CU_ASSERT(dev.write(0, 0x1ff, 1) == IoOutcome::stop_machine);                  // byte: 0xff
    CU_ASSERT(dev.write(0, 0x1234567800000002ull, 8) == IoOutcome::stop_machine);  // low 32 bits
    CU_ASSERT(dev.write(0, 0xffffffff, 4) == IoOutcome::stop_machine);
    const std::vector<int> want = {1, 3, 65, 0x1ff, 5, -1};
    CU_ASSERT(seen == want);
}

void test_other_offsets_and_reads() {
    int calls = 0;
    TestExit dev([&calls](int) { ++calls; });
    CU_ASSERT(dev.write(4, 7, 4) == IoOutcome::proceed);
    CU_ASSERT(dev.write(0xffc, 7, 4) == IoOutcome::proceed);
    CU_ASSERT_EQUAL(calls, 0);
    CU_ASSERT_EQUAL(dev.read(0, 4), 0u);
    CU_ASSERT_EQUAL(dev.read(8, 4), 0u);
}

constexpr kvmdbg::test::TestCase kCases[] = {
    {"status values", test_status_values},
    {"other offsets and reads", test_other_offsets_and_reads},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {{"test-exit", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
