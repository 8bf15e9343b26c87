// AccelDebugTarget: the gdb stub's DebugTarget (gdbstub-glue/debug_target.h)
// on top of the accelerator's guest-debug hooks — the one place where the
// stub and the accelerator meet (docs/design.md, "Layers").
//
//   gdb thread n        <-> vCPU n-1
//   g/G/p/P             <-> get/set_state (the accelerator's state blob)
//                           converted by the VM's IsaDescriptor
//                           (StateBlobTarget, system/state_blob_target.h)
//   m/M/X/x             <-> read/write_memory (virtual through the vCPU's
//                           paging, or physical with Qqemu.PhyMemMode:1)
//   Z/z                 <-> insert/remove_breakpoint (every vCPU); watchpoints
//                           on emulated device memory go to the device path
//                           (DeviceWatchpoints), and so do reads there
//   vCont c/s           <-> resume(cpu, RUN/STEP); NOIRQ -> step IRQ masking
//   stop_all            <-> pause_all, timed (StopAllTimings, `monitor
//                           info stop-all`)
//   monitor CMD         <-> MonitorCommands
//
// Threads: main thread only (the session's). Stop events reach it through
// the emulator, which converts accelerator events with to_stop_event()
// (system/debug_stop_abi.h).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "accel/accelerator.h"
#include "gdbstub-glue/breakpoint_table.h"
#include "gdbstub-glue/condition_evaluator.h"
#include "gdbstub-glue/debug_target.h"
#include "gdbstub-glue/stop_event.h"
#include "gdbstub-glue/target_description.h"
#include "system/device_watchpoints.h"
#include "system/isa_descriptor.h"
#include "system/state_blob_target.h"
#include "system/stop_all_timings.h"

namespace kvmdbg::system {

class AccelDebugTarget final : public StateBlobTarget {
public:
    /// What the emulator does for the target that the accelerator cannot.
    struct Hooks {
        std::function<void()> kill;                            ///< end the emulator with status 0
        std::function<std::string(std::string_view)> monitor;  ///< run a monitor command
        /// Serves watchpoints and reads on emulated device memory; null:
        /// everything goes to the accelerator.
        DeviceWatchpoints* device_watchpoints = nullptr;
        /// Queues a stop the target made up without running a vCPU.
        std::function<void(const gdb::StopEvent&)> report_stop;
        /// Asked before a vCPU is resumed: true when resuming it ends the
        /// machine instead (the vCPU is not resumed).
        std::function<bool(std::uint32_t cpu)> exit_on_resume;
    };

    /// `memory_map`: the regions offered to gdb (qXfer:memory-map:read).
    /// `arch`: the guest ISA, whose IsaDescriptor (register layout, target
    /// description) is chosen here once; it must be the accelerator's.
    AccelDebugTarget(accel::Accelerator& accel, unsigned vcpus, Hooks hooks, std::vector<gdb::MemoryRegion> memory_map,
                     KvmdbgArch arch);

    /// Whether the debugger wants this breakpoint stop of `cpu`: false
    /// when the session's target-side conditions for it are all false
    /// (set_stop_conditions), evaluated here, on the vCPU's own thread
    /// before it parks (AccelHost::wants_stop), reading its registers and
    /// memory inline. Any vCPU thread, for its own vCPU.
    bool wants_stop(std::uint32_t cpu, const KvmdbgDebugStop& stop);
    void set_stop_conditions(std::shared_ptr<const gdb::BreakpointTable> conditional, gdb::AddressSpace space) override;

    /// `monitor sstep`: whether single steps block interrupts. Effective
    /// only together with the session's NOIRQ step flag (qqemu.sstep),
    /// which is on by default. Errors: ENOTSUP on a host without BLOCKIRQ.
    Status set_step_blocks_irq(bool block);
    bool step_blocks_irq() const { return step_blocks_irq_; }
    /// How long the all-stops took (`monitor info stop-all`).
    const StopAllTimings& stop_all_timings() const { return stop_all_timings_; }

    std::vector<gdb::MemoryRegion> memory_map() const override;
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
    void kill() override;

private:
    Result<std::vector<std::uint8_t>> get_state(std::uint32_t cpu) override;
    Status set_state(std::uint32_t cpu, std::span<const std::uint8_t> state) override;
    /// gdb's watchpoint split into device and memory parts (vCPU 0's paging).
    std::vector<WatchExtent> plan_watch(const gdb::Breakpoint& bp);
    /// Reads at `addr` through the device path where no memory backs it.
    std::size_t read_device_memory(std::uint32_t cpu, std::uint64_t addr, std::span<std::uint8_t> out, bool physical);

    accel::Accelerator& accel_;
    Hooks hooks_;
    bool step_blocks_irq_ = true;
    StopAllTimings stop_all_timings_;
    std::vector<gdb::MemoryRegion> memory_map_;
    // What wants_stop() evaluates; replaced whole by the main thread.
    std::mutex conditions_mu_;
    std::shared_ptr<const gdb::BreakpointTable> conditions_;
    gdb::AddressSpace conditions_space_ = gdb::AddressSpace::virtual_;
    gdb::AgentExprConditionEvaluator evaluator_;  // stateless: shared by vCPU threads
};

}  // namespace kvmdbg::system
