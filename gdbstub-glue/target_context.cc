#include "gdbstub-glue/target_context.h"

#include <cstdio>
#include <string>

namespace kvmdbg::gdb {

Result<std::uint64_t> TargetContext::read_register(unsigned regnum) {
    const TargetDescription& desc = target_.description();
    if (regnum >= desc.register_count()) {
        return make_error(EINVAL, "no register " + std::to_string(regnum));
    }
    auto raw = registers_(regnum);
    if (!raw) {
        return raw.error();
    }
    return register_value(*raw, desc.byte_order());
}

Status TargetContext::read_memory(std::uint64_t addr, std::span<std::uint8_t> out) {
    auto n = target_.read_memory(thread_, addr, out, space_);
    if (!n) {
        return n.error();
    }
    if (*n < out.size()) {
        char where[32];
        std::snprintf(where, sizeof where, "0x%llx", static_cast<unsigned long long>(addr));
        return make_error(EFAULT, std::string("partial read at ") + where);
    }
    return ok_status();
}

bool stop_wanted(const std::vector<const BreakpointTable::Conditions*>& lists, ConditionEvaluator& evaluator,
                 AgentContext& context) {
    if (lists.empty()) {
        return true;
    }
    for (const BreakpointTable::Conditions* conds : lists) {
        if (conds->empty()) {
            return true;
        }
        for (const auto& bytecode : *conds) {
            auto result = evaluator.evaluate(bytecode, context);
            if (!result || *result) {
                return true;
            }
        }
    }
    return false;
}

}  // namespace kvmdbg::gdb
