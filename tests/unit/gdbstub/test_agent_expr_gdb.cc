// GDB agent expressions (gdbstub-glue/agent_expr.h) as gdb sends them: the
// bytecode of real breakpoint conditions, evaluated against a fake vCPU, and
// the `X<len>,<bytes>` condition list of real Z0 packets. The machine's
// semantics and error paths are in test_agent_expr.cc.
//
// Where the bytes come from gdb, the comment above them quotes what gdb 13.1
// (Debian 13.1-3) printed. Two sources:
//
//   - `gdb -batch -nx ELF -ex 'maint agent-eval -at main, EXPR'`: the
//     disassembly of the bytecode gdb generates to evaluate a condition
//     (gen_eval_for_expr, the same code path as target-side conditions);
//     ELFs: tests/guests/x86/debug_target.elf64 (loop_index, volatile
//     unsigned int at 0x101040; watched_var, volatile unsigned long at
//     0x101048; tick_count, unsigned int at 0x101050) and a scratch C file
//     (`int i; long counter;` and a main that loops over them, built with
//     gcc -g and linked at 0x401000: i at 0x403000, counter at 0x403008);
//   - the Z0 packets gdb sent to a stub advertising ConditionalBreakpoints+
//     after `set breakpoint condition-evaluation target`,
//     `break *0x401010 if i == 57`, `condition 1 i == 57`,
//     `break *0x401010 if (counter & 1) == 1` and
//     `break *0x401020 if $rax > 3 && counter % 7 != 0` (logged verbatim).
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gdbstub-glue/agent_expr.h"
#include "tests/support/cunit_main.h"
#include "tests/unit/gdbstub/agent_fake_vcpu.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::gdb;
using namespace kvmdbg::test;

// ------------------------------------------------------- gdb-emitted bytecode

// Z0,401010,1;Xc,240040300019162022391327...  (`i == 57`, int i):
//   0  const32 4206592
//   5  ref32
//   6  ext 32
//   8  const8 57
//  10  equal
//  11  end
const Bytes kIEquals57 = {0x24, 0x00, 0x40, 0x30, 0x00, 0x19, 0x16, 0x20, 0x22, 0x39, 0x13, 0x27};

void test_int_equals_57() {
    FakeVcpu cpu;
    cpu.poke(kI, 57, 4);
    auto r = evaluate_agent_expr(kIEquals57, cpu);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(r->value, 1u);
    CU_ASSERT(r->is_true());
    CU_ASSERT_EQUAL(r->steps, 6u);
    CU_ASSERT_EQUAL(cpu.memory_reads, 1u);
    cpu.poke(kI, 56, 4);
    CU_ASSERT_EQUAL(eval_ok(kIEquals57, cpu), 0u);
    // -57 (0xffffffc7) sign-extends to -57, not 57.
    cpu.poke(kI, 0xffffffc7, 4);
    CU_ASSERT_EQUAL(eval_ok(kIEquals57, cpu), 0u);
    // Only the 4 bytes of i are read: garbage in the next word is ignored.
    cpu.poke(kI, 57, 4);
    cpu.poke(kI + 4, 0xdeadbeef, 4);
    CU_ASSERT_EQUAL(eval_ok(kIEquals57, cpu), 1u);
}

// `loop_index == 57`, volatile unsigned int (debug_target.elf64):
//   0  const32 1052736
//   5  ref32
//   6  const8 57
//   8  zero_ext 32
//  10  equal
//  11  end
void test_unsigned_equals_57() {
    const Bytes code = {0x24, 0x00, 0x10, 0x10, 0x40, 0x19, 0x22, 0x39, 0x2a, 0x20, 0x13, 0x27};
    FakeVcpu cpu;
    cpu.poke(kLoopIndex, 57, 4);
    CU_ASSERT_EQUAL(eval_ok(code, cpu), 1u);
    cpu.poke(kLoopIndex, 0x100000039, 4);  // stores 0x39 only: 4 bytes
    CU_ASSERT_EQUAL(eval_ok(code, cpu), 1u);
    cpu.poke(kLoopIndex, 58, 4);
    CU_ASSERT_EQUAL(eval_ok(code, cpu), 0u);
}

