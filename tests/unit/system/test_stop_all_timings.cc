// StopAllTimings (system/stop_all_timings.h), the figures of `monitor info
// stop-all`: the summary of known durations (mean, median, 90th percentile,
// slowest, in microseconds), of only the last N, the oldest dropped past
// the capacity while the total goes on counting, and the line before any
// all-stop.
#include "system/stop_all_timings.h"

#include <chrono>
#include <string>

#include "tests/support/cunit_main.h"

namespace {

using kvmdbg::system::StopAllTimings;
using std::chrono::microseconds;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void test_nothing_measured_yet() {
    StopAllTimings t;
    CU_ASSERT_EQUAL(t.total(), 0u);
    CU_ASSERT_EQUAL(t.report(), "stop-all: no all-stop measured yet\n");
}

void test_summary_of_ten_durations() {
    StopAllTimings t;
    for (int us = 100; us <= 1000; us += 100) {
        t.record(microseconds(us));
    }
    const std::string r = t.report();
    CU_ASSERT(has(r, "last 10 of 10:"));
    CU_ASSERT(has(r, "mean 550.0 us"));
    CU_ASSERT(has(r, "median 600.0 us"));
    CU_ASSERT(has(r, "90th percentile 1000.0 us"));
    CU_ASSERT(has(r, "slowest 1000.0 us"));
}

void test_only_the_last_n() {
    StopAllTimings t;
    t.record(microseconds(5000));
    t.record(microseconds(10));
    t.record(microseconds(30));
    const std::string r = t.report(2);
    CU_ASSERT(has(r, "last 2 of 3:"));
    CU_ASSERT(has(r, "mean 20.0 us"));
    CU_ASSERT(has(r, "slowest 30.0 us"));
    CU_ASSERT(has(t.report(100), "last 3 of 3:"));
}

void test_oldest_dropped_past_capacity() {
    StopAllTimings t;
    t.record(microseconds(1000000));
    for (std::size_t i = 0; i < StopAllTimings::kCapacity; ++i) {
        t.record(microseconds(7));
    }
    CU_ASSERT_EQUAL(t.total(), StopAllTimings::kCapacity + 1);
    const std::string r = t.report();
    CU_ASSERT(has(r, "last 4096 of 4097:"));
    CU_ASSERT(has(r, "slowest 7.0 us"));
}

const kvmdbg::test::TestCase kCases[] = {
    {"nothing measured yet", test_nothing_measured_yet},
    {"summary of ten durations", test_summary_of_ten_durations},
    {"only the last N", test_only_the_last_n},
    {"oldest dropped past capacity", test_oldest_dropped_past_capacity},
};

const kvmdbg::test::TestSuite kSuites[] = {{"stop-all timings", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
