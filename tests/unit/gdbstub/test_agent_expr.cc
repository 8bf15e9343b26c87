// GDB agent expression machine (gdbstub-glue/agent_expr.h) on hand-written
// bytecode: stack operations, a backward loop, the step and stack limits,
// 64-bit arithmetic edges, memory and register access, the trace opcodes and
// every error path. Bytecode gdb itself emitted is in test_agent_expr_gdb.cc.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "gdbstub-glue/agent_expr.h"
#include "tests/support/cunit_main.h"
#include "tests/unit/gdbstub/agent_fake_vcpu.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::gdb;
using namespace kvmdbg::test;

// Stack operations, checked by popping down to each position.
void test_rot_swap_pick_dup() {
    FakeVcpu cpu;
    // 1 2 3 rot => 3 1 2
    const Bytes rot = {0x22, 0x01, 0x22, 0x02, 0x22, 0x03, 0x33};
    auto with_tail = [](Bytes code, std::initializer_list<std::uint8_t> tail) {
        code.insert(code.end(), tail);
        return code;
    };
    CU_ASSERT_EQUAL(eval_ok(with_tail(rot, {0x27}), cpu), 2u);
    CU_ASSERT_EQUAL(eval_ok(with_tail(rot, {0x29, 0x27}), cpu), 1u);
    CU_ASSERT_EQUAL(eval_ok(with_tail(rot, {0x29, 0x29, 0x27}), cpu), 3u);
    // 1 2 swap => 2 1
    const Bytes swap = {0x22, 0x01, 0x22, 0x02, 0x2b};
    CU_ASSERT_EQUAL(eval_ok(with_tail(swap, {0x27}), cpu), 1u);
    CU_ASSERT_EQUAL(eval_ok(with_tail(swap, {0x29, 0x27}), cpu), 2u);
    // 7 8 9 pick 2 => 7 8 9 7; pick 0 == dup
    const Bytes pick = {0x22, 0x07, 0x22, 0x08, 0x22, 0x09};
    CU_ASSERT_EQUAL(eval_ok(with_tail(pick, {0x32, 0x02, 0x27}), cpu), 7u);
    CU_ASSERT_EQUAL(eval_ok(with_tail(pick, {0x32, 0x02, 0x29, 0x27}), cpu), 9u);
    CU_ASSERT_EQUAL(eval_ok(with_tail(pick, {0x32, 0x01, 0x27}), cpu), 8u);
    CU_ASSERT_EQUAL(eval_ok(with_tail(pick, {0x32, 0x00, 0x27}), cpu), 9u);
    CU_ASSERT_EQUAL(eval_ok(with_tail(pick, {0x28, 0x29, 0x27}), cpu), 9u);
    CU_ASSERT_EQUAL(eval_ok(with_tail(pick, {0x28, 0x02, 0x27}), cpu), 18u);  // dup add
    // Values under the top are ignored at end.
    CU_ASSERT_EQUAL(eval_ok(with_tail(pick, {0x27}), cpu), 9u);
}

// A backward loop: sum 1..10 with a counter on the stack.
//   0  const8 0          acc
//   2  const8 10         acc n
//   4  dup               acc n n
//   5  log_not           acc n !n
//   6  if_goto 20        acc n
//   9  swap              n acc
//  10  pick 1            n acc n
//  12  add               n acc+n
//  13  swap              acc n
//  14  const8 1
//  16  sub               acc n-1
//  17  goto 4
//  20  pop               acc
//  21  end
const Bytes kSumLoop = {0x22, 0x00, 0x22, 0x0a, 0x28, 0x0e, 0x20, 0x00, 0x14, 0x2b, 0x32,
                        0x01, 0x02, 0x2b, 0x22, 0x01, 0x03, 0x21, 0x00, 0x04, 0x29, 0x27};

void test_backward_loop() {
    FakeVcpu cpu;
    auto r = evaluate_agent_expr(kSumLoop, cpu);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(r->value, 55u);
    // 2 + 10 iterations of 10 + the last test (dup log_not if_goto) + pop end.
    CU_ASSERT_EQUAL(r->steps, 107u);
    // The same loop fits exactly in 107 steps and fails in 106.
    CU_ASSERT_EQUAL(eval_ok(kSumLoop, cpu, AgentLimits{1024, 107}), 55u);
    eval_err(kSumLoop, ELOOP, "step limit of 106 instructions reached", AgentLimits{1024, 106});
}