// `$rax > 3`:
//   0  reg 0
//   3  ext 64
//   5  const8 3
//   7  swap
//   8  less_signed
//   9  end
void test_rax_greater_than_3() {
    const Bytes code = {0x26, 0x00, 0x00, 0x16, 0x40, 0x22, 0x03, 0x2b, 0x14, 0x27};
    FakeVcpu cpu;
    cpu.set_reg(0, 4);
    CU_ASSERT_EQUAL(eval_ok(code, cpu), 1u);
    CU_ASSERT_EQUAL(cpu.register_reads, 1u);
    cpu.set_reg(0, 3);
    CU_ASSERT_EQUAL(eval_ok(code, cpu), 0u);
    cpu.set_reg(0, static_cast<std::uint64_t>(-5));  // signed compare: -5 > 3 is false
    CU_ASSERT_EQUAL(eval_ok(code, cpu), 0u);
    cpu.set_reg(0, 0x7fffffffffffffffull);
    CU_ASSERT_EQUAL(eval_ok(code, cpu), 1u);
}

// `watched_var & 1`, volatile unsigned long:
//   0  const32 1052744
//   5  ref64
//   6  const8 1
//   8  zero_ext 64
//  10  bit_and
//  11  end
void test_unsigned_long_and_1() {
    const Bytes code = {0x24, 0x00, 0x10, 0x10, 0x48, 0x1a, 0x22, 0x01, 0x2a, 0x40, 0x0f, 0x27};
    FakeVcpu cpu;
    cpu.poke(kWatchedVar, 0x8000000000000003ull, 8);
    CU_ASSERT_EQUAL(eval_ok(code, cpu), 1u);
    cpu.poke(kWatchedVar, 0x8000000000000002ull, 8);
    CU_ASSERT_EQUAL(eval_ok(code, cpu), 0u);
}

// `(int)loop_index == -1`:
//   0  const32 1052736
//   5  ref32
//   6  ext 32
//   8  const8 255
//  10  ext 8
//  12  equal
//  13  end
void test_cast_to_int_equals_minus_1() {
    const Bytes code = {0x24, 0x00, 0x10, 0x10, 0x40, 0x19, 0x16, 0x20, 0x22, 0xff, 0x16, 0x08, 0x13, 0x27};
    FakeVcpu cpu;
    cpu.poke(kLoopIndex, 0xffffffff, 4);
    CU_ASSERT_EQUAL(eval_ok(code, cpu), 1u);
    cpu.poke(kLoopIndex, 0xfffffffe, 4);
    CU_ASSERT_EQUAL(eval_ok(code, cpu), 0u);
}

// `loop_index == 57 && $rax > 3`:
//   0  const32 1052736       17  reg 0
//   5  ref32                 20  ext 64
//   6  const8 57             22  const8 3
//   8  zero_ext 32           24  swap
//  10  equal                 25  less_signed
//  11  if_goto 17            26  if_goto 32
//  14  goto 37               29  goto 37
//                            32  const8 1
//                            34  goto 39
//                            37  const8 0
//                            39  end
void test_logical_and() {
    const Bytes code = {0x24, 0x00, 0x10, 0x10, 0x40, 0x19, 0x22, 0x39, 0x2a, 0x20, 0x13, 0x20, 0x00, 0x11,
                        0x21, 0x00, 0x25, 0x26, 0x00, 0x00, 0x16, 0x40, 0x22, 0x03, 0x2b, 0x14, 0x20, 0x00,
                        0x20, 0x21, 0x00, 0x25, 0x22, 0x01, 0x21, 0x00, 0x27, 0x22, 0x00, 0x27};
    CU_ASSERT_EQUAL_FATAL(code.size(), 40u);
    FakeVcpu cpu;
    for (std::uint64_t li : {56u, 57u}) {
        for (std::uint64_t rax : {3u, 4u}) {
            cpu.poke(kLoopIndex, li, 4);
            cpu.set_reg(0, rax);
            cpu.register_reads = 0;
            CU_ASSERT_EQUAL(eval_ok(code, cpu), li == 57 && rax > 3 ? 1u : 0u);
            // Short circuit: $rax is read only when the left side holds.
            CU_ASSERT_EQUAL(cpu.register_reads, li == 57 ? 1u : 0u);
        }
    }
}

