#include "gdbstub-glue/agent_expr.h"

#include <array>
#include <cinttypes>
#include <cstdio>
#include <limits>
#include <string>

#include "gdbstub-glue/hex.h"

namespace kvmdbg::gdb {

namespace {

// What the evaluator must know about an opcode before running it: its name
// for messages, its operand bytes and how many stack values it needs.
struct OpInfo {
    const char* name = nullptr;  // nullptr: not an opcode
    std::uint8_t operand_bytes = 0;
    std::uint8_t consumes = 0;
};

constexpr std::array<OpInfo, 256> make_op_table() {
    std::array<OpInfo, 256> t{};
    auto set = [&t](AgentOp op, const char* name, std::uint8_t operand_bytes, std::uint8_t consumes) {
        t[static_cast<std::uint8_t>(op)] = OpInfo{name, operand_bytes, consumes};
    };
    // Operand sizes and consumed counts from gdbsupport/ax.def; pick's depth
    // and printf's operands are dynamic and checked where they run.
    set(AgentOp::float_, "float", 0, 0);
    set(AgentOp::add, "add", 0, 2);
    set(AgentOp::sub, "sub", 0, 2);
    set(AgentOp::mul, "mul", 0, 2);
    set(AgentOp::div_signed, "div_signed", 0, 2);
    set(AgentOp::div_unsigned, "div_unsigned", 0, 2);
    set(AgentOp::rem_signed, "rem_signed", 0, 2);
    set(AgentOp::rem_unsigned, "rem_unsigned", 0, 2);
    set(AgentOp::lsh, "lsh", 0, 2);
    set(AgentOp::rsh_signed, "rsh_signed", 0, 2);
    set(AgentOp::rsh_unsigned, "rsh_unsigned", 0, 2);
    set(AgentOp::trace, "trace", 0, 2);
    set(AgentOp::trace_quick, "trace_quick", 1, 1);
    set(AgentOp::log_not, "log_not", 0, 1);
    set(AgentOp::bit_and, "bit_and", 0, 2);
    set(AgentOp::bit_or, "bit_or", 0, 2);
    set(AgentOp::bit_xor, "bit_xor", 0, 2);
    set(AgentOp::bit_not, "bit_not", 0, 1);
    set(AgentOp::equal, "equal", 0, 2);
    set(AgentOp::less_signed, "less_signed", 0, 2);
    set(AgentOp::less_unsigned, "less_unsigned", 0, 2);
    set(AgentOp::ext, "ext", 1, 1);
    set(AgentOp::ref8, "ref8", 0, 1);
    set(AgentOp::ref16, "ref16", 0, 1);
    set(AgentOp::ref32, "ref32", 0, 1);
    set(AgentOp::ref64, "ref64", 0, 1);
    set(AgentOp::ref_float, "ref_float", 0, 1);
    set(AgentOp::ref_double, "ref_double", 0, 1);
    set(AgentOp::ref_long_double, "ref_long_double", 0, 1);
    set(AgentOp::l_to_d, "l_to_d", 0, 1);
    set(AgentOp::d_to_l, "d_to_l", 0, 1);
    set(AgentOp::if_goto, "if_goto", 2, 1);
    set(AgentOp::goto_, "goto", 2, 0);
    set(AgentOp::const8, "const8", 1, 0);
    set(AgentOp::const16, "const16", 2, 0);
    set(AgentOp::const32, "const32", 4, 0);
    set(AgentOp::const64, "const64", 8, 0);
    set(AgentOp::reg, "reg", 2, 0);
    set(AgentOp::end, "end", 0, 0);
    set(AgentOp::dup, "dup", 0, 1);
    set(AgentOp::pop, "pop", 0, 1);
    set(AgentOp::zero_ext, "zero_ext", 1, 1);
    set(AgentOp::swap, "swap", 0, 2);
    set(AgentOp::getv, "getv", 2, 0);
    set(AgentOp::setv, "setv", 2, 1);
    set(AgentOp::tracev, "tracev", 2, 0);
    set(AgentOp::tracenz, "tracenz", 0, 2);
    set(AgentOp::trace16, "trace16", 2, 1);
    set(AgentOp::pick, "pick", 1, 0);
    set(AgentOp::rot, "rot", 0, 3);
    set(AgentOp::printf_, "printf", 0, 0);
    return t;
}

constexpr std::array<OpInfo, 256> kOps = make_op_table();

Error op_error(int code, const char* op, std::size_t pc, const std::string& what) {
    char prefix[96];
    std::snprintf(prefix, sizeof prefix, "agent expression: %s at offset %zu: ", op, pc);
    return make_error(code, prefix + what);
}

// One evaluation: the stack and the program counter over `code_`.
class Machine {
public:
    Machine(std::span<const std::uint8_t> code, AgentContext& ctx, const AgentLimits& limits)
        : code_(code), ctx_(ctx), limits_(limits) {}

