// A scripted DebugTarget and ConditionEvaluator for the GdbSession tests,
// and a harness that speaks framed packets to a session.
//
// Fake machine: thread_count threads; four registers per thread
//   0 "fp" 8 bytes, 1 "sp" 8 bytes, 2 "pc" 8 bytes, 3 "flags" 4 bytes
// (28-byte g packet; expedited pc=2, sp=1, fp=0); virtual RAM at
// [0x1000, 0x1100), physical RAM at [0x0, 0x40). Every call is logged as
// one line in `log` ("resume 1:s 2:- flags=3", "stop_all", ...).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gdbstub-glue/breakpoint_table.h"
#include "gdbstub-glue/condition_evaluator.h"
#include "gdbstub-glue/debug_target.h"
#include "gdbstub-glue/gdb_session.h"

namespace kvmdbg::test {

class FakeTarget final : public gdb::DebugTarget {
public:
    static constexpr std::uint64_t kRamBase = 0x1000;
    static constexpr std::size_t kRamSize = 0x100;
    static constexpr std::size_t kPhysSize = 0x40;

    explicit FakeTarget(unsigned threads = 2);

    unsigned thread_count() const override { return threads_; }
    const gdb::TargetDescription& description() const override { return description_; }
    std::vector<gdb::MemoryRegion> memory_map() const override { return regions; }
    Result<std::vector<std::uint8_t>> read_registers(gdb::ThreadId thread) override;
    Status write_registers(gdb::ThreadId thread, std::span<const std::uint8_t> data) override;
    Result<std::vector<std::uint8_t>> read_register(gdb::ThreadId thread, unsigned regnum) override;
    Status write_register(gdb::ThreadId thread, unsigned regnum, std::span<const std::uint8_t> value) override;
    Result<std::size_t> read_memory(gdb::ThreadId thread, std::uint64_t addr, std::span<std::uint8_t> out,
                                    gdb::AddressSpace space) override;
    Status write_memory(gdb::ThreadId thread, std::uint64_t addr, std::span<const std::uint8_t> data,
                        gdb::AddressSpace space) override;
    Status insert_breakpoint(const gdb::Breakpoint& bp) override;
    Status remove_breakpoint(const gdb::Breakpoint& bp) override;
    void remove_all_breakpoints() override;
    std::uint32_t supported_step_flags() const override { return supported_flags; }
    Status resume(std::span<const gdb::ResumeRequest> requests, std::uint32_t flags) override;
    void stop_all(gdb::ThreadId reported) override;
    gdb::ThreadRunState thread_state(gdb::ThreadId thread) const override;
    std::string monitor(std::string_view command) override;
    void detach() override { log.push_back("detach"); }
    void set_stop_conditions(std::shared_ptr<const gdb::BreakpointTable> conditional,
                             gdb::AddressSpace space) override {
        published.push_back(std::move(conditional));
        published_space = space;
    }
    void kill() override { log.push_back("kill"); }

    /// Sets register `regnum` of `thread` to `value` (little-endian).
    void set_reg(gdb::ThreadId thread, unsigned regnum, std::uint64_t value);
    std::uint64_t reg(gdb::ThreadId thread, unsigned regnum) const;
    /// The log lines starting with `prefix`.
    std::vector<std::string> calls(std::string_view prefix) const;

    std::vector<std::string> log;
    std::vector<gdb::ThreadId> stop_all_reported;  ///< stop_all's argument, per call
    std::vector<gdb::Breakpoint> inserted;
    std::vector<gdb::MemoryRegion> regions;
    std::vector<std::uint8_t> ram;
    std::vector<std::uint8_t> phys;
    std::uint32_t supported_flags = gdb::step_flags::kEnable | gdb::step_flags::kNoIrq;
    int insert_error = 0;  ///< errno insert_breakpoint fails with (0: succeeds)
    std::string monitor_output = "hello\n";
    /// Set to the session: stop_all records whether it had output queued.
    const gdb::GdbSession* session = nullptr;
    std::vector<bool> output_pending_at_stop_all;
    std::vector<gdb::ThreadRunState> states;
    /// Every set_stop_conditions() call, in order, and the last space.
    std::vector<std::shared_ptr<const gdb::BreakpointTable>> published;
    gdb::AddressSpace published_space = gdb::AddressSpace::virtual_;

private:
    unsigned threads_;
    gdb::TargetDescription description_;
    std::map<gdb::ThreadId, std::vector<std::uint8_t>> regs_;
};

/// A ConditionEvaluator whose answer is a function of the bytecode.
class FakeEvaluator final : public gdb::ConditionEvaluator {
public:
    Result<bool> evaluate(std::span<const std::uint8_t> bytecode, gdb::AgentContext& context) override;

    /// Default: bytecode {1} is true, {0} false, {0xee} an error, and
    /// {0x26, n} true if register n is non-zero (read through the context).
    std::function<Result<bool>(std::span<const std::uint8_t>, gdb::AgentContext&)> fn;
    std::vector<std::vector<std::uint8_t>> seen;
};

/// The payloads of the packets in `bytes` (acks and noise skipped).
/// A packet with a wrong checksum is returned as "<bad checksum>".
std::vector<std::string> packets(std::string_view bytes);

/// A session over a FakeTarget and FakeEvaluator, connected.
struct Harness {
    explicit Harness(unsigned threads = 2);

    /// Sends one packet; returns the raw bytes the session wrote.
    std::string send_raw(std::string_view payload);
    /// Sends one packet; returns the single reply payload ("<none>" if there
    /// was none, "<many>" if more than one).
    std::string ask(std::string_view payload);
    /// Sends one packet; returns every reply payload.
    std::vector<std::string> ask_all(std::string_view payload);
    /// The payloads the session has queued (e.g. after a stop event).
    std::vector<std::string> drain();
    /// QStartNoAckMode, output discarded.
    void no_ack();

    FakeTarget target;
    FakeEvaluator evaluator;
    gdb::GdbSession session;
};

}  // namespace kvmdbg::test
