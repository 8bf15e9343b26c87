// GDB agent expressions: the bytecode gdb sends for target-side breakpoint
// conditions, and the condition list that carries it in a Z packet.
//
// After `set breakpoint condition-evaluation target`, gdb compiles each
// breakpoint condition into agent bytecode and appends it to the insert
// packet (gdb manual, "Packets", `Z0`/`Z1` with `cond_list`):
//
//   Z0,401010,1;Xc,240040300019162022391327Xf,24004030081a164022010f22011327
//               \_________ condition list (parse_condition_list) _________/
//
// Each `X<len>,<bytes>` entry is one expression: `len` is the byte count in
// hex, `bytes` the bytecode hex-encoded. gdb 13 concatenates entries with no
// separator (remote.c, remote_add_target_side_condition); gdbserver also
// accepts a ';' between them, and so do we. The stop is reported only if one
// of the conditions evaluates to non-zero.
//
// The machine (gdb manual, appendix "Agent Expressions": "General Bytecode
// Design" and "Bytecode Descriptions"; opcode values and operand sizes from
// gdb's gdbsupport/ax.def):
//
//   - a stack of 64-bit integers; the top is the result at `end`;
//   - one-byte opcodes, some followed by operands stored most significant
//     byte first whatever the target's byte order (const16/32/64, reg n,
//     goto/if_goto offset, getv/setv/tracev n, trace16 size); ext, zero_ext,
//     const8, trace_quick and pick take a single byte;
//   - goto/if_goto jump to an absolute offset from the start of the
//     expression;
//   - ref8/16/32/64 read guest memory in the target's byte order and push
//     the value zero-extended; reg pushes a register (gdb's numbering,
//     the same as the `p`/`P` packets and the target description).
//
// Opcode map (operand bytes after the name; * = error ENOTSUP, see below):
//
//       0x0_               0x1_               0x2_               0x3_
//   _0  -                  bit_or             if_goto +2         trace16 +2
//   _1  float*             bit_xor            goto +2            (invalid2)
//   _2  add                bit_not            const8 +1          pick +1
//   _3  sub                equal              const16 +2         rot
//   _4  mul                less_signed        const32 +4         printf*
//   _5  div_signed         less_unsigned      const64 +8
//   _6  div_unsigned       ext +1             reg +2
//   _7  rem_signed         ref8               end
//   _8  rem_unsigned       ref16              dup
//   _9  lsh                ref32              pop
//   _a  rsh_signed         ref64              zero_ext +1
//   _b  rsh_unsigned       ref_float*         swap
//   _c  trace              ref_double*        getv* +2
//   _d  trace_quick +1     ref_long_double*   setv* +2
//   _e  log_not            l_to_d*            tracev +2
//   _f  bit_and            d_to_l*            tracenz
//
// Stack effects (top of stack on the right): binary operators a b => a OP b
// (b is the top: sub gives a-b, less_signed gives a<b); ext n / zero_ext n
// sign- or zero-extend the top from n bits; dup a => a a; pop a =>;
// swap a b => b a; rot a b c => c a b; pick n copies the value n below the
// top (pick 0 == dup); if_goto off pops and jumps if non-zero.
//
// Hostile input: the bytecode arrives from the network. The evaluator checks
// every operand fetch and jump target against the expression's length, every
// pop against the stack depth, bounds the stack (AgentLimits::max_stack) and
// the number of executed instructions (AgentLimits::max_steps, so a `goto`
// loop ends in an error), and reports division by zero, unknown opcodes and
// running off the end without `end` as errors. Nothing is fatal and nothing
// is undefined behaviour: shifts by 64 or more and INT64_MIN / -1 have
// defined results (see evaluate_agent_expr).
//
// Not supported (error ENOTSUP, never silently wrong): the floating-point
// opcodes (float, ref_float, ref_double, ref_long_double, l_to_d, d_to_l),
// trace state variables (getv, setv) and printf. The trace opcodes (trace,
// trace_quick, trace16, tracenz, tracev) collect data for tracepoints; a
// condition has no trace buffer, so they only do their stack effect.
//
// Threads: everything here is pure; evaluate_agent_expr calls the context
// on the calling thread only, and may be called from any thread.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kvmdbg::gdb {

