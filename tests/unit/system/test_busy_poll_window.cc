// BusyPollWindow (system/busy_poll_window.h) on a real GLib main context:
// while the window is open the main loop polls without sleeping (each
// iteration returns although nothing is ready); once it closes the loop
// sleeps until a source is ready; length 0 never opens a window. And
// BusyPollPolicy's budget for a load average and CPU count.
#include "system/busy_poll_window.h"

#include <glib.h>

#include "system/busy_poll_policy.h"
#include "tests/support/cunit_main.h"

namespace {

using kvmdbg::system::BusyPollWindow;

// Iterations of the default context that started while the window was
// open; the loop runs until a timeout source fires `after_ms` from now
// (the only source that ever becomes ready).
int iterations_while_open(const BusyPollWindow& window, guint after_ms) {
    bool done = false;
    g_timeout_add(
        after_ms, [](gpointer flag) -> gboolean { return *static_cast<bool*>(flag) = true, G_SOURCE_REMOVE; }, &done);
    int iterations = 0;
    while (!done) {
        iterations += window.is_open() ? 1 : 0;
        g_main_context_iteration(nullptr, TRUE);
    }
    return iterations;
}

void test_polls_without_sleeping_while_open() {
    BusyPollWindow window(std::chrono::microseconds(20000));
    CU_ASSERT_FALSE(window.is_open());
    window.open();
    CU_ASSERT_TRUE(window.is_open());
    // Nothing is ready for 50 ms, yet iterations keep returning while the
    // window is open: the loop does not sleep. (A sleeping loop would run
    // one iteration, woken at 50 ms.)
    CU_ASSERT_TRUE(iterations_while_open(window, 50) > 1);
    CU_ASSERT_FALSE(window.is_open());
}

void test_sleeps_once_closed() {
    BusyPollWindow window(std::chrono::microseconds(1000));
    window.open();
    (void)iterations_while_open(window, 20);
    // Closed: one blocking iteration returns only when a source is ready,
    // here a 30 ms timeout, which it then dispatches.
    bool fired = false;
    g_timeout_add(
        30, [](gpointer flag) -> gboolean { return *static_cast<bool*>(flag) = true, G_SOURCE_REMOVE; }, &fired);
    while (!fired) {
        CU_ASSERT_FALSE(window.is_open());
        g_main_context_iteration(nullptr, TRUE);
    }
    CU_ASSERT_TRUE(fired);
}

void test_zero_length_never_opens() {
    BusyPollWindow window(std::chrono::microseconds(0));
    window.open();
    CU_ASSERT_FALSE(window.is_open());
    window.set_length(std::chrono::microseconds(50000));
    window.open();
    CU_ASSERT_TRUE(window.is_open());
    window.set_length(std::chrono::microseconds(0));  // closes it
    CU_ASSERT_FALSE(window.is_open());
}

// The policy: busy-poll only while the CPU time of everything but kvmdbg
// leaves a CPU free.
void test_policy() {
    using kvmdbg::system::busy_poll_budget;
    using kvmdbg::system::kBusyPollBudget;
    using us = std::chrono::microseconds;
    CU_ASSERT_TRUE(busy_poll_budget(0.6, 2, std::nullopt) == kBusyPollBudget);
    CU_ASSERT_TRUE(busy_poll_budget(1.0, 2, std::nullopt) == kBusyPollBudget);
    CU_ASSERT_TRUE(busy_poll_budget(1.01, 2, std::nullopt) == us(0));
    CU_ASSERT_TRUE(busy_poll_budget(1.9, 2, std::nullopt) == us(0));
    CU_ASSERT_TRUE(busy_poll_budget(0.0, 1, std::nullopt) == us(0));  // no CPU to spare
    CU_ASSERT_TRUE(busy_poll_budget(6.5, 8, std::nullopt) == kBusyPollBudget);
    CU_ASSERT_TRUE(busy_poll_budget(7.5, 8, std::nullopt) == us(0));
    // KVMDBG_SPIN_US wins whatever the load; negative means 0.
    CU_ASSERT_TRUE(busy_poll_budget(9.0, 2, 150) == us(150));
    CU_ASSERT_TRUE(busy_poll_budget(0.0, 16, 0) == us(0));
    CU_ASSERT_TRUE(busy_poll_budget(0.0, 16, -5) == us(0));
}

// The samples it is computed from.
void test_proc_parsers() {
    using kvmdbg::system::proc_pid_stat_ticks;
    using kvmdbg::system::proc_stat_busy_ticks;
    // user nice system idle iowait irq softirq steal guest guest_nice
    CU_ASSERT_TRUE(proc_stat_busy_ticks("cpu  100 20 30 5000 7 1 2 3 0 0\ncpu0 1 2 3 4\n") ==
                   std::optional<std::uint64_t>(100 + 20 + 30 + 1 + 2 + 3));
    CU_ASSERT_TRUE(proc_stat_busy_ticks("cpu  10 0 5 99\n") == std::optional<std::uint64_t>(15));  // old kernels
    CU_ASSERT_FALSE(proc_stat_busy_ticks("cpu0 1 2 3 4\n").has_value());
    CU_ASSERT_FALSE(proc_stat_busy_ticks("cpu  1 2\n").has_value());
    CU_ASSERT_FALSE(proc_stat_busy_ticks("").has_value());
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    CU_ASSERT_TRUE(proc_pid_stat_ticks("42 (kvmdbg) S 1 42 42 0 -1 4194560 10 0 0 0 250 75 0 0 20 0\n") ==
                   std::optional<std::uint64_t>(325));
    // A command name with spaces and parentheses: fields count from the last ')'.
    CU_ASSERT_TRUE(proc_pid_stat_ticks("7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0\n") ==
                   std::optional<std::uint64_t>(7));
    CU_ASSERT_FALSE(proc_pid_stat_ticks("7 (cut) R 1 2").has_value());
    CU_ASSERT_FALSE(proc_pid_stat_ticks("no paren").has_value());
}

const kvmdbg::test::TestCase kCases[] = {
    {"polls without sleeping while open", test_polls_without_sleeping_while_open},
    {"sleeps once closed", test_sleeps_once_closed},
    {"length 0 never opens; set_length", test_zero_length_never_opens},
    {"policy", test_policy},
    {"/proc samples", test_proc_parsers},
};
const kvmdbg::test::TestSuite kSuites[] = {{"busy_poll_window", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