// `loop_index == 57 || tick_count != 2`:
//   0  const32 1052736       14  const32 1052752
//   5  ref32                 19  ref32
//   6  const8 57             20  const8 2
//   8  zero_ext 32           22  zero_ext 32
//  10  equal                 24  equal
//  11  if_goto 34            25  log_not
//                            26  if_goto 34
//                            29  const8 0
//                            31  goto 36
//                            34  const8 1
//                            36  end
void test_logical_or() {
    const Bytes code = {0x24, 0x00, 0x10, 0x10, 0x40, 0x19, 0x22, 0x39, 0x2a, 0x20, 0x13, 0x20, 0x00,
                        0x22, 0x24, 0x00, 0x10, 0x10, 0x50, 0x19, 0x22, 0x02, 0x2a, 0x20, 0x13, 0x0e,
                        0x20, 0x00, 0x22, 0x22, 0x00, 0x21, 0x00, 0x24, 0x22, 0x01, 0x27};
    CU_ASSERT_EQUAL_FATAL(code.size(), 37u);
    FakeVcpu cpu;
    for (std::uint64_t li : {56u, 57u}) {
        for (std::uint64_t tick : {2u, 3u}) {
            cpu.poke(kLoopIndex, li, 4);
            cpu.poke(kTickCount, tick, 4);
            CU_ASSERT_EQUAL(eval_ok(code, cpu), li == 57 || tick != 2 ? 1u : 0u);
        }
    }
}

// `loop_index ? 1 : 2`:
//   0  const32 1052736
//   5  ref32
//   6  log_not
//   7  if_goto 15
//  10  const8 1
//  12  goto 17
//  15  const8 2
//  17  end
void test_conditional_operator() {
    const Bytes code = {0x24, 0x00, 0x10, 0x10, 0x40, 0x19, 0x0e, 0x20, 0x00,
                        0x0f, 0x22, 0x01, 0x21, 0x00, 0x11, 0x22, 0x02, 0x27};
    FakeVcpu cpu;
    cpu.poke(kLoopIndex, 9, 4);
    CU_ASSERT_EQUAL(eval_ok(code, cpu), 1u);
    cpu.poke(kLoopIndex, 0, 4);
    CU_ASSERT_EQUAL(eval_ok(code, cpu), 2u);
}

// `i * 3 - 1 < 100 && counter % 7 != 0`:
//   0  const32 4206592       27  const32 4206600
//   5  ref32                 32  ref64
//   6  ext 32                33  ext 64
//   8  const8 3              35  const8 7
//  10  mul                   37  rem_signed
//  11  ext 32                38  ext 64
//  13  const8 1              40  const8 0
//  15  sub                   42  equal
//  16  ext 32                43  log_not
//  18  const8 100            44  if_goto 50
//  20  less_signed           47  goto 55
//  21  if_goto 27            50  const8 1
//  24  goto 55               52  goto 57
//                            55  const8 0
//                            57  end
void test_arithmetic_condition() {
    const Bytes code = {0x24, 0x00, 0x40, 0x30, 0x00, 0x19, 0x16, 0x20, 0x22, 0x03, 0x04, 0x16, 0x20, 0x22, 0x01,
                        0x03, 0x16, 0x20, 0x22, 0x64, 0x14, 0x20, 0x00, 0x1b, 0x21, 0x00, 0x37, 0x24, 0x00, 0x40,
                        0x30, 0x08, 0x1a, 0x16, 0x40, 0x22, 0x07, 0x07, 0x16, 0x40, 0x22, 0x00, 0x13, 0x0e, 0x20,
                        0x00, 0x32, 0x21, 0x00, 0x37, 0x22, 0x01, 0x21, 0x00, 0x39, 0x22, 0x00, 0x27};
    CU_ASSERT_EQUAL_FATAL(code.size(), 58u);
    FakeVcpu cpu;
    struct Case {
        std::int32_t i;
        std::int64_t counter;
    };
    for (Case c :
         {Case{10, 8}, Case{10, 14}, Case{34, 8}, Case{33, 8}, Case{-5, -8}, Case{-5, -14}, Case{0x7fffffff, 1}}) {
        cpu.poke(kI, static_cast<std::uint32_t>(c.i), 4);
        cpu.poke(kCounter, static_cast<std::uint64_t>(c.counter), 8);
        // C semantics with 32-bit int arithmetic (wrapping, as the ext 32 after mul does).
        auto lhs = static_cast<std::int32_t>(static_cast<std::uint32_t>(c.i) * 3u - 1u);
        bool expected = lhs < 100 && c.counter % 7 != 0;
        CU_ASSERT_EQUAL(eval_ok(code, cpu), expected ? 1u : 0u);
    }
}

