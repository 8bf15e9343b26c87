// Port92: reads give the stored value (0x02 at first: A20 on), a write
// that sets bit 0 from clear resets once and stops, other writes are stored.
#include "hw-models/devices/port92.h"

#include <string>
#include <vector>

#include "tests/support/cunit_main.h"

using kvmdbg::hw::IoOutcome;
using kvmdbg::hw::Port92;

namespace {

void test_initial_read() {
    Port92 p(nullptr);
    CU_ASSERT_EQUAL(p.read(0, 1), 0x02u);
    CU_ASSERT_EQUAL(Port92::kPort, 0x92);
}

void test_fast_reset() {
    std::vector<std::string> reasons;
    Port92 p([&](const std::string& r) { reasons.push_back(r); });
    CU_ASSERT(p.write(0, 0x03, 1) == IoOutcome::stop_machine);  // A20 kept, reset
    CU_ASSERT_EQUAL_FATAL(reasons.size(), 1u);
    CU_ASSERT_EQUAL(reasons[0], "fast reset through port 0x92 (bit 0)");
    CU_ASSERT_EQUAL(p.read(0, 1), 0x03u);
    // Bit 0 already set: no new edge, as in QEMU.
    CU_ASSERT(p.write(0, 0x03, 1) == IoOutcome::proceed);
    CU_ASSERT_EQUAL(reasons.size(), 1u);
    // Cleared, then set again: a second edge.
    CU_ASSERT(p.write(0, 0x02, 1) == IoOutcome::proceed);
    CU_ASSERT(p.write(0, 0x01, 1) == IoOutcome::stop_machine);
    CU_ASSERT_EQUAL(reasons.size(), 2u);
}

void test_a20_writes_stored() {
    int calls = 0;
    Port92 p([&](const std::string&) { ++calls; });
    CU_ASSERT(p.write(0, 0x00, 1) == IoOutcome::proceed);  // A20 off
    CU_ASSERT_EQUAL(p.read(0, 1), 0x00u);
    CU_ASSERT(p.write(0, 0x02, 1) == IoOutcome::proceed);  // A20 on
    CU_ASSERT_EQUAL(p.read(0, 1), 0x02u);
    // Only the low byte counts.
    CU_ASSERT(p.write(0, 0xff00, 2) == IoOutcome::proceed);
    CU_ASSERT_EQUAL(p.read(0, 2), 0x00u);
    CU_ASSERT_EQUAL(calls, 0);
}

void test_wide_write_with_bit0() {
    int calls = 0;
    Port92 p([&](const std::string&) { ++calls; });
    CU_ASSERT(p.write(0, 0x12345603, 4) == IoOutcome::stop_machine);
    CU_ASSERT_EQUAL(calls, 1);
    CU_ASSERT_EQUAL(p.read(0, 1), 0x03u);
}

void test_no_callback_still_stops() {
    Port92 p(nullptr);
    CU_ASSERT(p.write(0, 0x01, 1) == IoOutcome::stop_machine);
}

constexpr kvmdbg::test::TestCase kCases[] = {
    {"initial read", test_initial_read},
    {"fast reset on bit 0 edge", test_fast_reset},
    {"A20 writes stored", test_a20_writes_stored},
    {"wide write with bit 0", test_wide_write_with_bit0},
    {"no callback: still stops", test_no_callback_still_stops},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {{"port 0x92", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
