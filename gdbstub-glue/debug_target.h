// DebugTarget: everything the gdb stub needs from the machine being
// debugged, and nothing more. The glue that implements it on top of the
// accelerator's guest-debug hooks (system/ or a glue module) is the only
// place where gdbstub-glue and accel/ meet; gdbstub-glue never includes
// <linux/kvm.h> or accel/ headers (docs/design.md, "Layers").
//
// Threads: gdb thread n is vCPU n-1; ids run 1..thread_count(). Every call
// is made by the GdbSession on the main (GLib) thread. An implementation
// forwards vCPU work to the vCPU threads (run-on-vCPU queue) and waits.
//
// Stop events flow the other way: when a vCPU stops for the debugger
// (breakpoint, watchpoint, completed step, internal error) the glue's event
// loop calls GdbSession::on_target_stop() on the main thread, never from
// inside one of these calls. A target does not stop other vCPUs on its own
// when one of them stops: the session calls stop_all() when it decides to
// report the stop (all-stop), and leaves the others running when it resumes
// the vCPU silently (a false breakpoint condition, range stepping).
//
// Registers cross this interface as raw bytes in target-description order
// and target byte order (TargetDescription); an arch module converts them
// (x86-64: arch/x86/gdb_registers.h).
//
// Errors: Results carry errno codes the session turns into replies:
// EFAULT ("E14") for an unreadable/unwritable address, ENOTSUP/EOPNOTSUPP
// for an unsupported breakpoint type (empty reply, so gdb falls back),
// anything else "E<code>" in decimal (e.g. ENOSPC "E28": no free debug
// register).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "gdbstub-glue/memory_map.h"
#include "gdbstub-glue/request.h"
#include "gdbstub-glue/target_description.h"

namespace kvmdbg::gdb {

/// How guest addresses are interpreted: virtual (through the vCPU's page
/// tables; the default) or guest-physical (QEMU's Qqemu.PhyMemMode:1).
enum class AddressSpace { virtual_, physical };

/// What a vCPU is doing, for qThreadExtraInfo.
enum class ThreadRunState {
    running,  ///< executing guest code
    halted,   ///< in HLT (or waiting for SIPI), not stopped by the debugger
    paused,   ///< stopped by the debugger
};

/// A breakpoint or watchpoint as gdb sent it (Z/z type, address, kind:
/// the instruction length for breakpoints, the watched length for
/// watchpoints). Breakpoints apply to every vCPU.
struct Breakpoint {
    BreakpointType type = BreakpointType::software;
    std::uint64_t addr = 0;
    std::uint64_t kind = 0;

    bool operator==(const Breakpoint&) const = default;
};

/// One vCPU's part of a resume.
enum class ResumeKind {
    continue_,  ///< run until a debug event
    step,       ///< execute one instruction, then report StopReason::step
    stop,       ///< stay (or become) stopped
};

struct ResumeRequest {
    ThreadId thread = 1;
    ResumeKind kind = ResumeKind::continue_;
    int signal = 0;  ///< gdb signal to deliver (C/S); 0 none. Targets may ignore it.

    bool operator==(const ResumeRequest&) const = default;
};

/// QEMU's single-step flags (qqemu.sstepbits): what a step does. kvmdbg
/// keeps ENABLE semantics in the session (a step with ENABLE clear is a
/// continue); the target sees NOIRQ/NOTIMER with every resume.
namespace step_flags {
inline constexpr std::uint32_t kEnable = 1;   ///< stepping steps
inline constexpr std::uint32_t kNoIrq = 2;    ///< no interrupt injection while stepping
inline constexpr std::uint32_t kNoTimer = 4;  ///< no timers while stepping
}  // namespace step_flags

class BreakpointTable;

class DebugTarget {
public:
    virtual ~DebugTarget() = default;

    /// Number of vCPUs (gdb threads 1..N). Constant for the session.
    virtual unsigned thread_count() const = 0;

    /// Register layout and XML documents. The reference stays valid for the
    /// target's lifetime.
    virtual const TargetDescription& description() const = 0;

