// AcpiPowerOff: SLP_EN with SLP_TYP 0 written to PM1a_CNT powers off; S3
// (SLP_TYP 1), the other sleep types and everything else are ignored.
#include "hw-models/devices/acpi_poweroff.h"

#include "tests/support/cunit_main.h"

using kvmdbg::hw::AcpiPowerOff;
using kvmdbg::hw::IoOutcome;

namespace {

void test_slp_en_word_write_powers_off() {
    int calls = 0;
    AcpiPowerOff dev([&] { ++calls; });
    CU_ASSERT(dev.write(0, 0x2000, 2) == IoOutcome::stop_machine);  // S5: SLP_TYP 0
    CU_ASSERT_EQUAL(calls, 1);
    CU_ASSERT(dev.write(0, 0x2001, 2) == IoOutcome::stop_machine);  // with SCI_EN
    CU_ASSERT_EQUAL(calls, 2);
    CU_ASSERT(dev.write(0, 0xe3ff, 2) == IoOutcome::stop_machine);  // every bit but SLP_TYP
    CU_ASSERT_EQUAL(calls, 3);
}

void test_high_byte_write_powers_off() {
    int calls = 0;
    AcpiPowerOff dev([&] { ++calls; });
    CU_ASSERT(dev.write(1, 0x20, 1) == IoOutcome::stop_machine);
    CU_ASSERT_EQUAL(calls, 1);
    CU_ASSERT(dev.write(1, 0xe3, 1) == IoOutcome::stop_machine);  // reserved bits too, SLP_TYP 0
    CU_ASSERT_EQUAL(calls, 2);
}

// QEMU suspends for SLP_TYP 1; with no suspend here the machine runs on.
void test_s3_suspend_is_ignored() {
    int calls = 0;
    AcpiPowerOff dev([&] { ++calls; });
    CU_ASSERT(dev.write(0, 0x2400, 2) == IoOutcome::proceed);  // kvm-unit-tests' s3
    CU_ASSERT(dev.write(0, 0x2401, 2) == IoOutcome::proceed);
    CU_ASSERT(dev.write(1, 0x24, 1) == IoOutcome::proceed);  // the same through the high byte
    CU_ASSERT_EQUAL(calls, 0);
    CU_ASSERT(dev.write(0, 0x2000, 2) == IoOutcome::stop_machine);  // soft-off still works after it
    CU_ASSERT_EQUAL(calls, 1);
}

// QEMU powers off for SLP_TYP 2-7 only when it is the configured S4 value;
// kvmdbg's DSDT declares none.
void test_other_sleep_types_are_ignored() {
    int calls = 0;
    AcpiPowerOff dev([&] { ++calls; });
    for (unsigned typ = 2; typ <= 7; ++typ) {
        CU_ASSERT(dev.write(0, 0x2000 | (typ << 10), 2) == IoOutcome::proceed);
        CU_ASSERT(dev.write(1, 0x20 | (typ << 2), 1) == IoOutcome::proceed);
    }
    CU_ASSERT(dev.write(0, 0x3400, 2) == IoOutcome::proceed);  // SLP_TYP 5
    CU_ASSERT(dev.write(0, 0xffff, 2) == IoOutcome::proceed);
    CU_ASSERT_EQUAL(calls, 0);
}

void test_other_writes_are_ignored() {
    int calls = 0;
    AcpiPowerOff dev([&] { ++calls; });
    CU_ASSERT(dev.write(0, 0x0000, 2) == IoOutcome::proceed);
    CU_ASSERT(dev.write(0, 0x1c01, 2) == IoOutcome::proceed);  // SLP_TYP, SCI_EN, no SLP_EN
    CU_ASSERT(dev.write(0, 0xdfff, 2) == IoOutcome::proceed);  // everything but SLP_EN
    CU_ASSERT(dev.write(0, 0x2000, 1) == IoOutcome::proceed);  // byte write: low byte only
    CU_ASSERT(dev.write(0, 0x20, 1) == IoOutcome::proceed);
    CU_ASSERT(dev.write(1, 0x1f, 1) == IoOutcome::proceed);
    CU_ASSERT(dev.write(0, 0x2000, 4) == IoOutcome::proceed);   // wider than the register
    CU_ASSERT(dev.write(1, 0x2000, 2) == IoOutcome::proceed);   // misaligned word
    CU_ASSERT(dev.write(0, 0x20000, 2) == IoOutcome::proceed);  // bit 17 is not bit 13
    CU_ASSERT_EQUAL(calls, 0);
}

void test_reads_are_zero() {
    AcpiPowerOff dev(nullptr);
    CU_ASSERT_EQUAL(dev.read(0, 2), 0u);
    CU_ASSERT_EQUAL(dev.read(1, 1), 0u);
    CU_ASSERT(dev.write(0, 0x2000, 2) == IoOutcome::stop_machine);  // no callback: still stops
}

void test_ports() {
    CU_ASSERT_EQUAL(AcpiPowerOff::kQemuPm1aCntPort, 0x604u);
    CU_ASSERT_EQUAL(AcpiPowerOff::kBochsPm1aCntPort, 0xb004u);
    CU_ASSERT_EQUAL(AcpiPowerOff::kRegisterSize, 2u);
}

constexpr kvmdbg::test::TestCase kCases[] = {
    {"SLP_EN word write powers off", test_slp_en_word_write_powers_off},
    {"high byte write powers off", test_high_byte_write_powers_off},
    {"S3 suspend is ignored", test_s3_suspend_is_ignored},
    {"other sleep types are ignored", test_other_sleep_types_are_ignored},
    {"other writes are ignored", test_other_writes_are_ignored},
    {"reads are zero", test_reads_are_zero},
    {"ports", test_ports},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {{"acpi power-off", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