/// Opcode values, exactly as gdb's gdbsupport/ax.def assigns them. Names
/// that are C++ keywords or would clash carry a trailing underscore.
enum class AgentOp : std::uint8_t {
    float_ = 0x01,
    add = 0x02,
    sub = 0x03,
    mul = 0x04,
    div_signed = 0x05,
    div_unsigned = 0x06,
    rem_signed = 0x07,
    rem_unsigned = 0x08,
    lsh = 0x09,
    rsh_signed = 0x0a,
    rsh_unsigned = 0x0b,
    trace = 0x0c,
    trace_quick = 0x0d,
    log_not = 0x0e,
    bit_and = 0x0f,
    bit_or = 0x10,
    bit_xor = 0x11,
    bit_not = 0x12,
    equal = 0x13,
    less_signed = 0x14,
    less_unsigned = 0x15,
    ext = 0x16,
    ref8 = 0x17,
    ref16 = 0x18,
    ref32 = 0x19,
    ref64 = 0x1a,
    ref_float = 0x1b,
    ref_double = 0x1c,
    ref_long_double = 0x1d,
    l_to_d = 0x1e,
    d_to_l = 0x1f,
    if_goto = 0x20,
    goto_ = 0x21,
    const8 = 0x22,
    const16 = 0x23,
    const32 = 0x24,
    const64 = 0x25,
    reg = 0x26,
    end = 0x27,
    dup = 0x28,
    pop = 0x29,
    zero_ext = 0x2a,
    swap = 0x2b,
    getv = 0x2c,
    setv = 0x2d,
    tracev = 0x2e,
    tracenz = 0x2f,
    trace16 = 0x30,
    // 0x31 is "invalid2" in ax.def: a placeholder, not an instruction.
    pick = 0x32,
    rot = 0x33,
    printf_ = 0x34,
};

/// What the evaluator needs from the target: registers and memory of the
/// vCPU that hit the breakpoint. Implemented by the stub's glue over its
/// DebugTarget; the evaluator neither owns nor stores it.
struct AgentContext {
    virtual ~AgentContext() = default;

    /// Register `regnum` in gdb's numbering for the target (the `p` packet
    /// numbering; x86-64: 0 rax, 1 rbx, 2 rcx, 3 rdx, 4 rsi, 5 rdi, 6 rbp,
    /// 7 rsp, 8-15 r8-r15, 16 rip, 17 eflags, ...), zero-extended to 64
    /// bits. An unknown number is an error; it ends the evaluation.
    virtual Result<std::uint64_t> read_register(unsigned regnum) = 0;

    /// Fills `out` with guest memory at `addr` (a virtual address, as gdb
    /// sends it). Must bounds-check: an unmapped address is an error
    /// (EFAULT), never a crash. The error ends the evaluation.
    virtual Status read_memory(std::uint64_t addr, std::span<std::uint8_t> out) = 0;

    /// Byte order in which ref16/32/64 interpret memory. x86 is little
    /// endian; a big-endian target (s390x, ppc BE) overrides this.
    virtual std::endian byte_order() const { return std::endian::little; }
};

/// Bounds on one evaluation. The defaults suit breakpoint conditions: gdb's
/// own conditions use a handful of stack slots and run straight through
/// (its only jumps are forward, for && || ?:).
struct AgentLimits {
    /// Maximum number of values on the stack (gdbserver uses 100).
    std::size_t max_stack = 1024;
    /// Maximum number of instructions executed, `end` included.
    std::uint64_t max_steps = 100000;
};

/// The value an expression left on top of the stack at `end`.
struct AgentResult {
    std::uint64_t value = 0;
    /// Instructions executed, `end` included.
    std::uint64_t steps = 0;

    /// A breakpoint condition holds when its value is non-zero.
    bool is_true() const { return value != 0; }
};

/// Runs `bytecode` against `ctx` and returns the top of the stack at `end`
/// (values below it are ignored, as gdbserver does).
///
/// Integer semantics are those of 64-bit two's complement: add/sub/mul wrap;
/// div_signed of INT64_MIN by -1 gives INT64_MIN and rem_signed gives 0;
/// lsh and rsh_unsigned by 64 or more give 0, rsh_signed by 64 or more gives
/// 0 or -1 by sign; ext n with n >= 64 and zero_ext n with n >= 64 change
/// nothing; zero_ext 0 gives 0.
///
/// Errors (the message names the opcode and its offset):
///   EINVAL     empty expression; unknown opcode (0x00, 0x31, >= 0x35);
///              operand past the end; jump target past the end; running
///              past the end without `end`; stack underflow (including an
///              empty stack at `end` and `pick` deeper than the stack);
///              `ext 0`
///   EOVERFLOW  more than limits.max_stack values
///   ELOOP      more than limits.max_steps instructions
///   EDOM       division or remainder by zero
///   ENOTSUP    float opcodes, getv, setv, printf
///   (context)  an error from ctx.read_register or ctx.read_memory, with
///              its code kept and the opcode prepended to its message
Result<AgentResult> evaluate_agent_expr(std::span<const std::uint8_t> bytecode, AgentContext& ctx,
                                        const AgentLimits& limits = {});

/// Parses the condition list of a Z0/Z1 packet: the text after the ';' that
/// follows `kind`, e.g. "Xc,240040300019162022391327" or several entries
/// concatenated or separated by ';'. Each `X<hexlen>,<hexbytes>` entry must
/// have a non-zero length and exactly 2*len hex digits (either case). The
/// caller splits off a `;cmds:` tail (gdb manual, "Packets", Z0) first.
/// Returns one bytecode vector per entry, in order; std::nullopt for an
/// empty list, a stray character, a bad length or a short/odd hex string.
std::optional<std::vector<std::vector<std::uint8_t>>> parse_condition_list(std::string_view text);

}  // namespace kvmdbg::gdb
