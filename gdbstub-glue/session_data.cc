// Registers, memory, breakpoints and threads (gdb manual, "Packets";
// qC/qfThreadInfo/qThreadExtraInfo/qAttached from "General Query Packets").
#include <algorithm>

#include "gdbstub-glue/binary_escape.h"
#include "gdbstub-glue/gdb_session.h"
#include "gdbstub-glue/hex.h"
#include "gdbstub-glue/reply_encoder.h"

namespace kvmdbg::gdb {

namespace {

const char* run_state_name(ThreadRunState s) {
    switch (s) {
    case ThreadRunState::running: return "running";
    case ThreadRunState::halted: return "halted";
    case ThreadRunState::paused: return "paused";
    }
    return "running";
}

}  // namespace

void GdbSession::handle(const QueryHaltReason&) {
    if (last_stop_reply_.empty()) {
        // Nothing reported yet (just connected): QEMU answers SIGTRAP.
        StopEvent ev;
        ev.thread = general_thread();
        ev.reason = StopReason::signal;
        ev.signal = kSigTrap;
        last_stop_reply_ = stop_reply(ev);
    }
    send(last_stop_reply_);
}

void GdbSession::handle(const ReadRegisters&) {
    auto regs = registers_of(general_thread());
    if (!regs) {
        send_error(regs.error());
        return;
    }
    send(encode_hex(*regs));
}

void GdbSession::handle(const WriteRegisters& r) {
    if (r.data.size() != target_.description().registers_size()) {
        send(error_reply(EINVAL));
        return;
    }
    forget_registers();
    Status st = target_.write_registers(general_thread(), r.data);
    st ? send("OK") : send_error(st.error());
}

void GdbSession::handle(const ReadRegister& r) {
    if (r.regnum >= target_.description().register_count()) {
        send(error_reply(EINVAL));
        return;
    }
    auto value = register_of(general_thread(), static_cast<unsigned>(r.regnum));
    if (!value) {
        send_error(value.error());
        return;
    }
    send(encode_hex(*value));
}

void GdbSession::handle(const WriteRegister& r) {
    const TargetDescription& desc = target_.description();
    if (r.regnum >= desc.register_count() || r.value.size() != desc.register_size(r.regnum)) {
        send(error_reply(EINVAL));
        return;
    }
    forget_registers();
    Status st = target_.write_register(general_thread(), static_cast<unsigned>(r.regnum), r.value);
    st ? send("OK") : send_error(st.error());
}

void GdbSession::handle(const ReadMemory& r) {
    // Reads may be partial (gdb manual, `m`): cap the length instead of
    // refusing, and never let addr + length wrap.
    std::uint64_t length = std::min<std::uint64_t>(r.length, options_.advertised_packet_size / 2);
    if (r.addr != 0) {
        length = std::min<std::uint64_t>(length, 0 - r.addr);
    }
    if (length == 0) {
        send(r.binary ? "b" : "");
        return;
    }
    // The bytes and the reply are up to 64 and 128 KiB: fresh buffers per
    // packet cost more than the encoding (each new block of that size is
    // mapped and page-faulted in again after glibc trims the heap). These
    // keep their capacity; the session lives on one thread.
    thread_local std::vector<std::uint8_t> buf;
    thread_local std::string reply;
    buf.resize(length);
    auto n = target_.read_memory(general_thread(), r.addr, buf, space_);
    if (!n) {
        send_error(n.error());
        return;
    }
    std::span<const std::uint8_t> bytes(buf.data(), std::min<std::size_t>(*n, buf.size()));
    reply.clear();
    if (r.binary) {
        reply += 'b';
        append_escaped_binary(reply, bytes);
    } else {
        append_hex(reply, bytes);
    }
    send(reply);
}

void GdbSession::handle(const WriteMemory& w) {
    if (w.data.empty()) {
        send("OK");  // gdb probes X support with a zero-length write
        return;
    }
    Status st = target_.write_memory(general_thread(), w.addr, w.data, space_);
    st ? send("OK") : send_error(st.error());
}

void GdbSession::handle(const InsertBreakpoint& z) {
    Breakpoint bp{z.type, z.addr, z.kind};
    if (!breakpoints_.contains(bp)) {
        Status st = target_.insert_breakpoint(bp);
        if (!st) {
            int code = st.error().code;
            // An unsupported type gets the empty reply: gdb then falls back
            // (software watchpoints, or reports it cannot).
            code == ENOTSUP || code == EOPNOTSUPP ? send("") : send_error(st.error());
            return;
        }
    }
    breakpoints_.set(bp, z.conditions);  // gdb resends Z0 to replace conditions
    publish_conditions();
    send("OK");
}

void GdbSession::handle(const RemoveBreakpoint& z) {
    Breakpoint bp{z.type, z.addr, z.kind};
    if (!breakpoints_.contains(bp)) {
        send("OK");  // idempotent: a duplicated z is not an error
        return;
    }
    Status st = target_.remove_breakpoint(bp);
    if (!st) {
        send_error(st.error());
        return;
    }
    breakpoints_.erase(bp);
    publish_conditions();
    send("OK");
}

void GdbSession::handle(const SetThread& h) {
    if (h.thread != kAnyThread && h.thread != kAllThreads && !valid_thread(h.thread)) {
        send(error_reply(EINVAL));
        return;
    }
    (h.op == SetThread::Op::general ? g_thread_ : c_thread_) = h.thread;
    send("OK");
}

void GdbSession::handle(const ThreadAlive& t) { valid_thread(t.thread) ? send("OK") : send(error_reply(EINVAL)); }

void GdbSession::handle(const QueryCurrentThread&) { send("QC" + format_hex(general_thread())); }

void GdbSession::handle(const QueryThreadList& q) {
    if (q.first) {
        // One snapshot per listing, so qsThreadInfo continues the same list.
        thread_list_.clear();
        for (unsigned t = 1; t <= target_.thread_count(); ++t) {
            thread_list_.push_back(t);
        }
        thread_list_pos_ = 0;
    }
    std::size_t pos = std::min(thread_list_pos_, thread_list_.size());
    std::size_t count = std::min(options_.threads_per_reply, thread_list_.size() - pos);
    thread_list_pos_ = pos + count;
    send(encode_thread_list(std::span(thread_list_).subspan(pos, count)));
}

void GdbSession::handle(const QueryThreadExtraInfo& q) {
    if (!valid_thread(q.thread)) {
        send(error_reply(EINVAL));
        return;
    }
    send(encode_hex_text(thread_extra_info(q.thread)));
}

std::string GdbSession::thread_extra_info(ThreadId thread) const {
    // QEMU's wording, with the 0-based cpu index.
    return "CPU#" + std::to_string(thread - 1) + " [" + run_state_name(target_.thread_state(thread)) + "]";
}

void GdbSession::handle(const QueryAttached&) {
    send("1");  // attached to an existing machine: detach, not kill, on quit
}

}  // namespace kvmdbg::gdb