    Result<AgentResult> run();

private:
    // Executes the instruction at pc_ (operands already bounds-checked).
    // Sets done_ at `end`.
    Status step(AgentOp op, const OpInfo& info);

    std::uint64_t operand(std::size_t bytes) const {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < bytes; ++i) {
            v = (v << 8) | code_[pc_ + 1 + i];
        }
        return v;
    }
    std::uint64_t pop() {
        std::uint64_t v = stack_.back();
        stack_.pop_back();
        return v;
    }
    Status push(std::uint64_t v) {
        if (stack_.size() >= limits_.max_stack) {
            return error(EOVERFLOW, "stack overflow (limit " + std::to_string(limits_.max_stack) + " values)");
        }
        stack_.push_back(v);
        return ok_status();
    }
    Status jump(std::uint64_t target) {
        if (target >= code_.size()) {
            return error(EINVAL, "jump target " + std::to_string(target) + " is past the end (length " +
                                     std::to_string(code_.size()) + ")");
        }
        next_pc_ = static_cast<std::size_t>(target);
        return ok_status();
    }
    // The steps of one opcode family each (step() picks the family).
    Status binary(AgentOp op);                    // two values in, one out
    Status unary(AgentOp op);                     // the top value changed in place
    Status load(AgentOp op, const OpInfo& info);  // memory, constant or register pushed
    Status ref(unsigned bytes);                   // load's memory read
    Status control(AgentOp op);                   // jumps and end
    Status shuffle(AgentOp op);                   // dup, pop, swap, pick, rot
    Status trace(AgentOp op);                     // tracepoint collection: stack effect only
    Error error(int code, const std::string& what) const { return op_error(code, kOps[code_[pc_]].name, pc_, what); }

    std::span<const std::uint8_t> code_;
    AgentContext& ctx_;
    const AgentLimits& limits_;
    std::vector<std::uint64_t> stack_;
    std::size_t pc_ = 0;
    std::size_t next_pc_ = 0;
    bool done_ = false;
};

Result<AgentResult> Machine::run() {
    if (code_.empty()) {
        return make_error(EINVAL, "agent expression: empty expression");
    }
    std::uint64_t steps = 0;
    while (!done_) {
        if (pc_ >= code_.size()) {
            return make_error(EINVAL, "agent expression: ran past the end (offset " + std::to_string(pc_) +
                                          ") without an end instruction");
        }
        std::uint8_t byte = code_[pc_];
        const OpInfo& info = kOps[byte];
        if (info.name == nullptr) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "0x%02x", byte);
            return make_error(EINVAL, "agent expression: unknown opcode " + std::string(buf) + " at offset " +
                                          std::to_string(pc_));
        }
        if (steps >= limits_.max_steps) {
            return error(ELOOP, "step limit of " + std::to_string(limits_.max_steps) + " instructions reached");
        }
        ++steps;
        if (code_.size() - pc_ - 1 < info.operand_bytes) {
            return error(EINVAL, "operand runs past the end of the expression");
        }
        if (stack_.size() < info.consumes) {
            return error(EINVAL, "stack underflow (needs " + std::to_string(info.consumes) + " values, has " +
                                     std::to_string(stack_.size()) + ")");
        }
        next_pc_ = pc_ + 1 + info.operand_bytes;
        if (auto s = step(static_cast<AgentOp>(byte), info); !s) {
            return s.error();
        }
        pc_ = next_pc_;
    }
    return AgentResult{stack_.back(), steps};
}

Status Machine::ref(unsigned bytes) {
    std::uint64_t addr = pop();
    std::array<std::uint8_t, 8> buf{};
    if (auto s = ctx_.read_memory(addr, std::span(buf.data(), bytes)); !s) {
        char where[48];
        std::snprintf(where, sizeof where, "reading %u bytes at 0x%" PRIx64 ": ", bytes, addr);
        return error(s.error().code, where + s.error().message);
    }
    std::uint64_t v = 0;
    for (unsigned i = 0; i < bytes; ++i) {
        unsigned idx = ctx_.byte_order() == std::endian::little ? bytes - 1 - i : i;
        v = (v << 8) | buf[idx];
    }
    stack_.push_back(v);  // replaces the popped address: cannot overflow
    return ok_status();
}

