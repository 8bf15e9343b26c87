// CatchCondition: the `if ...` of `monitor catch io|mmio ... if value OP N`,
// a test of the accessed value that decides on the vCPU's thread whether a
// device-access catch stops. It is compiled to a GDB agent expression and
// run by the same evaluator as gdb's target-side breakpoint conditions
// (gdbstub-glue/agent_expr.h), with the value as register 0 of its context:
//
//   if value [& MASK] OP N      OP: == != < <= > >=   (unsigned, 64-bit)
//
//   value == N    reg 0; [const64 MASK; bit_and;] const64 N; equal; end
//   value != N    ... equal; log_not; end
//   value <  N    reg 0 [& MASK]; const64 N; less_unsigned; end
//   value >  N    const64 N; reg 0 [& MASK]; less_unsigned; end
//   value <= N    (value > N) log_not;  value >= N: (value < N) log_not
//
// Numbers are C literals (0x.., decimal, 0..). Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace kvmdbg::system {

class CatchCondition {
public:
    /// Compiles the words after `if`. Errors: EINVAL with the expected form.
    static Result<CatchCondition> parse(const std::vector<std::string>& words);

    /// Whether the condition holds for `value`; an evaluation error counts
    /// as true (the catch stops, as gdb stops on a condition it cannot
    /// evaluate).
    bool holds(std::uint64_t value) const;

    /// The condition as written back: "value & 0xff == 0x80".
    const std::string& text() const { return text_; }
    const std::vector<std::uint8_t>& bytecode() const { return bytecode_; }

private:
    std::vector<std::uint8_t> bytecode_;
    std::string text_;
};

}  // namespace kvmdbg::system
