// I8042Reset: status 0x1c with the input buffer empty, data reads of 0,
// the pulse-reset commands (0xfe and the other 0xf0..0xfe with bit 0 clear)
// calling back once and stopping, everything else ignored.
#include "hw-models/devices/i8042_reset.h"

#include <string>
#include <vector>

#include "tests/support/cunit_main.h"

using kvmdbg::hw::I8042Reset;
using kvmdbg::hw::IoOutcome;

namespace {

void test_status_and_data_reads() {
    int calls = 0;
    I8042Reset cmd(I8042Reset::Port::command, [&](const std::string&) { ++calls; });
    I8042Reset data(I8042Reset::Port::data, [&](const std::string&) { ++calls; });
    for (unsigned size : {1u, 2u, 4u}) {
        CU_ASSERT_EQUAL(cmd.read(0, size), 0x1cu);
        CU_ASSERT_EQUAL(data.read(0, size), 0u);
    }
    // What reset loops test: input buffer (bit 1) and output buffer (bit 0) empty.
    CU_ASSERT_EQUAL(cmd.read(0, 1) & 0x03, 0u);
    CU_ASSERT_EQUAL(I8042Reset::kStatus, 0x1c);
    CU_ASSERT_EQUAL(I8042Reset::kDataPort, 0x60);
    CU_ASSERT_EQUAL(I8042Reset::kCommandPort, 0x64);
    CU_ASSERT_EQUAL(calls, 0);
}

void test_pulse_reset_line() {
    std::vector<std::string> reasons;
    I8042Reset cmd(I8042Reset::Port::command, [&](const std::string& r) { reasons.push_back(r); });
    CU_ASSERT(cmd.write(0, 0xfe, 1) == IoOutcome::stop_machine);
    CU_ASSERT_EQUAL_FATAL(reasons.size(), 1u);
    CU_ASSERT_EQUAL(reasons[0], "keyboard controller command 0xfe on port 0x64");
    // Only the low byte counts, whatever the access width.
    CU_ASSERT(cmd.write(0, 0xabcd00fe, 4) == IoOutcome::stop_machine);
    CU_ASSERT(cmd.write(0, 0x12fe, 2) == IoOutcome::stop_machine);
    CU_ASSERT_EQUAL(reasons.size(), 3u);
}

void test_reset_command_set() {
    // QEMU pckbd: 0xf0..0xff pulse output bits 3..0 where the low nibble
    // has a 0; bit 0 is the reset line.
    for (unsigned c = 0; c < 0x100; ++c) {
        bool want = c >= 0xf0 && (c & 1) == 0;
        CU_ASSERT_EQUAL(I8042Reset::is_reset_command(static_cast<std::uint8_t>(c)), want);
    }
    CU_ASSERT_TRUE(I8042Reset::is_reset_command(I8042Reset::kPulseResetCommand));
    std::vector<std::string> reasons;
    I8042Reset cmd(I8042Reset::Port::command, [&](const std::string& r) { reasons.push_back(r); });
    CU_ASSERT(cmd.write(0, 0xf0, 1) == IoOutcome::stop_machine);
    CU_ASSERT_EQUAL_FATAL(reasons.size(), 1u);
    CU_ASSERT_EQUAL(reasons[0], "keyboard controller command 0xf0 on port 0x64");
}

void test_other_writes_ignored() {
    int calls = 0;
    I8042Reset cmd(I8042Reset::Port::command, [&](const std::string&) { ++calls; });
    I8042Reset data(I8042Reset::Port::data, [&](const std::string&) { ++calls; });
    // Ordinary commands (read/write command byte, disable/enable keyboard,
    // self-test, pulse with the reset bit set = no-op).
    for (unsigned c : {0x20u, 0x60u, 0xadu, 0xaeu, 0xaau, 0xd1u, 0xffu, 0xf1u, 0x00u}) {
        CU_ASSERT(cmd.write(0, c, 1) == IoOutcome::proceed);
    }
    // 0xfe to the data port is a keyboard byte, not a controller command.
    CU_ASSERT(data.write(0, 0xfe, 1) == IoOutcome::proceed);
    CU_ASSERT(data.write(0, 0xf0, 1) == IoOutcome::proceed);
    // Status stays the same after commands.
    CU_ASSERT_EQUAL(cmd.read(0, 1), 0x1cu);
    CU_ASSERT_EQUAL(calls, 0);
}

void test_no_callback_still_stops() {
    I8042Reset cmd(I8042Reset::Port::command, nullptr);
    CU_ASSERT(cmd.write(0, 0xfe, 1) == IoOutcome::stop_machine);
}

constexpr kvmdbg::test::TestCase kCases[] = {
    {"status and data reads", test_status_and_data_reads},
    {"0xfe pulses the reset line", test_pulse_reset_line},
    {"reset command set", test_reset_command_set},
    {"other writes ignored", test_other_writes_ignored},
    {"no callback: still stops", test_no_callback_still_stops},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {{"i8042 reset", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