    /// RAM and ROM regions for qXfer:memory-map:read; empty: no map is
    /// offered (see memory_map.h on paging guests).
    virtual std::vector<MemoryRegion> memory_map() const = 0;

    /// All registers of a stopped vCPU, g-packet layout
    /// (description().registers_size() bytes).
    virtual Result<std::vector<std::uint8_t>> read_registers(ThreadId thread) = 0;
    /// Writes all registers; data.size() == description().registers_size().
    virtual Status write_registers(ThreadId thread, std::span<const std::uint8_t> data) = 0;
    /// One register (description().register_size(regnum) bytes).
    virtual Result<std::vector<std::uint8_t>> read_register(ThreadId thread, unsigned regnum) = 0;
    virtual Status write_register(ThreadId thread, unsigned regnum, std::span<const std::uint8_t> value) = 0;

    /// Reads guest memory as `thread` sees it. Returns how many bytes were
    /// read from the start of `out` (at least 1 when out is non-empty; fewer
    /// than out.size() when the range runs into unmapped memory). EFAULT if
    /// the first byte cannot be read. Software breakpoints the target
    /// inserted are not visible (the original bytes are returned).
    virtual Result<std::size_t> read_memory(ThreadId thread, std::uint64_t addr, std::span<std::uint8_t> out,
                                            AddressSpace space) = 0;
    /// Writes all of `data` or fails (EFAULT) having written nothing
    /// visible to the debugger's breakpoints.
    virtual Status write_memory(ThreadId thread, std::uint64_t addr, std::span<const std::uint8_t> data,
                                AddressSpace space) = 0;

    /// Inserts one breakpoint/watchpoint for every vCPU. The session calls
    /// it once per distinct (type, addr, kind) and keeps gdb's duplicates
    /// and conditions itself.
    virtual Status insert_breakpoint(const Breakpoint& bp) = 0;
    virtual Status remove_breakpoint(const Breakpoint& bp) = 0;
    /// Removes every breakpoint and watchpoint the debugger inserted.
    virtual void remove_all_breakpoints() = 0;

    /// The session's breakpoints that carry target-side conditions
    /// (BreakpointTable::conditional_part; nullptr: none), sent after every
    /// change, and the address space their memory reads use. A target
    /// that can evaluate them where the stop happens (on the vCPU's thread,
    /// before any hand-off: docs/performance.md) keeps vCPUs running
    /// through false hits; the session still decides every stop it gets
    /// (a second, equal evaluation). Default: ignored. Main thread.
    virtual void set_stop_conditions(std::shared_ptr<const BreakpointTable> conditional, AddressSpace space) {
        (void)conditional;
        (void)space;
    }

    /// step_flags::* bits this target can honour (kEnable at least).
    virtual std::uint32_t supported_step_flags() const = 0;

    /// Starts each listed thread with its action; threads not listed keep
    /// their state (stopped ones stay stopped, running ones run on).
    /// `flags` are the current step_flags (kNoIrq/kNoTimer apply to steps).
    /// Returns once the vCPUs have been told; completion comes later as a
    /// StopEvent.
    virtual Status resume(std::span<const ResumeRequest> requests, std::uint32_t flags) = 0;

    /// Stops every vCPU and returns when all are stopped. Stopping a vCPU
    /// this way produces no StopEvent; a debug event that raced with it is
    /// still reported afterwards. `reported`: the thread whose registers
    /// the stop reply reads next (a target may have it keep them at hand).
    virtual void stop_all(ThreadId reported) = 0;

    virtual ThreadRunState thread_state(ThreadId thread) const = 0;

    /// Runs a monitor command (qRcmd, gdb's `monitor CMD`) and returns its
    /// text output ("" for none); unknown commands explain themselves in it.
    virtual std::string monitor(std::string_view command) = 0;

    /// The debugger detached: breakpoints are already removed; clear any
    /// remaining debug state (single-step) and let every vCPU run.
    virtual void detach() = 0;

    /// The debugger killed the target (k, vKill): arrange for the emulator
    /// to exit with status 0 once the session's output has been flushed.
    virtual void kill() = 0;
};

}  // namespace kvmdbg::gdb
