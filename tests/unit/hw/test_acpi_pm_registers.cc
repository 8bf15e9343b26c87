// The ACPI PM timer (24 bits at 3.579545 MHz, read-only) and PM1 event block
// (status reads 0, enable keeps its defined bits, reset clears it).
#include <chrono>

#include "hw-models/devices/acpi_pm1_event.h"
#include "hw-models/devices/acpi_pm_timer.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg::hw;
using std::chrono::nanoseconds;

void test_timer_counts_at_3_579545_mhz() {
    nanoseconds now{1'000'000};
    AcpiPmTimer timer([&] { return now; });
    CU_ASSERT_EQUAL(timer.read(0, 4), 0u);
    now += nanoseconds(1'000'000'000);
    CU_ASSERT_EQUAL(timer.read(0, 4), 3579545u);
    now += nanoseconds(1'000);  // 1 us: 3.58 ticks
    CU_ASSERT_EQUAL(timer.read(0, 4), 3579548u);
}

void test_timer_wraps_at_24_bits() {
    nanoseconds now{0};
    AcpiPmTimer timer([&] { return now; });
    now = nanoseconds(5'000'000'000);  // 17897725 ticks
    CU_ASSERT_EQUAL(timer.read(0, 4), 17897725u & 0xffffff);
    CU_ASSERT_EQUAL(timer.read(0, 4) >> 24, 0u);
}

void test_timer_byte_reads_and_writes() {
    nanoseconds now{0};
    AcpiPmTimer timer([&] { return now; });
    now = nanoseconds(1'000'000'000);  // 0x369e99
    CU_ASSERT_EQUAL(timer.read(0, 1), 0x99u);
    CU_ASSERT_EQUAL(timer.read(1, 1), 0x9eu);
    CU_ASSERT_EQUAL(timer.read(2, 2), 0x36u);
    CU_ASSERT_EQUAL(timer.read(4, 4), 0u);
    CU_ASSERT(timer.write(0, 0, 4) == IoOutcome::proceed);
    CU_ASSERT_EQUAL(timer.read(0, 4), 0x369e99u);
}

void test_timer_real_clock_advances() {
    AcpiPmTimer timer;
    std::uint32_t first = timer.counter();
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
    while (std::chrono::steady_clock::now() < until) {
    }
    CU_ASSERT(((timer.counter() - first) & AcpiPmTimer::kMask) >= 7000u);  // 2 ms: 7159 ticks
}

void test_pm1_status_reads_zero_and_enable_keeps_bits() {
    AcpiPm1Event evt;
    CU_ASSERT_EQUAL(evt.read(0, 2), 0u);
    CU_ASSERT(evt.write(0, 0xffff, 2) == IoOutcome::proceed);  // clear every status bit
    CU_ASSERT_EQUAL(evt.read(0, 2), 0u);
    evt.write(2, 0x0121, 2);  // PWRBTN_EN | GBL_EN | TMR_EN
    CU_ASSERT_EQUAL(evt.read(2, 2), 0x0121u);
    CU_ASSERT_EQUAL(evt.read(0, 4), 0x01210000u);
    evt.write(2, 0xffff, 2);  // reserved bits read 0
    CU_ASSERT_EQUAL(evt.read(2, 2), AcpiPm1Event::kEnableMask);
    evt.write(3, 0x00, 1);  // high byte alone
    CU_ASSERT_EQUAL(evt.read(2, 2), AcpiPm1Event::kEnableMask & 0xffu);
    evt.write(0, 0x04000000, 4);  // dword write: RTC_EN, status untouched
    CU_ASSERT_EQUAL(evt.read(2, 2), 0x0400u);
    evt.reset();
    CU_ASSERT_EQUAL(evt.enable(), 0u);
}

constexpr kvmdbg::test::TestCase kCases[] = {
    {"PM timer counts at 3.579545 MHz", test_timer_counts_at_3_579545_mhz},
    {"PM timer wraps at 24 bits", test_timer_wraps_at_24_bits},
    {"PM timer byte reads, writes ignored", test_timer_byte_reads_and_writes},
    {"PM timer on the real clock advances", test_timer_real_clock_advances},
    {"PM1 status reads 0, enable keeps its bits", test_pm1_status_reads_zero_and_enable_keeps_bits},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {{"acpi pm registers", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