void test_infinite_goto_hits_step_limit() {
    // 0 goto 0
    eval_err({0x21, 0x00, 0x00}, ELOOP, "agent expression: goto at offset 0: step limit of 100000", {});
    // const8 1; if_goto 0: an infinite loop that keeps the stack flat.
    FakeVcpu cpu;
    auto r = evaluate_agent_expr(Bytes{0x22, 0x01, 0x20, 0x00, 0x00}, cpu, AgentLimits{1024, 1000});
    CU_ASSERT_FATAL(!r.ok());
    CU_ASSERT_EQUAL(r.error().code, ELOOP);
    CU_ASSERT_STRING_EQUAL(r.error().message.c_str(),
                           "agent expression: const8 at offset 0: step limit of 1000 instructions reached");
}

void test_stack_limit() {
    // const8 1; goto 0: pushes forever, stopped by the stack bound first.
    eval_err({0x22, 0x01, 0x21, 0x00, 0x00}, EOVERFLOW, "const8 at offset 0: stack overflow (limit 1024 values)");
    // Exactly max_stack values fit.
    const Bytes three = {0x22, 0x01, 0x22, 0x02, 0x22, 0x03, 0x27};
    FakeVcpu cpu;
    CU_ASSERT_EQUAL(eval_ok(three, cpu, AgentLimits{3, 100}), 3u);
    eval_err(three, EOVERFLOW, "const8 at offset 4: stack overflow (limit 2 values)", AgentLimits{2, 100});
    eval_err({0x22, 0x01, 0x28, 0x27}, EOVERFLOW, "dup at offset 2", AgentLimits{1, 100});
    eval_err({0x22, 0x01, 0x32, 0x00, 0x27}, EOVERFLOW, "pick at offset 2", AgentLimits{1, 100});
    eval_err({0x26, 0x00, 0x00, 0x27}, EOVERFLOW, "reg at offset 0", AgentLimits{0, 100});
}

// ------------------------------------------------------------ arithmetic edges

Bytes binop(std::uint64_t a, std::uint64_t b, AgentOp op) {
    Bytes code;
    for (std::uint64_t v : {a, b}) {
        code.push_back(0x25);
        for (int shift = 56; shift >= 0; shift -= 8) {
            code.push_back(static_cast<std::uint8_t>(v >> shift));
        }
    }
    code.push_back(static_cast<std::uint8_t>(op));
    code.push_back(0x27);
    return code;
}

std::uint64_t run_binop(std::uint64_t a, std::uint64_t b, AgentOp op) {
    FakeVcpu cpu;
    return eval_ok(binop(a, b, op), cpu);
}

