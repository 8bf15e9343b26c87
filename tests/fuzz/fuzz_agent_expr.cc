// libFuzzer target: the agent-expression evaluator (gdbstub-glue/agent_expr,
// condition_evaluator) that runs gdb's target-side breakpoint conditions
// (gdb manual, "Agent Expressions" and "General Bytecode Design").
//
// Input: byte 0 selects the mode, the rest is the expression.
//   bit 0 = 0: the rest is raw bytecode, evaluated directly;
//       = 1: the rest is the text of a Z packet's condition list
//            (";X<len>,<hex bytes>..."), parsed with parse_condition_list
//            and each condition evaluated through AgentExprConditionEvaluator.
//   bit 1: big-endian target (byte_order()).
//   bit 2: tight limits (stack 8, 64 steps) so the limit paths are reached.
// The fake vCPU has registers 0-17 (values derived from the number; 18 and
// up fail with ENOENT) and 4 KiB RAM windows at 0x1000, 0x101000 and
// 0x403000 (a byte pattern; every other address fails with EFAULT), where
// the gdb-emitted bytecode of the seed corpus (from debug_target.elf64 and
// test_agent_expr_gdb.cc) loads its variables, like the unit tests' FakeVcpu.
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "gdbstub-glue/agent_expr.h"
#include "gdbstub-glue/condition_evaluator.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::gdb;

constexpr std::uint64_t kRamBase = 0x1000;
constexpr std::uint64_t kWindows[] = {kRamBase, 0x101000, 0x403000};
constexpr std::size_t kRamSize = 0x1000;

class FuzzVcpu final : public AgentContext {
public:
    explicit FuzzVcpu(std::endian order) : order_(order) {
        for (std::size_t i = 0; i < kRamSize; ++i) {
            ram_[i] = static_cast<std::uint8_t>(i * 7 + 3);
        }
    }

    Result<std::uint64_t> read_register(unsigned regnum) override {
        if (regnum >= 18) {
            return make_error(ENOENT, "no register " + std::to_string(regnum));
        }
        // Register 16 (rip) and 7 (rsp) point into RAM so that loads succeed.
        if (regnum == 16 || regnum == 7) {
            return kRamBase + 0x100 * (regnum % 8);
        }
        return 0x0123456789abcdefull * (regnum + 1);
    }

    Status read_memory(std::uint64_t addr, std::span<std::uint8_t> out) override {
        for (std::uint64_t base : kWindows) {
            if (addr >= base && addr - base <= kRamSize && out.size() <= kRamSize - (addr - base)) {
                std::memcpy(out.data(), ram_ + (addr - base), out.size());
                return ok_status();
            }
        }
        return make_error(EFAULT, "address not mapped");
    }

    std::endian byte_order() const override { return order_; }

private:
    std::endian order_;
    std::uint8_t ram_[kRamSize];
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    std::uint8_t mode = data[0];
    std::span<const std::uint8_t> rest(data + 1, size - 1);
    FuzzVcpu vcpu((mode & 2) != 0 ? std::endian::big : std::endian::little);
    AgentLimits limits;
    if ((mode & 4) != 0) {
        limits.max_stack = 8;
        limits.max_steps = 64;
    }

    if ((mode & 1) == 0) {
        auto r = evaluate_agent_expr(rest, vcpu, limits);
        if (r.ok() && r.value().steps > limits.max_steps) {
            __builtin_trap();  // the step limit must hold
        }
        return 0;
    }

    std::string_view text(reinterpret_cast<const char*>(rest.data()), rest.size());
    auto conditions = parse_condition_list(text);
    if (!conditions) {
        return 0;
    }
    AgentExprConditionEvaluator evaluator(limits);
    for (const auto& bytecode : *conditions) {
        (void)evaluator.evaluate(bytecode, vcpu);
    }
    return 0;
}
