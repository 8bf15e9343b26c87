#include "system/debug_stop_abi.h"

namespace kvmdbg::system {

// The ABI took gdb's Z numbering on purpose: the conversion is a cast.
static_assert(static_cast<int>(gdb::BreakpointType::software) == KVMDBG_BP_SOFTWARE);
static_assert(static_cast<int>(gdb::BreakpointType::hardware) == KVMDBG_BP_HARDWARE);
static_assert(static_cast<int>(gdb::BreakpointType::write_watch) == KVMDBG_WP_WRITE);
static_assert(static_cast<int>(gdb::BreakpointType::read_watch) == KVMDBG_WP_READ);
static_assert(static_cast<int>(gdb::BreakpointType::access_watch) == KVMDBG_WP_ACCESS);

gdb::StopEvent to_stop_event(std::uint32_t cpu, const KvmdbgDebugStop& stop) {
    gdb::StopEvent event;
    event.thread = static_cast<gdb::ThreadId>(cpu) + 1;
    event.address = stop.addr;
    switch (stop.reason) {
    case KVMDBG_STOP_SW_BREAK: event.reason = gdb::StopReason::software_breakpoint; break;
    case KVMDBG_STOP_HW_BREAK: event.reason = gdb::StopReason::hardware_breakpoint; break;
    case KVMDBG_STOP_WATCH:
        event.reason = stop.type == KVMDBG_WP_READ    ? gdb::StopReason::read_watchpoint
                       : stop.type == KVMDBG_WP_WRITE ? gdb::StopReason::write_watchpoint
                                                      : gdb::StopReason::access_watchpoint;
        break;
    case KVMDBG_STOP_DEVICE: event.reason = gdb::StopReason::device_access; break;
    case KVMDBG_STOP_STEP:
    default:
        event.reason = gdb::StopReason::step;
        event.address = stop.pc;
        break;
    }
    return event;
}

KvmdbgBreakpointType to_abi_breakpoint_type(gdb::BreakpointType type) {
    return static_cast<KvmdbgBreakpointType>(type);
}

}  // namespace kvmdbg::system
