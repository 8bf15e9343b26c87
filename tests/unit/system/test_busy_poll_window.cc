// BusyPollWindow (system/busy_poll_window.h) on a real GLib main context:
// while the window is open the main loop polls without sleeping (each
// iteration returns although nothing is ready); once it closes the loop
// sleeps until a source is ready; length 0 never opens a window.
#include "system/busy_poll_window.h"

#include <glib.h>

#include "tests/support/cunit_main.h"

namespace {

using kvmdbg::system::BusyPollWindow;

// Iterations of the default context that started while the window was
// open; the loop runs until a timeout source fires `after_ms` from now
// (the only source that ever becomes ready).
int iterations_while_open(const BusyPollWindow& window, guint after_ms) {
    bool done = false;
    g_timeout_add(after_ms, [](gpointer flag) -> gboolean { return *static_cast<bool*>(flag) = true, G_SOURCE_REMOVE; },
                  &done);
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
    g_timeout_add(30, [](gpointer flag) -> gboolean { return *static_cast<bool*>(flag) = true, G_SOURCE_REMOVE; },
                  &fired);
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
}

const kvmdbg::test::TestCase kCases[] = {
    {"polls without sleeping while open", test_polls_without_sleeping_while_open},
    {"sleeps once closed", test_sleeps_once_closed},
    {"length 0 never opens", test_zero_length_never_opens},
};
const kvmdbg::test::TestSuite kSuites[] = {{"busy_poll_window", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
