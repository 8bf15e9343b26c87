// IsaDebugExit: QEMU's exit((val << 1) | 1) status for every access size,
// stop_machine, reads of 0.
#include "hw-models/devices/isa_debug_exit.h"

#include <climits>
#include <vector>

#include "tests/support/cunit_main.h"

using kvmdbg::hw::IoOutcome;
using kvmdbg::hw::IsaDebugExit;

namespace {

void test_status_formula() {
    for (unsigned size : {1u, 2u, 4u}) {
        CU_ASSERT_EQUAL(IsaDebugExit::exit_status(0, size), 1);
        CU_ASSERT_EQUAL(IsaDebugExit::exit_status(1, size), 3);
        CU_ASSERT_EQUAL(IsaDebugExit::exit_status(0x20, size), 65);
    }
    // The value is zero-extended from the access width.
    CU_ASSERT_EQUAL(IsaDebugExit::exit_status(0xffffffff, 1), 0x1ff);
    CU_ASSERT_EQUAL(IsaDebugExit::exit_status(0xffffffff, 2), 0x1ffff);
    // 32-bit: (0xffffffff << 1) | 1 truncated to int is -1 (process status 255).
    CU_ASSERT_EQUAL(IsaDebugExit::exit_status(0xffffffff, 4), -1);
    CU_ASSERT_EQUAL(IsaDebugExit::exit_status(0xffffffff, 4) & 0xff, 255);
    CU_ASSERT_EQUAL(IsaDebugExit::exit_status(0x7fffffff, 4), -1);
    CU_ASSERT_EQUAL(IsaDebugExit::exit_status(0x3fffffff, 4), INT_MAX);
    CU_ASSERT_EQUAL(IsaDebugExit::exit_status(0x40000000, 4), INT_MIN + 1);
    // Process status the shell sees for the usual test codes.
    CU_ASSERT_EQUAL(IsaDebugExit::exit_status(0x10, 4) & 0xff, 33);
    CU_ASSERT_EQUAL(IsaDebugExit::exit_status(0x80, 1) & 0xff, 1);
    // QEMU's region is at most 4 bytes wide: upper bytes of an 8-byte value are ignored.
    CU_ASSERT_EQUAL(IsaDebugExit::exit_status(0x1'0000'0001ull, 8), 3);
}

void test_write_calls_back_and_stops() {
    std::vector<int> statuses;
    IsaDebugExit dev([&](int status) { statuses.push_back(status); });
    CU_ASSERT(dev.write(0, 0x20, 1) == IoOutcome::stop_machine);
    CU_ASSERT(dev.write(0, 0, 2) == IoOutcome::stop_machine);
    CU_ASSERT(dev.write(0, 1, 4) == IoOutcome::stop_machine);
    CU_ASSERT(dev.write(0, 0xffffffff, 4) == IoOutcome::stop_machine);
    // Any offset in the range counts (iosize 4 at 0xf4: port 0xf6 too).
    CU_ASSERT(dev.write(2, 0x20, 1) == IoOutcome::stop_machine);
    CU_ASSERT_TRUE((statuses == std::vector<int>{65, 1, 3, -1, 65}));
}

void test_state_text_shows_the_last_write() {
    IsaDebugExit dev(nullptr);
    CU_ASSERT_EQUAL(dev.state_text(), "written    = none\n");
    dev.write(0, 0x122, 1);  // a 1-byte write keeps the low byte
    CU_ASSERT_EQUAL(dev.state_text(), "written    = 0x22\nexit status = 69\n");
    dev.write(0, 0x100000022, 8);  // at most 4 bytes
    CU_ASSERT_EQUAL(dev.state_text(), "written    = 0x00000022\nexit status = 69\n");
}

void test_reads_are_zero() {
    int calls = 0;
    IsaDebugExit dev([&](int) { ++calls; });
    CU_ASSERT_EQUAL(dev.read(0, 1), 0u);
    CU_ASSERT_EQUAL(dev.read(0, 2), 0u);
    CU_ASSERT_EQUAL(dev.read(0, 4), 0u);
    CU_ASSERT_EQUAL(dev.read(3, 1), 0u);
    CU_ASSERT_EQUAL(calls, 0);
}

void test_qemu_defaults() {
    CU_ASSERT_EQUAL(IsaDebugExit::kQemuDefaultIobase, 0x501u);
    CU_ASSERT_EQUAL(IsaDebugExit::kQemuDefaultIosize, 2u);
    IsaDebugExit dev(nullptr);  // no callback: still stops
    CU_ASSERT(dev.write(0, 5, 1) == IoOutcome::stop_machine);
}

constexpr kvmdbg::test::TestCase kCases[] = {
    {"status formula", test_status_formula},
    {"write calls back and stops", test_write_calls_back_and_stops},
    {"reads are zero", test_reads_are_zero},
    {"state text: the last write", test_state_text_shows_the_last_write},
    {"QEMU defaults, no callback", test_qemu_defaults},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {{"isa-debug-exit", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