// `(counter >> 2) / i > 5`:
//   0  const32 4206600       13  const32 4206592
//   5  ref64                 18  ref32
//   6  ext 64                19  ext 32
//   8  const8 2              21  div_signed
//  10  rsh_signed            22  ext 64
//  11  ext 64                24  const8 5
//                            26  swap
//                            27  less_signed
//                            28  end
const Bytes kShiftDivide = {0x24, 0x00, 0x40, 0x30, 0x08, 0x1a, 0x16, 0x40, 0x22, 0x02, 0x0a, 0x16, 0x40, 0x24, 0x00,
                            0x40, 0x30, 0x00, 0x19, 0x16, 0x20, 0x05, 0x16, 0x40, 0x22, 0x05, 0x2b, 0x14, 0x27};

void test_shift_and_signed_divide() {
    FakeVcpu cpu;
    cpu.poke(kCounter, 100, 8);  // 25 / 4 = 6 > 5
    cpu.poke(kI, 4, 4);
    CU_ASSERT_EQUAL(eval_ok(kShiftDivide, cpu), 1u);
    cpu.poke(kI, 5, 4);  // 25 / 5 = 5
    CU_ASSERT_EQUAL(eval_ok(kShiftDivide, cpu), 0u);
    cpu.poke(kCounter, static_cast<std::uint64_t>(-100), 8);  // -25 / -4 = 6 (arithmetic shift)
    cpu.poke(kI, static_cast<std::uint32_t>(-4), 4);
    CU_ASSERT_EQUAL(eval_ok(kShiftDivide, cpu), 1u);
    cpu.poke(kI, 4, 4);  // -25 / 4 = -6 (truncates toward zero)
    CU_ASSERT_EQUAL(eval_ok(kShiftDivide, cpu), 0u);
}

void test_gdb_condition_divide_by_zero_is_an_error() {
    FakeVcpu cpu;
    cpu.poke(kCounter, 100, 8);
    cpu.poke(kI, 0, 4);
    auto r = evaluate_agent_expr(kShiftDivide, cpu);
    CU_ASSERT_FATAL(!r.ok());
    CU_ASSERT_EQUAL(r.error().code, EDOM);
    CU_ASSERT_STRING_EQUAL(r.error().message.c_str(), "agent expression: div_signed at offset 21: division by zero");
}

// `-i == ~counter`:
//   0  const8 0              13  const32 4206600
//   2  const32 4206592       18  ref64
//   7  ref32                 19  ext 64
//   8  ext 32                21  bit_not
//  10  sub                   22  ext 64
//  11  ext 32                24  equal
//                            25  end
void test_negate_and_complement() {
    const Bytes code = {0x22, 0x00, 0x24, 0x00, 0x40, 0x30, 0x00, 0x19, 0x16, 0x20, 0x03, 0x16, 0x20,
                        0x24, 0x00, 0x40, 0x30, 0x08, 0x1a, 0x16, 0x40, 0x12, 0x16, 0x40, 0x13, 0x27};
    FakeVcpu cpu;
    cpu.poke(kI, 8, 4);  // -8 == ~7
    cpu.poke(kCounter, 7, 8);
    CU_ASSERT_EQUAL(eval_ok(code, cpu), 1u);
    cpu.poke(kCounter, 8, 8);
    CU_ASSERT_EQUAL(eval_ok(code, cpu), 0u);
}