Status Machine::binary(AgentOp op) {
    std::uint64_t b = pop();
    std::uint64_t a = pop();
    auto sa = static_cast<std::int64_t>(a);
    auto sb = static_cast<std::int64_t>(b);
    constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
    std::uint64_t r = 0;
    switch (op) {
    case AgentOp::add: r = a + b; break;
    case AgentOp::sub: r = a - b; break;
    case AgentOp::mul: r = a * b; break;
    case AgentOp::div_signed:
    case AgentOp::rem_signed:
    case AgentOp::div_unsigned:
    case AgentOp::rem_unsigned:
        if (b == 0) {
            return error(EDOM, "division by zero");
        }
        if (op == AgentOp::div_unsigned) {
            r = a / b;
        } else if (op == AgentOp::rem_unsigned) {
            r = a % b;
        } else if (sa == kMin && sb == -1) {
            // The one signed overflow: wrap as the hardware's 64-bit idiv cannot.
            r = op == AgentOp::div_signed ? a : 0;
        } else {
            r = static_cast<std::uint64_t>(op == AgentOp::div_signed ? sa / sb : sa % sb);
        }
        break;
    case AgentOp::lsh: r = b >= 64 ? 0 : a << b; break;
    case AgentOp::rsh_unsigned: r = b >= 64 ? 0 : a >> b; break;
    case AgentOp::rsh_signed: r = static_cast<std::uint64_t>(sa >> (b >= 64 ? 63 : b)); break;
    case AgentOp::bit_and: r = a & b; break;
    case AgentOp::bit_or: r = a | b; break;
    case AgentOp::bit_xor: r = a ^ b; break;
    case AgentOp::equal: r = a == b; break;
    case AgentOp::less_signed: r = sa < sb; break;
    case AgentOp::less_unsigned: r = a < b; break;
    default: break;
    }
    stack_.push_back(r);  // two popped, one pushed
    return ok_status();
}

Status Machine::unary(AgentOp op) {
    switch (op) {
    case AgentOp::log_not: stack_.back() = stack_.back() == 0 ? 1 : 0; return ok_status();
    case AgentOp::bit_not: stack_.back() = ~stack_.back(); return ok_status();
    case AgentOp::ext: {
        std::uint64_t n = operand(1);
        if (n == 0) {
            return error(EINVAL, "sign extension from 0 bits");
        }
        if (n < 64) {
            std::uint64_t sign = 1ull << (n - 1);
            std::uint64_t v = stack_.back() & ((1ull << n) - 1);
            stack_.back() = (v ^ sign) - sign;
        }
        return ok_status();
    }
    case AgentOp::zero_ext: {
        std::uint64_t n = operand(1);
        if (n < 64) {
            stack_.back() &= (1ull << n) - 1;
        }
        return ok_status();
    }
    default: return error(EINVAL, "unknown opcode");  // unreachable: step() dispatches
    }
}

Status Machine::load(AgentOp op, const OpInfo& info) {
    switch (op) {
    case AgentOp::ref8: return ref(1);
    case AgentOp::ref16: return ref(2);
    case AgentOp::ref32: return ref(4);
    case AgentOp::ref64: return ref(8);
    case AgentOp::const8:
    case AgentOp::const16:
    case AgentOp::const32:
    case AgentOp::const64: return push(operand(info.operand_bytes));
    case AgentOp::reg: {
        auto regnum = static_cast<unsigned>(operand(2));
        auto value = ctx_.read_register(regnum);
        if (!value) {
            return error(value.error().code, "register " + std::to_string(regnum) + ": " + value.error().message);
        }
        return push(*value);
    }
    default: return error(EINVAL, "unknown opcode");  // unreachable: step() dispatches
    }
}

Status Machine::control(AgentOp op) {
    switch (op) {
    case AgentOp::if_goto:
        if (pop() != 0) {
            return jump(operand(2));
        }
        return ok_status();
    case AgentOp::goto_: return jump(operand(2));
    case AgentOp::end:
        if (stack_.empty()) {
            return error(EINVAL, "stack underflow (empty stack, no result)");
        }
        done_ = true;
        return ok_status();
    default: return error(EINVAL, "unknown opcode");  // unreachable: step() dispatches
    }
}

Status Machine::shuffle(AgentOp op) {
    switch (op) {
    case AgentOp::dup: return push(stack_.back());
    case AgentOp::pop: stack_.pop_back(); return ok_status();
    case AgentOp::swap: std::swap(stack_[stack_.size() - 1], stack_[stack_.size() - 2]); return ok_status();
    case AgentOp::pick: {
        std::uint64_t n = operand(1);
        if (n >= stack_.size()) {
            return error(EINVAL, "stack underflow (pick " + std::to_string(n) + " with " +
                                     std::to_string(stack_.size()) + " values)");
        }
        return push(stack_[stack_.size() - 1 - n]);
    }
    case AgentOp::rot: {
        // a b c => c a b
        std::size_t n = stack_.size();
        std::uint64_t c = stack_[n - 1];
        stack_[n - 1] = stack_[n - 2];
        stack_[n - 2] = stack_[n - 3];
        stack_[n - 3] = c;
        return ok_status();
    }
    default: return error(EINVAL, "unknown opcode");  // unreachable: step() dispatches
    }
}