void test_binary_operators() {
    constexpr std::uint64_t kMinusOne = ~0ull;
    constexpr std::uint64_t kMin = 1ull << 63;
    CU_ASSERT_EQUAL(run_binop(kMinusOne, 2, AgentOp::add), 1u);
    CU_ASSERT_EQUAL(run_binop(1, 2, AgentOp::sub), kMinusOne);
    CU_ASSERT_EQUAL(run_binop(0x100000000ull, 0x100000000ull, AgentOp::mul), 0u);
    CU_ASSERT_EQUAL(run_binop(static_cast<std::uint64_t>(-7), 2, AgentOp::div_signed), static_cast<std::uint64_t>(-3));
    CU_ASSERT_EQUAL(run_binop(static_cast<std::uint64_t>(-7), 2, AgentOp::rem_signed), static_cast<std::uint64_t>(-1));
    CU_ASSERT_EQUAL(run_binop(static_cast<std::uint64_t>(-7), 2, AgentOp::div_unsigned), 0x7ffffffffffffffcull);
    CU_ASSERT_EQUAL(run_binop(static_cast<std::uint64_t>(-7), 2, AgentOp::rem_unsigned), 1u);
    // The one signed overflow wraps instead of trapping.
    CU_ASSERT_EQUAL(run_binop(kMin, kMinusOne, AgentOp::div_signed), kMin);
    CU_ASSERT_EQUAL(run_binop(kMin, kMinusOne, AgentOp::rem_signed), 0u);
    // Shifts: the top is the count; 64 and more are defined.
    CU_ASSERT_EQUAL(run_binop(1, 63, AgentOp::lsh), kMin);
    CU_ASSERT_EQUAL(run_binop(1, 64, AgentOp::lsh), 0u);
    CU_ASSERT_EQUAL(run_binop(1, 0xffffffffffffffffull, AgentOp::lsh), 0u);
    CU_ASSERT_EQUAL(run_binop(kMin, 63, AgentOp::rsh_unsigned), 1u);
    CU_ASSERT_EQUAL(run_binop(kMin, 64, AgentOp::rsh_unsigned), 0u);
    CU_ASSERT_EQUAL(run_binop(kMin, 4, AgentOp::rsh_signed), 0xf800000000000000ull);
    CU_ASSERT_EQUAL(run_binop(kMin, 200, AgentOp::rsh_signed), kMinusOne);
    CU_ASSERT_EQUAL(run_binop(0x7fffffffffffffffull, 200, AgentOp::rsh_signed), 0u);
    CU_ASSERT_EQUAL(run_binop(0xf0, 0x3c, AgentOp::bit_and), 0x30u);
    CU_ASSERT_EQUAL(run_binop(0xf0, 0x3c, AgentOp::bit_or), 0xfcu);
    CU_ASSERT_EQUAL(run_binop(0xf0, 0x3c, AgentOp::bit_xor), 0xccu);
    CU_ASSERT_EQUAL(run_binop(5, 5, AgentOp::equal), 1u);
    CU_ASSERT_EQUAL(run_binop(5, 6, AgentOp::equal), 0u);
    CU_ASSERT_EQUAL(run_binop(kMinusOne, 0, AgentOp::less_signed), 1u);
    CU_ASSERT_EQUAL(run_binop(kMinusOne, 0, AgentOp::less_unsigned), 0u);
    CU_ASSERT_EQUAL(run_binop(0, kMinusOne, AgentOp::less_unsigned), 1u);
    CU_ASSERT_EQUAL(run_binop(3, 3, AgentOp::less_signed), 0u);
}

void test_division_by_zero() {
    for (AgentOp op : {AgentOp::div_signed, AgentOp::div_unsigned, AgentOp::rem_signed, AgentOp::rem_unsigned}) {
        eval_err(binop(42, 0, op), EDOM, "at offset 18: division by zero");
    }
}

std::uint64_t run_extend(std::uint64_t v, AgentOp op, std::uint8_t bits) {
    Bytes code = binop(v, 0, AgentOp::add);
    code.resize(9);  // const64 v only
    code.insert(code.end(), {static_cast<std::uint8_t>(op), bits, 0x27});
    FakeVcpu cpu;
    return eval_ok(code, cpu);
}

void test_extensions() {
    CU_ASSERT_EQUAL(run_extend(0x80, AgentOp::ext, 8), 0xffffffffffffff80ull);
    CU_ASSERT_EQUAL(run_extend(0x17f, AgentOp::ext, 8), 0x7fu);  // bits above n are dropped
    CU_ASSERT_EQUAL(run_extend(1, AgentOp::ext, 1), ~0ull);
    CU_ASSERT_EQUAL(run_extend(0x80000000, AgentOp::ext, 32), 0xffffffff80000000ull);
    CU_ASSERT_EQUAL(run_extend(0x4000000000000000ull, AgentOp::ext, 63), 0xc000000000000000ull);
    CU_ASSERT_EQUAL(run_extend(0x8000000000000000ull, AgentOp::ext, 64), 0x8000000000000000ull);
    CU_ASSERT_EQUAL(run_extend(0x1234, AgentOp::ext, 255), 0x1234u);
    CU_ASSERT_EQUAL(run_extend(0xffffffffffffffffull, AgentOp::zero_ext, 8), 0xffu);
    CU_ASSERT_EQUAL(run_extend(0xffffffffffffffffull, AgentOp::zero_ext, 0), 0u);
    CU_ASSERT_EQUAL(run_extend(0xffffffffffffffffull, AgentOp::zero_ext, 63), 0x7fffffffffffffffull);
    CU_ASSERT_EQUAL(run_extend(0xffffffffffffffffull, AgentOp::zero_ext, 64), ~0ull);
    CU_ASSERT_EQUAL(run_extend(0xffffffffffffffffull, AgentOp::zero_ext, 200), ~0ull);
    eval_err({0x22, 0x01, 0x16, 0x00, 0x27}, EINVAL, "ext at offset 2: sign extension from 0 bits");
}

// ------------------------------------------------------------ memory and regs

