// The plugin ABI's debug values (accel/plugin_abi.h) in the gdb stub's
// terms and back: a KvmdbgDebugStop becomes the session's StopEvent, a
// gdb Z/z type the ABI's KvmdbgBreakpointType. Every target that sits on
// the plugin ABI (AccelDebugTarget over the accelerator, the SDK's
// HostGdbTarget over a host's callbacks) converts through here, so that a
// new stop reason is mapped once.
//
// Pure; any thread.
#pragma once

#include <cstdint>

#include "accel/plugin_abi.h"
#include "gdbstub-glue/request.h"
#include "gdbstub-glue/stop_event.h"

namespace kvmdbg::system {

/// The session's event for vCPU `cpu`'s debug stop (gdb thread cpu + 1).
/// An unknown reason is taken for a finished step at stop.pc.
gdb::StopEvent to_stop_event(std::uint32_t cpu, const KvmdbgDebugStop& stop);

/// gdb's Z/z type as the ABI's breakpoint type (the same numbers).
KvmdbgBreakpointType to_abi_breakpoint_type(gdb::BreakpointType type);

}  // namespace kvmdbg::system