Status Machine::trace(AgentOp op) {
    switch (op) {
    // Tracepoint collection: a condition has no trace buffer, so only the
    // stack effect remains (trace, tracenz: addr size =>; trace_quick,
    // trace16: addr => addr; tracev: =>).
    case AgentOp::trace:
    case AgentOp::tracenz:
        stack_.pop_back();
        stack_.pop_back();
        return ok_status();
    case AgentOp::trace_quick:
    case AgentOp::trace16:
    case AgentOp::tracev: return ok_status();
    default: return error(EINVAL, "unknown opcode");  // unreachable: step() dispatches
    }
}

// One switch over every opcode (no default: the compiler checks that none
// is missing), each family handled by its own step.
Status Machine::step(AgentOp op, const OpInfo& info) {
    switch (op) {
    case AgentOp::add:
    case AgentOp::sub:
    case AgentOp::mul:
    case AgentOp::div_signed:
    case AgentOp::div_unsigned:
    case AgentOp::rem_signed:
    case AgentOp::rem_unsigned:
    case AgentOp::lsh:
    case AgentOp::rsh_signed:
    case AgentOp::rsh_unsigned:
    case AgentOp::bit_and:
    case AgentOp::bit_or:
    case AgentOp::bit_xor:
    case AgentOp::equal:
    case AgentOp::less_signed:
    case AgentOp::less_unsigned: return binary(op);
    case AgentOp::log_not:
    case AgentOp::bit_not:
    case AgentOp::ext:
    case AgentOp::zero_ext: return unary(op);
    case AgentOp::ref8:
    case AgentOp::ref16:
    case AgentOp::ref32:
    case AgentOp::ref64:
    case AgentOp::const8:
    case AgentOp::const16:
    case AgentOp::const32:
    case AgentOp::const64:
    case AgentOp::reg: return load(op, info);
    case AgentOp::if_goto:
    case AgentOp::goto_:
    case AgentOp::end: return control(op);
    case AgentOp::dup:
    case AgentOp::pop:
    case AgentOp::swap:
    case AgentOp::pick:
    case AgentOp::rot: return shuffle(op);
    case AgentOp::trace:
    case AgentOp::tracenz:
    case AgentOp::trace_quick:
    case AgentOp::trace16:
    case AgentOp::tracev: return trace(op);
    case AgentOp::getv:
    case AgentOp::setv: return error(ENOTSUP, "trace state variables are not supported");
    case AgentOp::printf_: return error(ENOTSUP, "printf is not supported in conditions");
    case AgentOp::float_:
    case AgentOp::ref_float:
    case AgentOp::ref_double:
    case AgentOp::ref_long_double:
    case AgentOp::l_to_d:
    case AgentOp::d_to_l: return error(ENOTSUP, "floating point is not supported");
    }
    return error(EINVAL, "unknown opcode");  // unreachable: run() checked the table
}

}  // namespace

Result<AgentResult> evaluate_agent_expr(std::span<const std::uint8_t> bytecode, AgentContext& ctx,
                                        const AgentLimits& limits) {
    return Machine(bytecode, ctx, limits).run();
}

std::optional<std::vector<std::vector<std::uint8_t>>> parse_condition_list(std::string_view text) {
    std::vector<std::vector<std::uint8_t>> out;
    std::size_t i = 0;
    while (true) {
        if (i >= text.size() || text[i] != 'X') {
            return std::nullopt;
        }
        ++i;
        // The length can be no more than the hex digits that remain, which
        // also keeps the accumulation below far from overflow.
        std::size_t len = 0;
        std::size_t digits_start = i;
        for (; i < text.size() && hex_digit_value(text[i]) >= 0; ++i) {
            len = len * 16 + static_cast<std::size_t>(hex_digit_value(text[i]));
            if (len > text.size()) {
                return std::nullopt;
            }
        }
        if (i == digits_start || len == 0 || i >= text.size() || text[i] != ',') {
            return std::nullopt;
        }
        ++i;
        if (text.size() - i < 2 * len) {
            return std::nullopt;
        }
        std::vector<std::uint8_t> bytes(len);
        for (std::size_t k = 0; k < len; ++k, i += 2) {
            int hi = hex_digit_value(text[i]);
            int lo = hex_digit_value(text[i + 1]);
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            bytes[k] = static_cast<std::uint8_t>(hi << 4 | lo);
        }
        out.push_back(std::move(bytes));
        if (i == text.size()) {
            return out;
        }
        if (text[i] == ';') {
            ++i;  // gdbserver's separator; the next entry must follow
        }
    }
}

}  // namespace kvmdbg::gdb
