// TargetContext: the AgentContext (agent_expr.h) of one stopped vCPU, read
// through a DebugTarget. A target-side breakpoint condition (gdb manual,
// "Agent Expressions") reads the registers and memory of the vCPU that hit
// the breakpoint through it, wherever it is evaluated: by the session on
// the main thread, or by the target itself on the vCPU's own thread before
// the vCPU parks (DebugTarget::set_stop_conditions).
//
// Threads: whichever thread may call the DebugTarget's read_memory and the
// register reader for `thread`; valid for one evaluation.
#pragma once

#include <functional>
#include <vector>

#include "gdbstub-glue/agent_expr.h"
#include "gdbstub-glue/breakpoint_table.h"
#include "gdbstub-glue/condition_evaluator.h"
#include "gdbstub-glue/debug_target.h"

namespace kvmdbg::gdb {

class TargetContext final : public AgentContext {
public:
    /// Register `regnum` of the stopped vCPU as the raw g-packet bytes
    /// (the session passes its register cache).
    using RegisterReader = std::function<Result<std::vector<std::uint8_t>>(unsigned)>;

    TargetContext(DebugTarget& target, ThreadId thread, AddressSpace space, RegisterReader registers)
        : target_(target), thread_(thread), space_(space), registers_(std::move(registers)) {}

    Result<std::uint64_t> read_register(unsigned regnum) override;
    /// A partial read (the range runs into unmapped memory) is EFAULT.
    Status read_memory(std::uint64_t addr, std::span<std::uint8_t> out) override;
    std::endian byte_order() const override { return target_.description().byte_order(); }

private:
    DebugTarget& target_;
    ThreadId thread_;
    AddressSpace space_;
    RegisterReader registers_;
};

/// Whether a stop at a breakpoint whose condition lists are `lists`
/// (BreakpointTable::at for its type and address) is to be reported: yes
/// when there is no entry (not one of gdb's: gdb decides), when one entry
/// is unconditional, when one condition holds, and when one fails to
/// evaluate (a broken condition stops rather than hides).
bool stop_wanted(const std::vector<const BreakpointTable::Conditions*>& lists, ConditionEvaluator& evaluator,
                 AgentContext& context);

}  // namespace kvmdbg::gdb
