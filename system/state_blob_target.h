// StateBlobTarget: the part of a DebugTarget (gdbstub-glue/debug_target.h)
// that is the same for every target whose vCPUs hand their registers over
// as a plugin-ABI state blob (KvmdbgX86State, KvmdbgArm64State):
//
//   gdb thread n        <-> vCPU n-1 (cpu_of)
//   g/G/p/P             <-> get_state/set_state of the blob, converted by
//                           the ISA's IsaDescriptor (system/isa_descriptor.h),
//                           which also gives the target description
//   qThreadExtraInfo    <-> the run state the derived class records
//
// AccelDebugTarget (over the accelerator) and the SDK's HostGdbTarget (over
// a host's C callbacks) derive from it and supply the blob's transport and
// everything else (memory, breakpoints, resume).
//
// Threads: the session's thread, except registers_from_state (any thread).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "gdbstub-glue/debug_target.h"
#include "system/isa_descriptor.h"

namespace kvmdbg::system {

class StateBlobTarget : public gdb::DebugTarget {
public:
    /// The ISA's descriptor (register layout, target description).
    const IsaDescriptor& isa() const { return isa_; }

    /// The `g` block of a state blob (a stop's KvmdbgEvent.state): empty if
    /// `state` is NULL or `size` is not the ISA's state size. Any thread.
    std::vector<std::uint8_t> registers_from_state(const void* state, std::size_t size) const;

    /// vCPU `cpu` stopped for the debugger (it waits for a resume).
    void note_stopped(std::uint32_t cpu) { set_run_state(cpu, gdb::ThreadRunState::paused); }

    unsigned thread_count() const final { return static_cast<unsigned>(states_.size()); }
    const gdb::TargetDescription& description() const final { return isa_.description(); }
    Result<std::vector<std::uint8_t>> read_registers(gdb::ThreadId thread) final;
    Status write_registers(gdb::ThreadId thread, std::span<const std::uint8_t> data) final;
    Result<std::vector<std::uint8_t>> read_register(gdb::ThreadId thread, unsigned regnum) final;
    Status write_register(gdb::ThreadId thread, unsigned regnum, std::span<const std::uint8_t> value) final;
    gdb::ThreadRunState thread_state(gdb::ThreadId thread) const final;

protected:
    /// `vcpus` vCPUs (gdb threads 1..vcpus), all running at first.
    StateBlobTarget(unsigned vcpus, const IsaDescriptor& isa);

    /// The vCPU of gdb thread `thread`. Errors: EINVAL for no such thread.
    Result<std::uint32_t> cpu_of(gdb::ThreadId thread) const;
    /// Records what vCPU `cpu` does now (ignored for no such vCPU).
    void set_run_state(std::uint32_t cpu, gdb::ThreadRunState state);
    void set_all_run_states(gdb::ThreadRunState state);

    /// The whole state blob of stopped vCPU `cpu` (isa().state_size() bytes).
    virtual Result<std::vector<std::uint8_t>> get_state(std::uint32_t cpu) = 0;
    /// Writes a whole blob back.
    virtual Status set_state(std::uint32_t cpu, std::span<const std::uint8_t> state) = 0;

private:
    struct CpuState {
        std::uint32_t cpu;
        std::vector<std::uint8_t> state;
    };
    /// The vCPU of `thread` and its current blob.
    Result<CpuState> cpu_state(gdb::ThreadId thread);

    const IsaDescriptor& isa_;
    std::vector<gdb::ThreadRunState> states_;
};

}  // namespace kvmdbg::system
