// GdbSession: one gdb connection's protocol state machine, between a byte
// stream and a DebugTarget. It owns no socket and no thread: the transport
// (GLib sockets, written elsewhere) feeds it what it reads and writes what
// it returns, and the glue's event loop tells it when a vCPU stops.
//
//   transport                 GdbSession                     DebugTarget
//   ---------                 ----------                     -----------
//   on connect   ──────────▶  on_connect()      ──────────▶  stop_all()
//   bytes read   ──────────▶  receive(bytes)    ──────────▶  read/write, Z/z,
//   bytes to write ◀────────  take_output()                  resume(...)
//   glue event loop ────────▶ on_target_stop(ev) ─────────▶  stop_all(), then
//                                                            the stop reply
//   finished()? close; exit_status() == 0 after k/vKill: end the emulator.
//
// Protocol (gdb manual, appendix "Remote Protocol"):
//  - Acks: every good packet is acked '+' and a bad checksum nacked '-'
//    until QStartNoAckMode ("Packet Acknowledgment"); a '-' from gdb resends
//    the last packet. After it, a packet with a bad checksum gets E22.
//  - A packet longer than SessionOptions::max_packet_size (1 MiB) is dropped
//    and answered E22; qSupported advertises PacketSize (0x20000).
//  - Unknown packets get the empty reply, malformed ones E22, a bad guest
//    address E14 ("Standard Replies"); nothing ends the session but D, k,
//    vKill and the machine's exit.
//  - All-stop ("All-Stop Mode"): when a vCPU stops and the stop is to be
//    reported, every vCPU is stopped (DebugTarget::stop_all) before the
//    `T` reply is queued. vCont resumes or steps exactly the threads it
//    names; unnamed threads without a default action stay stopped.
//  - Ctrl-C (0x03) while running: stop_all, then `T02`.
//  - Target-side conditions (Z0/Z1 cond_list): evaluated through the
//    injected ConditionEvaluator when a vCPU stops at the breakpoint; if
//    none is true the vCPU is resumed with the action it had and gdb is told
//    nothing. Range steps (vCont `r`) are repeated steps the same way.
//  - Stop events that arrive while stopped (another vCPU hit a breakpoint
//    in the same instant) are kept and reported, instead of resuming, when
//    gdb next resumes that vCPU, as long as they are still meaningful (the
//    breakpoint is still inserted); stale step completions are dropped.
//    The machine's exit while stopped (e.g. `monitor quit`) is likewise
//    reported (W) at the next resume, never unsolicited.
//
// Threads: every member function on the main thread only; DebugTarget
// calls are made from inside them. Not re-entrant: the target must not call
// on_target_stop from inside a DebugTarget call.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gdbstub-glue/breakpoint_table.h"
#include "gdbstub-glue/condition_evaluator.h"
#include "gdbstub-glue/debug_target.h"
#include "gdbstub-glue/packet_framer.h"
#include "gdbstub-glue/request.h"
#include "gdbstub-glue/stop_event.h"

namespace kvmdbg::gdb {

struct SessionOptions {
    /// Incoming packets with a longer payload are dropped (reply E22).
    std::size_t max_packet_size = PacketFramer::kDefaultMaxPayload;
    /// PacketSize in the qSupported reply; also caps one m/x read at
    /// half of it (gdb splits larger reads).
    std::size_t advertised_packet_size = 0x20000;
    /// Thread ids per qfThreadInfo/qsThreadInfo reply.
    std::size_t threads_per_reply = 256;
    /// Characters of monitor output per `O` packet.
    std::size_t console_chunk = 4096;
};

enum class SessionState {
    stopped,   ///< all vCPUs stopped; gdb is sending commands
    running,   ///< resumed; a stop reply is owed
    detached,  ///< D: breakpoints removed, guest runs; close the connection
    killed,    ///< k/vKill: exit_status() is 0; end the emulator
    exited,    ///< the machine exited (W sent); close the connection
};

class GdbSession {
public:
    /// `target` and `conditions` must outlive the session.
    GdbSession(DebugTarget& target, ConditionEvaluator& conditions, SessionOptions options = {});

    GdbSession(const GdbSession&) = delete;
    GdbSession& operator=(const GdbSession&) = delete;

    /// A debugger connected: stops every vCPU (QEMU stops the VM when gdb
    /// connects) and waits for packets in the stopped state.
    void on_connect();

    /// Bytes read from the connection, any split (half packets are kept).
    void receive(std::string_view bytes);

    /// A vCPU stopped for the debugger (see debug_target.h). Ignored once
    /// finished().
    void on_target_stop(const StopEvent& event);

    /// The bytes to write to the connection (acks and framed packets), in
    /// order; the buffer is emptied.
    std::string take_output();
    bool has_output() const { return !output_.empty(); }

    SessionState state() const { return state_; }
    /// Detached, killed or exited: flush the output, then close.
    bool finished() const;
    /// 0 after k/vKill: the emulator should exit with it.
    std::optional<int> exit_status() const { return exit_status_; }