void test_ref_sizes_and_byte_order() {
    const Bytes ref8 = {0x24, 0x00, 0x40, 0x30, 0x08, 0x17, 0x27};
    const Bytes ref16 = {0x24, 0x00, 0x40, 0x30, 0x08, 0x18, 0x27};
    const Bytes ref32 = {0x24, 0x00, 0x40, 0x30, 0x08, 0x19, 0x27};
    const Bytes ref64 = {0x24, 0x00, 0x40, 0x30, 0x08, 0x1a, 0x27};
    FakeVcpu cpu;
    // Memory bytes 01 02 03 04 05 06 07 88 at counter.
    cpu.poke(kCounter, 0x8807060504030201ull, 8);
    CU_ASSERT_EQUAL(eval_ok(ref8, cpu), 0x01u);
    CU_ASSERT_EQUAL(eval_ok(ref16, cpu), 0x0201u);
    CU_ASSERT_EQUAL(eval_ok(ref32, cpu), 0x04030201u);
    CU_ASSERT_EQUAL(eval_ok(ref64, cpu), 0x8807060504030201ull);  // pushed unsigned
    // The same bytes on a big-endian target.
    cpu.order = std::endian::big;
    CU_ASSERT_EQUAL(eval_ok(ref8, cpu), 0x01u);
    CU_ASSERT_EQUAL(eval_ok(ref16, cpu), 0x0102u);
    CU_ASSERT_EQUAL(eval_ok(ref32, cpu), 0x01020304u);
    CU_ASSERT_EQUAL(eval_ok(ref64, cpu), 0x0102030405060788ull);
}

void test_memory_fault() {
    FakeVcpu cpu;
    // const32 0x404000 (unmapped); ref32
    auto r = evaluate_agent_expr(Bytes{0x24, 0x00, 0x40, 0x40, 0x00, 0x19, 0x27}, cpu);
    CU_ASSERT_FATAL(!r.ok());
    CU_ASSERT_EQUAL(r.error().code, EFAULT);
    CU_ASSERT_STRING_EQUAL(r.error().message.c_str(),
                           "agent expression: ref32 at offset 5: reading 4 bytes at 0x404000: address not mapped");
    // A ref64 whose last 4 bytes leave the RAM window (0x403ffc..0x404003).
    r = evaluate_agent_expr(Bytes{0x24, 0x00, 0x40, 0x3f, 0xfc, 0x1a, 0x27}, cpu);
    CU_ASSERT_FATAL(!r.ok());
    CU_ASSERT_EQUAL(r.error().code, EFAULT);
    // ... while a ref32 of the last 4 bytes is fine.
    CU_ASSERT_EQUAL(eval_ok(Bytes{0x24, 0x00, 0x40, 0x3f, 0xfc, 0x19, 0x27}, cpu), 0u);
    // The top of the 64-bit address space does not wrap around.
    Bytes wrap = binop(~0ull, 0, AgentOp::add);
    wrap.resize(9);
    wrap.insert(wrap.end(), {0x1a, 0x27});
    r = evaluate_agent_expr(wrap, cpu);
    CU_ASSERT_FATAL(!r.ok());
    CU_ASSERT_EQUAL(r.error().code, EFAULT);
}

void test_register_error() {
    FakeVcpu cpu;
    auto r = evaluate_agent_expr(Bytes{0x26, 0x01, 0x00, 0x27}, cpu);  // reg 256
    CU_ASSERT_FATAL(!r.ok());
    CU_ASSERT_EQUAL(r.error().code, ENOENT);
    CU_ASSERT_STRING_EQUAL(r.error().message.c_str(),
                           "agent expression: reg at offset 0: register 256: no register 256");
    cpu.set_reg(17, 0x246);  // eflags: reg operands are big-endian 16-bit
    CU_ASSERT_EQUAL(eval_ok(Bytes{0x26, 0x00, 0x11, 0x27}, cpu), 0x246u);
}

