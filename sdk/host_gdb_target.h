// HostGdbTarget: the gdb stub's DebugTarget over a host's C callbacks
// (KvmdbgGdbTarget, sdk/gdbstub.h), for libkvmdbg's gdb stub.
//
//   g/G/p/P             <-> get_state/set_state (StateBlobTarget converts the
//                           blob through the ISA's IsaDescriptor)
//   m/M/X/x             <-> read_memory/write_memory (physical = 1 under
//                           Qqemu.PhyMemMode:1)
//   Z/z                 <-> insert/remove_breakpoint (KvmdbgBreakpointType)
//   vCont c/s           <-> resume(cpu, 0/1); a vCPU told to stop: nothing
//   stop_all, detach    <-> the same callbacks
//   monitor CMD         <-> the host's monitor, else the stub's own help
//   k, vKill            <-> kill, after the stub's reply went out
//                           (end_after_kill)
//
// Callback errors are negative errno values; they become the session's
// errors with the callback's name in the message.
//
// Threads: the stub's thread, except while it does not serve yet (then
// the caller of kvmdbg_gdbstub_report_stop, serialised by the stub).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sdk/gdbstub.h"
#include "system/state_blob_target.h"

namespace kvmdbg::sdk {

class HostGdbTarget final : public system::StateBlobTarget {
public:
    /// `target` was checked by the stub (mandatory callbacks present, cpus
    /// > 0) and is `isa`'s; it is copied.
    HostGdbTarget(const KvmdbgGdbTarget& target, const system::IsaDescriptor& isa);

    /// Lets stopped vCPU `cpu` run on (a stop nobody waits for).
    void resume_cpu(std::uint32_t cpu);
    /// The session of a `kill` has ended: the host's kill, or without one
    /// what a detach does (the VM runs on without the debugger).
    void end_after_kill();

    std::vector<gdb::MemoryRegion> memory_map() const override { return {}; }
    Result<std::size_t> read_memory(gdb::ThreadId thread, std::uint64_t addr, std::span<std::uint8_t> out,
                                    gdb::AddressSpace space) override;
    Status write_memory(gdb::ThreadId thread, std::uint64_t addr, std::span<const std::uint8_t> data,
                        gdb::AddressSpace space) override;
    Status insert_breakpoint(const gdb::Breakpoint& bp) override;
    Status remove_breakpoint(const gdb::Breakpoint& bp) override;
    void remove_all_breakpoints() override;
    std::uint32_t supported_step_flags() const override;
    Status resume(std::span<const gdb::ResumeRequest> requests, std::uint32_t flags) override;
    void stop_all(gdb::ThreadId reported) override;
    std::string monitor(std::string_view command) override;
    void detach() override;
    /// Nothing yet: the session answers first (end_after_kill).
    void kill() override {}

private:
    Result<std::vector<std::uint8_t>> get_state(std::uint32_t cpu) override;
    Status set_state(std::uint32_t cpu, std::span<const std::uint8_t> state) override;
    /// The host's stop_all callback; every thread marked paused.
    void park_all();

    KvmdbgGdbTarget target_;
};

/// The stub's own answer to `monitor CMD` ("help" lists what there is).
std::string stub_monitor_reply(std::string_view command, bool host_has_monitor);

}  // namespace kvmdbg::sdk
