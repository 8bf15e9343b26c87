// Resuming and stopping (gdb manual, "Packets" c/C/s/S/vCont/D/k,
// "Stop Reply Packets", "All-Stop Mode"), target-side breakpoint
// conditions and range stepping.
#include <functional>

#include "gdbstub-glue/gdb_session.h"
#include "gdbstub-glue/reply_encoder.h"
#include "gdbstub-glue/target_context.h"

namespace kvmdbg::gdb {

namespace {

StopReply::Reason reply_reason(StopReason r, bool swbreak_ok, bool hwbreak_ok) {
    switch (r) {
    case StopReason::software_breakpoint: return swbreak_ok ? StopReply::Reason::swbreak : StopReply::Reason::none;
    case StopReason::hardware_breakpoint: return hwbreak_ok ? StopReply::Reason::hwbreak : StopReply::Reason::none;
    case StopReason::write_watchpoint: return StopReply::Reason::watch;
    case StopReason::read_watchpoint: return StopReply::Reason::rwatch;
    case StopReason::access_watchpoint: return StopReply::Reason::awatch;
    default: return StopReply::Reason::none;
    }
}

std::optional<BreakpointType> breakpoint_type(StopReason r) {
    switch (r) {
    case StopReason::software_breakpoint: return BreakpointType::software;
    case StopReason::hardware_breakpoint: return BreakpointType::hardware;
    case StopReason::write_watchpoint: return BreakpointType::write_watch;
    case StopReason::read_watchpoint: return BreakpointType::read_watch;
    case StopReason::access_watchpoint: return BreakpointType::access_watch;
    default: return std::nullopt;
    }
}

ResumeKind resume_kind(VContAction::Kind k) {
    switch (k) {
    case VContAction::Kind::continue_: return ResumeKind::continue_;
    case VContAction::Kind::step:
    case VContAction::Kind::range_step: return ResumeKind::step;
    case VContAction::Kind::stop: return ResumeKind::stop;
    }
    return ResumeKind::stop;
}

}  // namespace

std::string GdbSession::stop_reply(const StopEvent& ev) {
    StopReply reply;
    reply.thread = valid_thread(ev.thread) ? ev.thread : 1;
    reply.signal = ev.reason == StopReason::interrupt ? kSigInt
                   : ev.reason == StopReason::signal  ? ev.signal
                                                      : kSigTrap;
    reply.reason = reply_reason(ev.reason, gdb_swbreak_, gdb_hwbreak_);
    reply.address = ev.address;
    const TargetDescription::Expedited& ex = target_.description().expedited();
    for (const std::optional<unsigned>& regnum : {ex.pc, ex.sp, ex.fp}) {
        if (!regnum) {
            continue;
        }
        auto value = register_of(reply.thread, *regnum);
        if (value) {
            reply.registers.push_back({*regnum, std::move(*value)});
        }
    }
    return encode_stop_reply(reply);
}

void GdbSession::report(const StopEvent& ev) {
    if (ev.reason == StopReason::exited) {
        state_ = SessionState::exited;
        send(encode_exit_reply(ev.exit_code));
        return;
    }
    // All-stop: nobody runs while gdb looks at the stop.
    ThreadId thread = valid_thread(ev.thread) ? ev.thread : 1;
    target_.stop_all(thread);
    // The reporting vCPU was already parked (its registers, if read for a
    // condition or a range, are still right); the others may have run.
    auto kept = register_cache_.extract(thread);
    forget_registers();
    if (!kept.empty()) {
        register_cache_.insert(std::move(kept));
    }
    state_ = SessionState::stopped;
    ranges_.clear();
    plan_.clear();
    last_stop_thread_ = thread;
    g_thread_ = thread;
    last_stop_reply_ = stop_reply(ev);
    // gdb prints O packets while it waits for the stop reply.
    for (const std::string& packet : encode_console_output_packets(ev.console, options_.console_chunk)) {
        send(packet);
    }
    send(last_stop_reply_);
}

void GdbSession::on_interrupt() {
    if (state_ != SessionState::running) {
        return;  // a Ctrl-C that crossed a stop reply
    }
    StopEvent ev;
    ev.thread = last_stop_thread_;
    ev.reason = StopReason::interrupt;
    report(ev);
}

void GdbSession::on_target_stop(const StopEvent& event) {
    if (finished()) {
        return;
    }
    StopEvent ev = event;
    forget_registers();  // that vCPU ran
    if (!valid_thread(ev.thread)) {
        ev.thread = last_stop_thread_;  // a glue bug; keep the session sane
    }
    if (state_ != SessionState::running) {
        // gdb is not waiting for a stop reply (all-stop): an unsolicited one
        // would be read as the answer to its next packet. Keep it for the
        // next resume; the machine's exit, too. Its registers may be stale
        // by then (gdb may write them): they are read again.
        ev.registers.clear();
        pending_.push_back(ev);
        return;
    }
    if (ev.registers.size() == target_.description().registers_size()) {
        register_cache_[ev.thread] = std::move(ev.registers);  // read as the vCPU parked
    }
    ev.registers.clear();
    if (ev.reason == StopReason::exited) {
        pending_.clear();
        report(ev);
        return;
    }
    if (should_report(ev)) {
        report(ev);
        return;
    }
    // Not for gdb (false condition, still inside a step range): resume this
    // vCPU alone with the action it had; the others were never stopped.
    ResumeRequest again{ev.thread, ResumeKind::continue_, 0};
    for (const ResumeRequest& r : plan_) {
        if (r.thread == ev.thread) {
            again.kind = r.kind;
        }
    }
    forget_registers();
    Status st = target_.resume(std::span(&again, 1), step_flags_);
    if (!st) {
        report(ev);
    }
}

bool GdbSession::should_report(const StopEvent& ev) {
    if (ev.reason == StopReason::step) {
        auto range = ranges_.find(ev.thread);
        auto pc_reg = target_.description().expedited().pc;
        if (range == ranges_.end() || !pc_reg) {
            return true;
        }
        auto raw = register_of(ev.thread, *pc_reg);
        if (!raw) {
            return true;
        }
        std::uint64_t pc = register_value(*raw, target_.description().byte_order());
        return pc < range->second.start || pc >= range->second.end;
    }
    return conditions_hold(ev);
}

bool GdbSession::conditions_hold(const StopEvent& ev) {
    if (ev.reason != StopReason::software_breakpoint && ev.reason != StopReason::hardware_breakpoint) {
        return true;
    }
    TargetContext context(target_, ev.thread, space_,
                          [this, &ev](unsigned regnum) { return register_of(ev.thread, regnum); });
    return stop_wanted(breakpoints_.at(*breakpoint_type(ev.reason), ev.address), conditions_, context);
}

bool GdbSession::report_pending(const std::vector<ResumeRequest>& plan) {
    for (const StopEvent& ev : pending_) {
        if (ev.reason == StopReason::exited) {
            pending_.clear();
            report(ev);
            return true;
        }
    }
    for (auto it = pending_.begin(); it != pending_.end();) {
        bool resumed = false;
        for (const ResumeRequest& r : plan) {
            resumed |= r.thread == it->thread && r.kind != ResumeKind::stop;
        }
        if (!resumed) {
            ++it;
            continue;
        }
        StopEvent ev = *it;
        it = pending_.erase(it);
        auto type = breakpoint_type(ev.reason);
        // A device-access stop has no breakpoint to check: its catch fired
        // and reported its access already (the console text).
        bool still_valid = ev.reason == StopReason::signal || ev.reason == StopReason::device_access ||
                           (type && !breakpoints_.at(*type, ev.address).empty()) ||
                           (type && *type >= BreakpointType::write_watch && breakpoints_.has_type(*type));
        if (still_valid && conditions_hold(ev)) {
            report(ev);
            return true;
        }
    }
    return false;
}

void GdbSession::start(std::vector<ResumeRequest> plan, std::map<ThreadId, Range> ranges) {
    if (!(step_flags_ & step_flags::kEnable)) {
        // QEMU semantics: with ENABLE clear a step is a continue.
        for (ResumeRequest& r : plan) {
            if (r.kind == ResumeKind::step) {
                r.kind = ResumeKind::continue_;
            }
        }
        ranges.clear();
    }
    bool any = false;
    for (const ResumeRequest& r : plan) {
        any |= r.kind != ResumeKind::stop;
    }
    if (!any) {
        send(error_reply(EINVAL));  // nothing would ever stop
        return;
    }
    if (report_pending(plan)) {
        return;
    }
    forget_registers();
    Status st = target_.resume(plan, step_flags_);
    if (!st) {
        send_error(st.error());
        return;
    }
    state_ = SessionState::running;
    plan_ = std::move(plan);
    ranges_ = std::move(ranges);
}

void GdbSession::handle(const Resume& r) {
    ThreadId selected = selected_continue_thread();
    if (r.addr) {
        const TargetDescription& desc = target_.description();
        auto pc = desc.expedited().pc;
        if (!pc) {
            send(error_reply(EINVAL));
            return;
        }
        std::vector<std::uint8_t> value(desc.register_size(*pc));
        for (std::size_t i = 0; i < value.size() && i < 8; ++i) {
            std::size_t pos = desc.byte_order() == std::endian::little ? i : value.size() - 1 - i;
            value[pos] = static_cast<std::uint8_t>(*r.addr >> (8 * i));
        }
        forget_registers();
        Status st = target_.write_register(selected, *pc, value);
        if (!st) {
            send_error(st.error());
            return;
        }
    }
    // c continues every vCPU; s steps the selected one alone.
    std::vector<ResumeRequest> plan;
    for (ThreadId t = 1; t <= static_cast<ThreadId>(target_.thread_count()); ++t) {
        ResumeRequest req{t, ResumeKind::continue_, 0};
        if (r.step) {
            req.kind = t == selected ? ResumeKind::step : ResumeKind::stop;
        }
        if (t == selected) {
            req.signal = r.signal;
        }
        plan.push_back(req);
    }
    start(std::move(plan), {});
}

void GdbSession::handle(const VContQuery&) { send(kVContActions); }

void GdbSession::handle(const VCont& v) {
    for (const VContAction& a : v.actions) {
        if (a.thread && *a.thread != kAllThreads && !valid_thread(*a.thread)) {
            send(error_reply(EINVAL));
            return;
        }
    }
    // Per thread: the leftmost action naming it (or -1), else the leftmost
    // default action, else stay stopped (gdb manual, vCont).
    std::vector<ResumeRequest> plan;
    std::map<ThreadId, Range> ranges;
    for (ThreadId t = 1; t <= static_cast<ThreadId>(target_.thread_count()); ++t) {
        const VContAction* chosen = nullptr;
        for (const VContAction& a : v.actions) {
            if (a.thread && (*a.thread == t || *a.thread == kAllThreads)) {
                chosen = &a;
                break;
            }
        }
        for (const VContAction& a : v.actions) {
            if (chosen == nullptr && !a.thread) {
                chosen = &a;
            }
        }
        ResumeRequest req{t, ResumeKind::stop, 0};
        if (chosen != nullptr) {
            req.kind = resume_kind(chosen->kind);
            req.signal = chosen->signal;
            if (chosen->kind == VContAction::Kind::range_step) {
                ranges[t] = Range{chosen->range_start, chosen->range_end};
            }
        }
        plan.push_back(req);
    }
    start(std::move(plan), std::move(ranges));
}

void GdbSession::publish_conditions() {
    if (!breakpoints_.has_conditions()) {
        if (conditions_published_) {
            target_.set_stop_conditions(nullptr, space_);
            conditions_published_ = false;
        }
        return;
    }
    target_.set_stop_conditions(std::make_shared<const BreakpointTable>(breakpoints_.conditional_part()), space_);
    conditions_published_ = true;
}

void GdbSession::handle(const Detach&) {
    forget_registers();
    breakpoints_.clear();
    publish_conditions();
    target_.remove_all_breakpoints();
    pending_.clear();
    ranges_.clear();
    target_.detach();
    send("OK");
    state_ = SessionState::detached;
}

void GdbSession::handle(const Kill& k) {
    target_.kill();
    if (k.reply) {
        send("OK");
    }
    state_ = SessionState::killed;
    exit_status_ = 0;
}

}  // namespace kvmdbg::gdb
