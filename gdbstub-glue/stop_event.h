// Why a vCPU stopped, as the glue's event loop reports it to the session
// (GdbSession::on_target_stop). Signal numbers are gdb's own numbering
// (gdb/include/gdb/signals.def), which the stop replies carry.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gdbstub-glue/request.h"

namespace kvmdbg::gdb {

/// gdb signal numbers used by kvmdbg.
inline constexpr int kSigInt = 2;    ///< Ctrl-C stop
inline constexpr int kSigTrap = 5;   ///< breakpoint, watchpoint, step
inline constexpr int kSigSegv = 11;  ///< e.g. a KVM internal error or triple fault

enum class StopReason {
    software_breakpoint,  ///< at a Z0 breakpoint; address = its address (the pc)
    hardware_breakpoint,  ///< at a Z1 breakpoint; address = its address (the pc)
    write_watchpoint,     ///< Z2 hit; address = the data address accessed
    read_watchpoint,      ///< Z3 hit; address = the data address accessed
    access_watchpoint,    ///< Z4 hit; address = the data address accessed
    step,                 ///< a single step (ResumeKind::step) completed
    device_access,        ///< a device-access catch (`monitor catch io|mmio`); reported as
                          ///< SIGTRAP with `console` printed before it; address = port or gpa
    interrupt,            ///< stopped on request (reported as signal 2)
    signal,               ///< stopped with `signal` (e.g. kSigSegv for an internal error)
    exited,               ///< the machine is gone (shutdown, isa-debug-exit); `exit_code`
};

struct StopEvent {
    ThreadId thread = 1;  ///< the vCPU that stopped (1-based); ignored for `exited`
    StopReason reason = StopReason::step;
    std::uint64_t address = 0;
    int signal = 0;     ///< reason == signal only
    int exit_code = 0;  ///< reason == exited only
    /// Text gdb prints on its console before the stop (O packets ahead of
    /// the stop reply), e.g. what a device-access catch saw; may be empty.
    std::string console{};
    /// The thread's registers at the stop in `g` layout, when the target
    /// sent them along (then the stop reply and gdb's reads need no target
    /// round trip); empty: read on demand.
    std::vector<std::uint8_t> registers{};
};

}  // namespace kvmdbg::gdb
