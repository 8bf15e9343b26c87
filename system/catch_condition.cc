#include "system/catch_condition.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <optional>

#include "gdbstub-glue/agent_expr.h"
#include "system/monitor_numbers.h"

namespace kvmdbg::system {

namespace {

using gdb::AgentOp;

class Emitter {
public:
    void op(AgentOp o) { code.push_back(static_cast<std::uint8_t>(o)); }
    void constant(std::uint64_t v) {
        op(AgentOp::const64);
        for (int shift = 56; shift >= 0; shift -= 8) {
            code.push_back(static_cast<std::uint8_t>(v >> shift));  // operands most significant byte first
        }
    }
    void value(std::optional<std::uint64_t> mask) {
        op(AgentOp::reg);
        code.push_back(0);
        code.push_back(0);
        if (mask) {
            constant(*mask);
            op(AgentOp::bit_and);
        }
    }
    std::vector<std::uint8_t> code;
};

// The accessed value is register 0; there is no memory.
class ValueContext final : public gdb::AgentContext {
public:
    explicit ValueContext(std::uint64_t value) : value_(value) {}
    Result<std::uint64_t> read_register(unsigned regnum) override {
        if (regnum != 0) {
            return make_error(EINVAL, "a catch condition has only `value`");
        }
        return value_;
    }
    Status read_memory(std::uint64_t, std::span<std::uint8_t>) override {
        return make_error(EINVAL, "a catch condition reads no memory");
    }

private:
    std::uint64_t value_;
};

}  // namespace

Result<CatchCondition> CatchCondition::parse(const std::vector<std::string>& w) {
    const Error usage = make_error(EINVAL, "the condition is: value [& MASK] ==|!=|<|<=|>|>= NUMBER");
    std::optional<std::uint64_t> mask;
    std::size_t at = 1;
    if (w.empty() || w[0] != "value") {
        return usage;
    }
    if (w.size() == 5 && w[1] == "&") {
        mask = parse_monitor_number(w[2]);
        if (!mask) {
            return usage;
        }
        at = 3;
    }
    if (w.size() != at + 2) {
        return usage;
    }
    const std::string& op = w[at];
    auto n = parse_monitor_number(w[at + 1]);
    if (!n) {
        return usage;
    }
    Emitter e;
    if (op == "==" || op == "!=") {
        e.value(mask);
        e.constant(*n);
        e.op(AgentOp::equal);
        if (op == "!=") {
            e.op(AgentOp::log_not);
        }
    } else if (op == "<" || op == ">=") {
        e.value(mask);
        e.constant(*n);
        e.op(AgentOp::less_unsigned);
        if (op == ">=") {
            e.op(AgentOp::log_not);
        }
    } else if (op == ">" || op == "<=") {
        e.constant(*n);
        e.value(mask);
        e.op(AgentOp::less_unsigned);
        if (op == "<=") {
            e.op(AgentOp::log_not);
        }
    } else {
        return usage;
    }
    e.op(AgentOp::end);
    CatchCondition c;
    c.bytecode_ = std::move(e.code);
    char buf[96];
    if (mask) {
        std::snprintf(buf, sizeof buf, "value & 0x%" PRIx64 " %s 0x%" PRIx64, *mask, op.c_str(), *n);
    } else {
        std::snprintf(buf, sizeof buf, "value %s 0x%" PRIx64, op.c_str(), *n);
    }
    c.text_ = buf;
    return c;
}

bool CatchCondition::holds(std::uint64_t value) const {
    ValueContext ctx(value);
    auto r = gdb::evaluate_agent_expr(bytecode_, ctx);
    return !r || r->value != 0;
}

}  // namespace kvmdbg::system
