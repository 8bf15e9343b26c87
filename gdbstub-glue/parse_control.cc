// H, T, D (gdb manual, "Packets").
#include "gdbstub-glue/parse_util.h"

namespace kvmdbg::gdb::detail {

std::optional<Request> parse_set_thread(std::string_view text) {
    if (text.empty()) {
        return malformed("H: missing operation");
    }
    SetThread st;
    switch (text.front()) {
    case 'g': st.op = SetThread::Op::general; break;
    case 'c': st.op = SetThread::Op::continue_; break;
    default: return malformed("H: unknown operation");
    }
    auto thread = parse_thread_id(text.substr(1));
    if (!thread) {
        return malformed("H: bad thread id");
    }
    st.thread = *thread;
    return Request{st};
}

std::optional<Request> parse_thread_alive(std::string_view text) {
    auto thread = parse_thread_id(text);
    if (!thread) {
        return malformed("T: bad thread id");
    }
    return Request{ThreadAlive{*thread}};
}

std::optional<Request> parse_detach(std::string_view text) {
    // "D" or "D;pid" (multiprocess); the pid is not checked: kvmdbg has one.
    if (!text.empty() && text.front() != ';') {
        return malformed("D: unexpected argument");
    }
    return Request{Detach{}};
}

}  // namespace kvmdbg::gdb::detail