void test_trace_opcodes_only_move_the_stack() {
    FakeVcpu cpu;
    // const32 counter; const8 8; trace  => (empty); const8 7; end
    CU_ASSERT_EQUAL(eval_ok(Bytes{0x24, 0x00, 0x40, 0x30, 0x08, 0x22, 0x08, 0x0c, 0x22, 0x07, 0x27}, cpu), 7u);
    // tracenz: addr size =>
    CU_ASSERT_EQUAL(eval_ok(Bytes{0x22, 0x05, 0x22, 0x06, 0x22, 0x08, 0x2f, 0x27}, cpu), 5u);
    // trace_quick 4 and trace16 0x0100 keep addr
    CU_ASSERT_EQUAL(eval_ok(Bytes{0x22, 0x09, 0x0d, 0x04, 0x30, 0x01, 0x00, 0x27}, cpu), 9u);
    // tracev 3: no stack effect
    CU_ASSERT_EQUAL(eval_ok(Bytes{0x22, 0x09, 0x2e, 0x00, 0x03, 0x27}, cpu), 9u);
    CU_ASSERT_EQUAL(cpu.memory_reads, 0u);
    eval_err({0x22, 0x01, 0x0c, 0x27}, EINVAL, "trace at offset 2: stack underflow (needs 2 values, has 1)");
    eval_err({0x22, 0x01, 0x2f, 0x27}, EINVAL, "tracenz at offset 2: stack underflow");
    eval_err({0x0d, 0x04, 0x27}, EINVAL, "trace_quick at offset 0: stack underflow");
    eval_err({0x30, 0x00, 0x04, 0x27}, EINVAL, "trace16 at offset 0: stack underflow");
}

// ------------------------------------------------------------- error paths

void test_malformed_programs() {
    eval_err({}, EINVAL, "agent expression: empty expression");
    eval_err({0x22, 0x01}, EINVAL, "ran past the end (offset 2) without an end instruction");
    eval_err({0x22, 0x01, 0x20, 0x00, 0x06, 0x27}, EINVAL,
             "if_goto at offset 2: jump target 6 is past the end (length 6)");
    eval_err({0x21, 0xff, 0xff}, EINVAL, "goto at offset 0: jump target 65535 is past the end (length 3)");
    eval_err({0x21, 0x00, 0x03}, EINVAL, "goto at offset 0: jump target 3 is past the end (length 3)");
    eval_err({0x22, 0x01, 0x21, 0x00, 0x06, 0x27}, EINVAL, "jump target 6 is past the end");
    // A jump into the middle of an instruction decodes what is there, with
    // the same checks: goto 2 lands on its own operand byte 0x02 (add).
    eval_err({0x21, 0x00, 0x02}, EINVAL, "add at offset 2: stack underflow");
    FakeVcpu cpu;
    // const8 1; goto 6 lands on the operand byte of a const8, 0x27: end.
    CU_ASSERT_EQUAL(eval_ok(Bytes{0x22, 0x01, 0x21, 0x00, 0x06, 0x22, 0x27}, cpu), 1u);
    // An untaken if_goto's target is never used.
    CU_ASSERT_EQUAL(eval_ok(Bytes{0x22, 0x07, 0x22, 0x00, 0x20, 0xff, 0xff, 0x27}, cpu), 7u);
}

void test_truncated_operands() {
    // The offset named is the opcode's.
    const std::pair<Bytes, const char*> cases[] = {
        {{0x22}, "const8 at offset 0"},
        {{0x23, 0x01}, "const16 at offset 0"},
        {{0x24, 0x01, 0x02, 0x03}, "const32 at offset 0"},
        {{0x25, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07}, "const64 at offset 0"},
        {{0x26, 0x00}, "reg at offset 0"},
        {{0x21, 0x00}, "goto at offset 0"},
        {{0x22, 0x01, 0x20, 0x00}, "if_goto at offset 2"},
        {{0x22, 0x01, 0x16}, "ext at offset 2"},
        {{0x22, 0x01, 0x2a}, "zero_ext at offset 2"},
        {{0x22, 0x01, 0x32}, "pick at offset 2"},
        {{0x22, 0x01, 0x0d}, "trace_quick at offset 2"},
        {{0x22, 0x01, 0x30, 0x00}, "trace16 at offset 2"},
        {{0x2e, 0x00}, "tracev at offset 0"},
        {{0x2c}, "getv at offset 0"},
        {{0x22, 0x01, 0x2d, 0x01}, "setv at offset 2"},
    };
    for (const auto& [code, where] : cases) {
        eval_err(code, EINVAL, (std::string(where) + ": operand runs past the end of the expression").c_str());
    }
}

