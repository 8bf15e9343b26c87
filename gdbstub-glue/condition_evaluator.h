// Target-side breakpoint conditions (gdb manual, "Packets", Z0 cond_list,
// and appendix "Agent Expressions"): gdb sends each condition as agent
// bytecode with the Z0/Z1 packet; when a vCPU stops at the breakpoint the
// session evaluates them and reports the stop only if one is true.
//
// The session does not know the bytecode: it calls a ConditionEvaluator it
// was given (dependency injection), with an AgentContext (agent_expr.h)
// that reads the stopped vCPU's registers and memory through the
// DebugTarget. The production evaluator wraps evaluate_agent_expr
// (agent_expr.h); tests inject a fake.
#pragma once

#include <cstdint>
#include <span>

#include "common/result.h"
#include "gdbstub-glue/agent_expr.h"

namespace kvmdbg::gdb {

class ConditionEvaluator {
public:
    virtual ~ConditionEvaluator() = default;

    /// Evaluates one condition. true: report the stop; false: resume the
    /// vCPU silently. An error (bad bytecode, unreadable memory) makes the
    /// session report the stop, so that a broken condition is seen rather
    /// than silently skipped. Called on the main thread while the vCPU is
    /// stopped; `context` is valid for the call only.
    virtual Result<bool> evaluate(std::span<const std::uint8_t> bytecode, AgentContext& context) = 0;
};

/// The production evaluator: runs the bytecode with evaluate_agent_expr;
/// a condition holds when the expression's value is non-zero.
class AgentExprConditionEvaluator final : public ConditionEvaluator {
public:
    explicit AgentExprConditionEvaluator(AgentLimits limits = {}) : limits_(limits) {}

    Result<bool> evaluate(std::span<const std::uint8_t> bytecode, AgentContext& context) override;

private:
    AgentLimits limits_;
};

}  // namespace kvmdbg::gdb