// `*(char*)$rsp == 0x12`:         `*(short*)$rsp == -2`:
//   0  reg 7                        0  reg 7
//   3  zero_ext 64                  3  zero_ext 64
//   5  ref8                         5  ref16
//   6  ext 8                        6  ext 16
//   8  const8 18                    8  const8 254
//  10  equal                       10  ext 8
//  11  end                         12  equal
//                                  13  end
void test_memory_through_register() {
    const Bytes byte_eq = {0x26, 0x00, 0x07, 0x2a, 0x40, 0x17, 0x16, 0x08, 0x22, 0x12, 0x13, 0x27};
    const Bytes short_eq = {0x26, 0x00, 0x07, 0x2a, 0x40, 0x18, 0x16, 0x10, 0x22, 0xfe, 0x16, 0x08, 0x13, 0x27};
    FakeVcpu cpu;
    cpu.set_reg(7, kStack + 0x801);  // odd: ref16 must work unaligned
    cpu.poke(kStack + 0x801, 0xfe12, 2);
    CU_ASSERT_EQUAL(eval_ok(byte_eq, cpu), 1u);
    CU_ASSERT_EQUAL(eval_ok(short_eq, cpu), 0u);  // 0xfe12
    cpu.poke(kStack + 0x801, 0xfffe, 2);
    CU_ASSERT_EQUAL(eval_ok(byte_eq, cpu), 0u);
    CU_ASSERT_EQUAL(eval_ok(short_eq, cpu), 1u);
}

// `(unsigned)i / 3u == (unsigned)counter % 5u`:
//   0  const32 4206592       15  const32 4206600
//   5  ref32                 20  ref64
//   6  ext 32                21  ext 64
//   8  zero_ext 32           23  zero_ext 32
//  10  const8 3              25  const8 5
//  12  div_unsigned          27  rem_unsigned
//  13  zero_ext 32           28  zero_ext 32
//                            30  equal
//                            31  end
void test_unsigned_divide_and_remainder() {
    const Bytes code = {0x24, 0x00, 0x40, 0x30, 0x00, 0x19, 0x16, 0x20, 0x2a, 0x20, 0x22, 0x03, 0x06, 0x2a, 0x20, 0x24,
                        0x00, 0x40, 0x30, 0x08, 0x1a, 0x16, 0x40, 0x2a, 0x20, 0x22, 0x05, 0x08, 0x2a, 0x20, 0x13, 0x27};
    FakeVcpu cpu;
    cpu.poke(kI, 12, 4);                           // 12 / 3 = 4
    cpu.poke(kCounter, 0xffffffff00000009ull, 8);  // (unsigned)counter = 9, 9 % 5 = 4
    CU_ASSERT_EQUAL(eval_ok(code, cpu), 1u);
    cpu.poke(kI, 0xfffffffd, 4);           // (unsigned)-3 / 3 = 0x55555554, not -1
    cpu.poke(kCounter, 0x55555554ull, 8);  // 0x55555554 % 5 = 4
    CU_ASSERT_EQUAL(eval_ok(code, cpu), 0u);
    cpu.poke(kI, 2, 4);  // 2 / 3 = 0 == 0 % 5
    cpu.poke(kCounter, 0, 8);
    CU_ASSERT_EQUAL(eval_ok(code, cpu), 1u);
}

// `i ^ 5 | 2`:                    `counter == 0x123456789abcdef0`:
//   0  const32 4206592              0  const32 4206600
//   5  ref32                        5  ref64
//   6  ext 32                       6  ext 64
//   8  const8 5                     8  const64 1311768467463790320
//  10  bit_xor                     17  equal
//  11  const8 2                    18  end
//  13  bit_or
//  14  end
void test_xor_or_and_const64() {
    const Bytes xor_or = {0x24, 0x00, 0x40, 0x30, 0x00, 0x19, 0x16, 0x20, 0x22, 0x05, 0x11, 0x22, 0x02, 0x10, 0x27};
    const Bytes eq64 = {0x24, 0x00, 0x40, 0x30, 0x08, 0x1a, 0x16, 0x40, 0x25, 0x12,
                        0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x13, 0x27};
    FakeVcpu cpu;
    cpu.poke(kI, 0x70, 4);
    CU_ASSERT_EQUAL(eval_ok(xor_or, cpu), 0x77u);
    cpu.poke(kI, 0xffffffff, 4);  // -1 ^ 5 | 2 = ...fffa | 2
    CU_ASSERT_EQUAL(eval_ok(xor_or, cpu), 0xfffffffffffffffaull | 2u);
    cpu.poke(kCounter, 0x123456789abcdef0ull, 8);
    CU_ASSERT_EQUAL(eval_ok(eq64, cpu), 1u);
    cpu.poke(kCounter, 0x123456789abcdef1ull, 8);
    CU_ASSERT_EQUAL(eval_ok(eq64, cpu), 0u);
}

