// The requests a gdb client sends, one small struct per packet, as
// parse_request (request_parser.h) returns them. Every number here has
// already been range-checked by the parser for syntax only; the session
// checks it against the target (thread ids, register numbers, addresses).
//
// References are to the gdb manual, "Packets", "General Query Packets" and
// "Host I/O"-free parts of appendix "Remote Protocol", and to QEMU's
// gdbstub for the `qemu.` vendor packets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace kvmdbg::gdb {

/// A thread id as gdb writes it: a positive number, 0 ("any thread") or
/// -1 ("all threads"). kvmdbg numbers vCPU n (0-based) as thread n + 1.
using ThreadId = std::int64_t;
inline constexpr ThreadId kAnyThread = 0;
inline constexpr ThreadId kAllThreads = -1;

/// `?`: why did the target stop.
struct QueryHaltReason {};

/// `g`: read all registers of the Hg thread.
struct ReadRegisters {};

/// `G XX...`: write all registers of the Hg thread (raw bytes, g layout).
struct WriteRegisters {
    std::vector<std::uint8_t> data;
};

/// `p n`: read register n (hex) of the Hg thread.
struct ReadRegister {
    std::uint64_t regnum = 0;
};

/// `P n=r...`: write register n with raw bytes r (target byte order).
struct WriteRegister {
    std::uint64_t regnum = 0;
    std::vector<std::uint8_t> value;
};

/// `m addr,length` (hex reply) and `x addr,length` (binary reply, "b"
/// prefix; gdb 16, qSupported feature binary-upload).
struct ReadMemory {
    std::uint64_t addr = 0;
    std::uint64_t length = 0;
    bool binary = false;
};

/// `M addr,length:XX...` and `X addr,length:binary`; data.size() == length.
struct WriteMemory {
    std::uint64_t addr = 0;
    std::vector<std::uint8_t> data;
};

/// `c [addr]`, `C sig[;addr]`, `s [addr]`, `S sig[;addr]`.
struct Resume {
    bool step = false;
    int signal = 0;                     ///< 0: none
    std::optional<std::uint64_t> addr;  ///< resume at this pc
};

/// `vCont?`: which vCont actions are supported.
struct VContQuery {};

/// One action of a vCont packet.
struct VContAction {
    enum class Kind { continue_, step, range_step, stop };
    Kind kind = Kind::continue_;
    int signal = 0;  ///< C/S only
    /// The thread it applies to; std::nullopt: the default action for every
    /// thread no other action names. kAllThreads (-1) names every thread.
    std::optional<ThreadId> thread;
    std::uint64_t range_start = 0;  ///< range_step: step while start <= pc < end
    std::uint64_t range_end = 0;
};

/// `vCont;action[:thread-id]...`.
struct VCont {
    std::vector<VContAction> actions;
};

/// The Z/z type numbers (gdb manual, "Packets", `z type,addr,kind`).
enum class BreakpointType : std::uint8_t {
    software = 0,
    hardware = 1,
    write_watch = 2,
    read_watch = 3,
    access_watch = 4,
};

/// `Z type,addr,kind[;cond_list...][;cmds:...]`. For Z0/Z1, `conditions`
/// holds the agent-expression bytecode of each `X len,expr` entry (any one
/// true reports the stop); `;cmds:` is accepted and ignored.
struct InsertBreakpoint {
    BreakpointType type = BreakpointType::software;
    std::uint64_t addr = 0;
    std::uint64_t kind = 0;  ///< sw/hw: breakpoint size; watchpoints: length
    std::vector<std::vector<std::uint8_t>> conditions;
};

/// `z type,addr,kind`.
struct RemoveBreakpoint {
    BreakpointType type = BreakpointType::software;
    std::uint64_t addr = 0;
    std::uint64_t kind = 0;
};

/// `Hg thread` / `Hc thread`.
struct SetThread {
    enum class Op { general, continue_ };
    Op op = Op::general;
    ThreadId thread = kAnyThread;
};

/// `T thread`: is the thread alive.
struct ThreadAlive {
    ThreadId thread = 0;
};

/// `D` or `D;pid`.
struct Detach {};

/// `k` (no reply expected) and `vKill;pid` (reply "OK").
struct Kill {
    bool reply = false;
};

/// `QStartNoAckMode`.
struct StartNoAckMode {};

/// `qC`: current thread.
struct QueryCurrentThread {};

/// `qfThreadInfo` (first = true) / `qsThreadInfo`.
struct QueryThreadList {
    bool first = true;
};

/// `qThreadExtraInfo,thread`.
struct QueryThreadExtraInfo {
    ThreadId thread = 0;
};

/// `qAttached` or `qAttached:pid`.
struct QueryAttached {};

/// `qSupported[:gdbfeature;...]`; features as gdb sent them ("swbreak+",
/// "xmlRegisters=i386").
struct QuerySupported {
    std::vector<std::string> features;
};

/// `qXfer:object:read:annex:offset,length`.
struct XferRead {
    std::string object;
    std::string annex;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

/// `qRcmd,hex`: a monitor command, already hex-decoded.
struct MonitorCommand {
    std::string command;
};

/// QEMU vendor packets (QEMU gdbstub.c): `qqemu.Supported`,
/// `qqemu.sstepbits`, `qqemu.sstep`, `Qqemu.sstep=flags`,
/// `qqemu.PhyMemMode`, `Qqemu.PhyMemMode:0|1`.
struct QemuQuerySupported {};
struct QemuQueryStepBits {};
struct QemuQueryStepFlags {};
struct QemuSetStepFlags {
    std::uint64_t flags = 0;
};
struct QemuQueryPhysicalMode {};
struct QemuSetPhysicalMode {
    bool physical = false;
};

/// A packet of a known family whose syntax is wrong: the reply is E22.
struct MalformedPacket {
    std::string reason;
};

using Request =
    std::variant<QueryHaltReason, ReadRegisters, WriteRegisters, ReadRegister, WriteRegister, ReadMemory, WriteMemory,
                 Resume, VContQuery, VCont, InsertBreakpoint, RemoveBreakpoint, SetThread, ThreadAlive, Detach, Kill,
                 StartNoAckMode, QueryCurrentThread, QueryThreadList, QueryThreadExtraInfo, QueryAttached,
                 QuerySupported, XferRead, MonitorCommand, QemuQuerySupported, QemuQueryStepBits, QemuQueryStepFlags,
                 QemuSetStepFlags, QemuQueryPhysicalMode, QemuSetPhysicalMode, MalformedPacket>;

}  // namespace kvmdbg::gdb