void test_stack_underflow() {
    struct Case {
        Bytes code;
        const char* needle;
    };
    const Case cases[] = {
        {{0x27}, "end at offset 0: stack underflow (empty stack, no result)"},
        {{0x22, 0x01, 0x02, 0x27}, "add at offset 2: stack underflow (needs 2 values, has 1)"},
        {{0x12, 0x27}, "bit_not at offset 0: stack underflow (needs 1 values, has 0)"},
        {{0x29, 0x27}, "pop at offset 0: stack underflow"},
        {{0x28, 0x27}, "dup at offset 0: stack underflow"},
        {{0x22, 0x01, 0x2b, 0x27}, "swap at offset 2: stack underflow"},
        {{0x22, 0x01, 0x22, 0x02, 0x33, 0x27}, "rot at offset 4: stack underflow (needs 3 values, has 2)"},
        {{0x22, 0x01, 0x32, 0x01, 0x27}, "pick at offset 2: stack underflow (pick 1 with 1 values)"},
        {{0x32, 0x00, 0x27}, "pick at offset 0: stack underflow (pick 0 with 0 values)"},
        {{0x20, 0x00, 0x00, 0x27}, "if_goto at offset 0: stack underflow"},
        {{0x19, 0x27}, "ref32 at offset 0: stack underflow"},
        {{0x16, 0x08, 0x27}, "ext at offset 0: stack underflow"},
        {{0x0e, 0x27}, "log_not at offset 0: stack underflow"},
        {{0x22, 0x01, 0x29, 0x29, 0x27}, "pop at offset 3: stack underflow"},
    };
    for (const Case& c : cases) {
        eval_err(c.code, EINVAL, c.needle);
    }
}

void test_unknown_opcodes() {
    eval_err({0x00, 0x27}, EINVAL, "agent expression: unknown opcode 0x00 at offset 0");
    eval_err({0x22, 0x01, 0x31, 0x27}, EINVAL, "unknown opcode 0x31 at offset 2");
    eval_err({0x35}, EINVAL, "unknown opcode 0x35 at offset 0");
    eval_err({0xff}, EINVAL, "unknown opcode 0xff at offset 0");
    // Every byte outside ax.def's table is rejected before any effect.
    for (unsigned op = 0x35; op <= 0xff; ++op) {
        FakeVcpu cpu;
        auto r = evaluate_agent_expr(Bytes{static_cast<std::uint8_t>(op), 0x27}, cpu);
        CU_ASSERT(!r.ok() && r.error().code == EINVAL);
    }
}

void test_unsupported_opcodes() {
    eval_err({0x01, 0x27}, ENOTSUP, "float at offset 0: floating point is not supported");
    for (std::uint8_t op : {0x1b, 0x1c, 0x1d, 0x1e, 0x1f}) {
        eval_err({0x22, 0x01, op, 0x27}, ENOTSUP, "at offset 2: floating point is not supported");
    }
    eval_err({0x2c, 0x00, 0x01, 0x27}, ENOTSUP, "getv at offset 0: trace state variables are not supported");
    eval_err({0x22, 0x01, 0x2d, 0x00, 0x01, 0x27}, ENOTSUP, "setv at offset 2: trace state variables");
    eval_err({0x34, 0x00, 0x00, 0x02, 0x25, 0x00, 0x27}, ENOTSUP, "printf at offset 0: printf is not supported");
}

const kvmdbg::test::TestCase kMachineCases[] = {
    {"rot swap pick dup", test_rot_swap_pick_dup},
    {"backward loop", test_backward_loop},
    {"infinite goto hits step limit", test_infinite_goto_hits_step_limit},
    {"stack limit", test_stack_limit},
    {"binary operators", test_binary_operators},
    {"division by zero", test_division_by_zero},
    {"ext and zero_ext", test_extensions},
    {"ref sizes and byte order", test_ref_sizes_and_byte_order},
    {"memory fault", test_memory_fault},
    {"register error", test_register_error},
    {"trace opcodes", test_trace_opcodes_only_move_the_stack},
};

const kvmdbg::test::TestCase kErrorCases[] = {
    {"malformed programs", test_malformed_programs},   {"truncated operands", test_truncated_operands},
    {"stack underflow", test_stack_underflow},         {"unknown opcodes", test_unknown_opcodes},
    {"unsupported opcodes", test_unsupported_opcodes},
};

const kvmdbg::test::TestSuite kSuites[] = {
    {"machine", kMachineCases},
    {"errors", kErrorCases},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