// `i == 1000`:                    `!(i != 0)`:
//   0  const32 4206592              0  const32 4206592
//   5  ref32                        5  ref32
//   6  ext 32                       6  ext 32
//   8  const16 1000                 8  const8 0
//  11  equal                       10  equal
//  12  end                         11  log_not
//                                  12  log_not
//                                  13  end
void test_const16_and_log_not() {
    const Bytes eq1000 = {0x24, 0x00, 0x40, 0x30, 0x00, 0x19, 0x16, 0x20, 0x23, 0x03, 0xe8, 0x13, 0x27};
    const Bytes not_ne = {0x24, 0x00, 0x40, 0x30, 0x00, 0x19, 0x16, 0x20, 0x22, 0x00, 0x13, 0x0e, 0x0e, 0x27};
    FakeVcpu cpu;
    cpu.poke(kI, 1000, 4);
    CU_ASSERT_EQUAL(eval_ok(eq1000, cpu), 1u);
    CU_ASSERT_EQUAL(eval_ok(not_ne, cpu), 0u);
    cpu.poke(kI, 0, 4);
    CU_ASSERT_EQUAL(eval_ok(eq1000, cpu), 0u);
    CU_ASSERT_EQUAL(eval_ok(not_ne, cpu), 1u);
}

// `maint agent -at main, loop_index == 57` (the tracepoint form, with
// trace_quick and a final pop): the trace opcodes only do their stack effect.
//   0  const32 1052736
//   5  trace_quick 4
//   7  ref32
//   8  const8 57
//  10  zero_ext 32
//  12  equal
//  13  pop
//  14  end            <- empty stack: an error for a condition
void test_tracepoint_form() {
    Bytes code = {0x24, 0x00, 0x10, 0x10, 0x40, 0x0d, 0x04, 0x19, 0x22, 0x39, 0x2a, 0x20, 0x13, 0x29, 0x27};
    FakeVcpu cpu;
    cpu.poke(kLoopIndex, 57, 4);
    auto r = evaluate_agent_expr(code, cpu);
    CU_ASSERT_FATAL(!r.ok());
    CU_ASSERT_EQUAL(r.error().code, EINVAL);
    CU_ASSERT(r.error().message.find("end at offset 14") != std::string::npos);
    CU_ASSERT_EQUAL(cpu.memory_reads, 1u);  // ref32 only: trace_quick collects nothing
    code.erase(code.begin() + 13);          // drop the pop
    CU_ASSERT_EQUAL(eval_ok(code, cpu), 1u);
}

// ------------------------------------------------------------ condition list

void test_parse_real_z0_conditions() {
    // gdb 13.1 sent, for `condition 1 i == 57` plus a second breakpoint at
    // the same address with `(counter & 1) == 1`:
    const std::string_view packet = "Z0,401010,1;Xc,240040300019162022391327Xf,24004030081a164022010f22011327";
    auto list = parse_condition_list(packet.substr(packet.find(';') + 1));
    CU_ASSERT_FATAL(list.has_value());
    CU_ASSERT_EQUAL_FATAL(list->size(), 2u);
    CU_ASSERT((*list)[0] == kIEquals57);
    const Bytes counter_and_1 = {0x24, 0x00, 0x40, 0x30, 0x08, 0x1a, 0x16, 0x40,
                                 0x22, 0x01, 0x0f, 0x22, 0x01, 0x13, 0x27};
    CU_ASSERT((*list)[1] == counter_and_1);

    FakeVcpu cpu;
    cpu.poke(kI, 57, 4);
    cpu.poke(kCounter, 2, 8);
    CU_ASSERT_EQUAL(eval_ok((*list)[0], cpu), 1u);
    CU_ASSERT_EQUAL(eval_ok((*list)[1], cpu), 0u);
    cpu.poke(kCounter, 3, 8);
    CU_ASSERT_EQUAL(eval_ok((*list)[1], cpu), 1u);
}

