// BusyPollWindow: lets the GLib main loop poll without sleeping for a
// short while after debugger activity.
//
// Why: on the nested hosts kvmdbg is developed on, waking a thread that
// sleeps in poll() on an idle CPU costs 25-50 us (the CPU halted; the
// hypervisor must deliver an interrupt to wake it), several times a
// KVM_RUN single step (docs/performance.md). A debugger talks in bursts:
// the next packet, or the stop of a step, arrives within a round trip of
// the last one. While a window is open the main loop polls its sources
// with a zero timeout instead of sleeping, so the next packet or stop is
// seen without a wake-up; once the window closes it sleeps again, so a
// guest that runs with nobody talking costs no CPU (row 9 of the table).
//
// How: a GSource whose prepare() asks for a zero poll timeout until the
// window closes; it never dispatches. open() (re)starts the window.
//
// Threads: main thread only (the default GMainContext's owner).
#pragma once

#include <glib.h>

#include <chrono>

namespace kvmdbg::system {

class BusyPollWindow {
public:
    /// Attaches to the default main context. `length` 0: open() does nothing.
    explicit BusyPollWindow(std::chrono::microseconds length);
    ~BusyPollWindow();
    BusyPollWindow(const BusyPollWindow&) = delete;
    BusyPollWindow& operator=(const BusyPollWindow&) = delete;

    /// Polls without sleeping from now until `length` has passed.
    void open();
    /// Changes the length of the next windows (0: none); closes an open one.
    void set_length(std::chrono::microseconds length);
    /// Whether the window is open now.
    bool is_open() const;

private:
    struct Source {
        GSource base;
        BusyPollWindow* self;
    };
    static gboolean prepare(GSource* source, gint* timeout);
    static gboolean check(GSource* source);
    static gboolean dispatch(GSource* source, GSourceFunc callback, gpointer data);

    static GSourceFuncs funcs_;
    gint64 length_us_;
    gint64 until_us_ = 0;        // g_get_monotonic_time() at which the window closes
    GSource* source_ = nullptr;  // attached for the window's lifetime
};

}  // namespace kvmdbg::system