    bool ack_mode() const { return ack_mode_; }
    std::uint32_t step_flags() const { return step_flags_; }
    AddressSpace address_space() const { return space_; }
    /// Number of inserted breakpoints/watchpoints (distinct type,addr,kind).
    std::size_t breakpoint_count() const { return breakpoints_.size(); }

private:
    struct Range {
        std::uint64_t start, end;
    };

    // gdb_session.cc: bytes, framing, dispatch.
    void on_frame(FrameEvent&& event);
    void on_packet(std::string_view payload);
    void on_interrupt();
    void send(std::string_view payload);
    void send_error(const Error& error);
    bool valid_thread(ThreadId thread) const;
    // Register reads go through a per-stop cache: one DebugTarget
    // read_registers per thread per stop serves the stop reply's expedited
    // registers, `g`, `p` and condition evaluation (each target read is a
    // round trip to the vCPU's thread). Dropped whenever anything may have
    // changed the registers: a resume, a stop, a register write, a monitor
    // command, a detach.
    Result<std::vector<std::uint8_t>> registers_of(ThreadId thread);
    Result<std::vector<std::uint8_t>> register_of(ThreadId thread, unsigned regnum);
    void forget_registers() { register_cache_.clear(); }
    ThreadId general_thread() const;
    ThreadId selected_continue_thread() const;

    // session_data.cc: registers, memory, breakpoints, threads, queries.
    void handle(const QueryHaltReason&);
    void handle(const ReadRegisters&);
    void handle(const WriteRegisters&);
    void handle(const ReadRegister&);
    void handle(const WriteRegister&);
    void handle(const ReadMemory&);
    void handle(const WriteMemory&);
    void handle(const InsertBreakpoint&);
    void handle(const RemoveBreakpoint&);
    void handle(const SetThread&);
    void handle(const ThreadAlive&);
    void handle(const QueryCurrentThread&);
    void handle(const QueryThreadList&);
    void handle(const QueryThreadExtraInfo&);
    void handle(const QueryAttached&);
    void handle(const StartNoAckMode&);
    void handle(const MalformedPacket&);

    // session_queries.cc: qSupported, qXfer, qRcmd, QEMU packets.
    void handle(const QuerySupported&);
    void handle(const XferRead&);
    void handle(const MonitorCommand&);
    void handle(const QemuQuerySupported&);
    void handle(const QemuQueryStepBits&);
    void handle(const QemuQueryStepFlags&);
    void handle(const QemuSetStepFlags&);
    void handle(const QemuQueryPhysicalMode&);
    void handle(const QemuSetPhysicalMode&);

    // session_resume.cc: resume, stop events, conditions, detach, kill.
    void handle(const Resume&);
    void handle(const VContQuery&);
    void handle(const VCont&);
    void handle(const Detach&);
    void handle(const Kill&);
    void start(std::vector<ResumeRequest> plan, std::map<ThreadId, Range> ranges);
    bool report_pending(const std::vector<ResumeRequest>& plan);
    bool should_report(const StopEvent& event);
    bool conditions_hold(const StopEvent& event);
    /// Sends the conditional breakpoints to the target after a change.
    void publish_conditions();
    /// qThreadExtraInfo's text for `thread` ("CPU#0 [paused]").
    std::string thread_extra_info(ThreadId thread) const;
    void report(const StopEvent& event);
    std::string stop_reply(const StopEvent& event);

    DebugTarget& target_;
    ConditionEvaluator& conditions_;
    SessionOptions options_;
    PacketFramer framer_;

    std::string output_;
    std::string last_packet_;  // framed, for a '-' from gdb
    bool ack_mode_ = true;
    SessionState state_ = SessionState::stopped;
    std::optional<int> exit_status_;

    bool gdb_swbreak_ = false;  // gdb's qSupported said swbreak+
    bool gdb_hwbreak_ = false;
    ThreadId g_thread_ = kAnyThread;
    ThreadId c_thread_ = kAllThreads;
    ThreadId last_stop_thread_ = 1;
    std::string last_stop_reply_;  // for '?'
    std::uint32_t step_flags_ = 0;
    AddressSpace space_ = AddressSpace::virtual_;

    BreakpointTable breakpoints_;
    bool conditions_published_ = false;  // the target holds a non-null set
    std::vector<ResumeRequest> plan_;    // the running resume, for silent re-resumes
    std::map<ThreadId, Range> ranges_;
    std::deque<StopEvent> pending_;
    std::vector<ThreadId> thread_list_;  // qfThreadInfo snapshot
    std::size_t thread_list_pos_ = 0;
    std::string memory_map_xml_;                                    // snapshot at offset 0
    std::string threads_xml_;                                       // snapshot at offset 0
    std::map<ThreadId, std::vector<std::uint8_t>> register_cache_;  // see registers_of()
};

}  // namespace kvmdbg::gdb