void test_parse_and_run_rax_and_counter() {
    // `break *0x401020 if $rax > 3 && counter % 7 != 0`:
    const std::string_view packet =
        "Z0,401020,1;X2e,260000164022032b1420000f21002b24004030081a164022070716402200130e20002621002b22012"
        "1002d220027";
    auto list = parse_condition_list(packet.substr(packet.find(';') + 1));
    CU_ASSERT_FATAL(list.has_value());
    CU_ASSERT_EQUAL_FATAL(list->size(), 1u);
    CU_ASSERT_EQUAL_FATAL((*list)[0].size(), 0x2eu);
    FakeVcpu cpu;
    for (std::uint64_t rax : {3u, 4u}) {
        for (std::int64_t counter : {14, 15, -15}) {
            cpu.set_reg(0, rax);
            cpu.poke(kCounter, static_cast<std::uint64_t>(counter), 8);
            CU_ASSERT_EQUAL(eval_ok((*list)[0], cpu), rax > 3 && counter % 7 != 0 ? 1u : 0u);
        }
    }
}

void test_parse_separators_and_case() {
    auto list = parse_condition_list("X1,27;X2,22FF");
    CU_ASSERT_FATAL(list.has_value());
    CU_ASSERT_EQUAL_FATAL(list->size(), 2u);
    CU_ASSERT((*list)[0] == Bytes{0x27});
    CU_ASSERT((*list)[1] == (Bytes{0x22, 0xff}));
    list = parse_condition_list("X0001,27");  // leading zeros in the length
    CU_ASSERT_FATAL(list.has_value());
    CU_ASSERT((*list)[0] == Bytes{0x27});
    list = parse_condition_list("XA,00112233445566778899");
    CU_ASSERT_FATAL(list.has_value());
    CU_ASSERT_EQUAL((*list)[0].size(), 10u);
}

void test_parse_malformed() {
    const char* bad[] = {
        "",                             // no entry
        "X",                            // no length
        "Xc",                           // no comma
        "Xc,",                          // no bytes
        "X,27",                         // empty length
        "X0,",                          // zero length
        "X0,27",                        // zero length, bytes left over
        "Xc,2400403000191620223913",    // one byte short
        "X1,2",                         // odd digit count
        "X1,zz",                        // not hex
        "X1,2g",                        // not hex
        "X1,270",                       // one digit too many
        "X1,27Y",                       // stray character
        "X1,27;",                       // dangling separator
        "X1,27;;X1,27",                 // double separator
        ";X1,27",                       // starts with a separator
        "Y1,27",                        // not an X entry
        "x1,27",                        // lower-case marker
        "X-1,27",                       // sign
        "X 1,27",                       // space
        "X1 ,27",                       // space
        "X1,27 ",                       // trailing space
        "X1,27X",                       // second entry empty
        "Xffffffffffffffff,27",         // length beyond the text
        "X10000000000000000000000,27",  // length that overflows 64 bits
        "X1,27;cmds:0,X1,27",           // the caller must strip cmds:
    };
    for (const char* text : bad) {
        if (parse_condition_list(text).has_value()) {
            std::fprintf(stderr, "accepted '%s'\n", text);
        }
        CU_ASSERT(!parse_condition_list(text).has_value());
    }
}

const kvmdbg::test::TestCase kGdbCases[] = {
    {"int i == 57", test_int_equals_57},
    {"unsigned == 57", test_unsigned_equals_57},
    {"$rax > 3", test_rax_greater_than_3},
    {"unsigned long & 1", test_unsigned_long_and_1},
    {"(int)x == -1", test_cast_to_int_equals_minus_1},
    {"&& short circuit", test_logical_and},
    {"||", test_logical_or},
    {"?:", test_conditional_operator},
    {"i * 3 - 1 < 100 && counter % 7 != 0", test_arithmetic_condition},
    {"(counter >> 2) / i > 5", test_shift_and_signed_divide},
    {"divide by zero in a condition", test_gdb_condition_divide_by_zero_is_an_error},
    {"-i == ~counter", test_negate_and_complement},
    {"*(char*)$rsp, *(short*)$rsp", test_memory_through_register},
    {"unsigned / and %", test_unsigned_divide_and_remainder},
    {"^ | const64", test_xor_or_and_const64},
    {"const16, !!", test_const16_and_log_not},
    {"tracepoint form", test_tracepoint_form},
};

const kvmdbg::test::TestCase kParseCases[] = {
    {"real Z0 conditions", test_parse_real_z0_conditions},
    {"real Z0 $rax && counter", test_parse_and_run_rax_and_counter},
    {"separators and case", test_parse_separators_and_case},
    {"malformed", test_parse_malformed},
};

const kvmdbg::test::TestSuite kSuites[] = {
    {"gdb_bytecode", kGdbCases},
    {"condition_list", kParseCases},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
