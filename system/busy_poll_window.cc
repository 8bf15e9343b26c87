#include "system/busy_poll_window.h"

namespace kvmdbg::system {

GSourceFuncs BusyPollWindow::funcs_ = {
    BusyPollWindow::prepare, BusyPollWindow::check, BusyPollWindow::dispatch, nullptr, nullptr, nullptr,
};

BusyPollWindow::BusyPollWindow(std::chrono::microseconds length) : length_us_(length.count()) {
    source_ = g_source_new(&funcs_, sizeof(Source));
    reinterpret_cast<Source*>(source_)->self = this;
    g_source_set_name(source_, "kvmdbg busy-poll window");
    g_source_attach(source_, nullptr);
}

BusyPollWindow::~BusyPollWindow() {
    if (source_ != nullptr) {
        g_source_destroy(source_);
        g_source_unref(source_);
    }
}

void BusyPollWindow::open() { until_us_ = length_us_ > 0 ? g_get_monotonic_time() + length_us_ : 0; }

void BusyPollWindow::set_length(std::chrono::microseconds length) {
    length_us_ = length.count();
    until_us_ = 0;
}

bool BusyPollWindow::is_open() const { return until_us_ != 0 && g_get_monotonic_time() < until_us_; }

gboolean BusyPollWindow::prepare(GSource* source, gint* timeout) {
    const BusyPollWindow* self = reinterpret_cast<Source*>(source)->self;
    *timeout = self->is_open() ? 0 : -1;
    return FALSE;
}

gboolean BusyPollWindow::check(GSource*) { return FALSE; }

gboolean BusyPollWindow::dispatch(GSource*, GSourceFunc, gpointer) { return G_SOURCE_CONTINUE; }

}  // namespace kvmdbg::system
