#include "gdbstub-glue/condition_evaluator.h"

namespace kvmdbg::gdb {

Result<bool> AgentExprConditionEvaluator::evaluate(std::span<const std::uint8_t> bytecode, AgentContext& context) {
    auto result = evaluate_agent_expr(bytecode, context, limits_);
    if (!result) {
        return result.error();
    }
    return result->is_true();
}

}  // namespace kvmdbg::gdb
