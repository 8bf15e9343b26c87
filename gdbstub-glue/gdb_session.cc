// Byte stream, acks and dispatch. Request handlers live in
// session_data.cc, session_queries.cc and session_resume.cc.
#include "gdbstub-glue/gdb_session.h"

#include <variant>

#include "gdbstub-glue/reply_encoder.h"
#include "gdbstub-glue/request_parser.h"

namespace kvmdbg::gdb {

GdbSession::GdbSession(DebugTarget& target, ConditionEvaluator& conditions, SessionOptions options)
    : target_(target), conditions_(conditions), options_(options), framer_(options.max_packet_size) {
    // QEMU steps with interrupts and timers masked by default ("like an ICE
    // HW step"); kvmdbg has no separate timer control, so ENABLE|NOIRQ.
    step_flags_ = (step_flags::kEnable | step_flags::kNoIrq) & target_.supported_step_flags();
}

void GdbSession::on_connect() {
    target_.stop_all(last_stop_thread_);
    state_ = SessionState::stopped;
}

bool GdbSession::finished() const {
    return state_ == SessionState::detached || state_ == SessionState::killed || state_ == SessionState::exited;
}

std::string GdbSession::take_output() {
    std::string out;
    out.swap(output_);
    return out;
}

void GdbSession::receive(std::string_view bytes) {
    for (char c : bytes) {
        if (finished()) {
            return;
        }
        if (auto event = framer_.push(c)) {
            on_frame(std::move(*event));
        }
    }
}

void GdbSession::on_frame(FrameEvent&& event) {
    switch (event.kind) {
    case FrameEvent::Kind::packet:
        if (ack_mode_) {
            output_ += '+';
        }
        on_packet(event.payload);
        break;
    case FrameEvent::Kind::bad_checksum:
        if (ack_mode_) {
            output_ += '-';  // gdb resends
        } else {
            send(error_reply(EINVAL));  // nobody resends now: say it failed
        }
        break;
    case FrameEvent::Kind::oversized:
        if (ack_mode_) {
            output_ += '+';  // received; a resend would be as long
        }
        send(error_reply(EINVAL));
        break;
    case FrameEvent::Kind::ack: break;
    case FrameEvent::Kind::nack:
        if (ack_mode_ && !last_packet_.empty()) {
            output_ += last_packet_;
        }
        break;
    case FrameEvent::Kind::interrupt: on_interrupt(); break;
    }
}

void GdbSession::on_packet(std::string_view payload) {
    auto request = parse_request(payload);
    if (!request) {
        send("");
        return;
    }
    std::visit([this](const auto& r) { handle(r); }, *request);
}

void GdbSession::send(std::string_view payload) {
    if (!ack_mode_) {
        // Nobody can nack any more: frame straight into the output, with
        // no copy kept for a resend (m/x replies are up to 128 KiB).
        std::string framed = frame_packet(payload);
        if (output_.empty()) {
            output_.swap(framed);
        } else {
            output_.append(framed);
        }
        return;
    }
    last_packet_ = frame_packet(payload);
    output_ += last_packet_;
}

Result<std::vector<std::uint8_t>> GdbSession::registers_of(ThreadId thread) {
    if (auto it = register_cache_.find(thread); it != register_cache_.end()) {
        return it->second;
    }
    auto regs = target_.read_registers(thread);
    if (regs && regs->size() == target_.description().registers_size()) {
        register_cache_[thread] = *regs;
    }
    return regs;
}

Result<std::vector<std::uint8_t>> GdbSession::register_of(ThreadId thread, unsigned regnum) {
    const TargetDescription& desc = target_.description();
    if (regnum < desc.register_count()) {
        if (auto regs = registers_of(thread)) {
            if (auto one = desc.register_in(*regs, regnum)) {
                return std::move(*one);
            }
        }
    }
    return target_.read_register(thread, regnum);
}

void GdbSession::send_error(const Error& error) { send(error_reply(error.code)); }

bool GdbSession::valid_thread(ThreadId thread) const {
    return thread >= 1 && thread <= static_cast<ThreadId>(target_.thread_count());
}

ThreadId GdbSession::general_thread() const { return valid_thread(g_thread_) ? g_thread_ : last_stop_thread_; }

ThreadId GdbSession::selected_continue_thread() const { return valid_thread(c_thread_) ? c_thread_ : general_thread(); }

void GdbSession::handle(const MalformedPacket&) { send(error_reply(EINVAL)); }

void GdbSession::handle(const StartNoAckMode&) {
    send("OK");  // still acked by gdb; from now on neither side acks
    ack_mode_ = false;
}

}  // namespace kvmdbg::gdb
