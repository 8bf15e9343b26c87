// Test support for the agent expression tests: a fake vCPU implementing
// AgentContext over small RAM windows, and evaluate-and-check helpers.
// Header-only; included by test_agent_expr.cc and test_agent_expr_gdb.cc.
#pragma once

#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include <CUnit/CUnit.h>

#include "gdbstub-glue/agent_expr.h"

namespace kvmdbg::test {

using Bytes = std::vector<std::uint8_t>;

// Addresses of the variables the gdb-emitted bytecode reads.
inline constexpr std::uint64_t kI = 0x403000;           // int i
inline constexpr std::uint64_t kCounter = 0x403008;     // long counter
inline constexpr std::uint64_t kLoopIndex = 0x101040;   // volatile unsigned int loop_index
inline constexpr std::uint64_t kWatchedVar = 0x101048;  // volatile unsigned long watched_var
inline constexpr std::uint64_t kTickCount = 0x101050;   // volatile unsigned int tick_count
inline constexpr std::uint64_t kStack = 0x7ff000;       // where $rsp points

using gdb::AgentContext;
using gdb::AgentLimits;

// A vCPU: x86-64 registers 0-17 in gdb's numbering (rax ... rip, eflags)
// and three 4 KiB RAM windows: 0x101000 (debug_target.elf64's globals),
// 0x403000 (i and counter) and kStack. Reads outside them fail with EFAULT,
// as GuestMemory's do; registers past eflags fail with ENOENT.
class FakeVcpu : public AgentContext {
public:
    FakeVcpu() : regs_(18, 0), data_(0x1000, 0), low_(0x1000, 0), stack_(0x1000, 0) {}
    FakeVcpu(const FakeVcpu&) = delete;  // the windows point into *this
    FakeVcpu& operator=(const FakeVcpu&) = delete;

    Result<std::uint64_t> read_register(unsigned regnum) override {
        ++register_reads;
        if (regnum >= regs_.size()) {
            return make_error(ENOENT, "no register " + std::to_string(regnum));
        }
        return regs_[regnum];
    }

    Status read_memory(std::uint64_t addr, std::span<std::uint8_t> out) override {
        ++memory_reads;
        for (auto* window : {&data_window_, &low_window_, &stack_window_}) {
            if (addr >= window->base && addr - window->base <= window->bytes->size() &&
                out.size() <= window->bytes->size() - (addr - window->base)) {
                std::memcpy(out.data(), window->bytes->data() + (addr - window->base), out.size());
                return ok_status();
            }
        }
        return make_error(EFAULT, "address not mapped");
    }

    std::endian byte_order() const override { return order; }

    void set_reg(unsigned n, std::uint64_t v) { regs_[n] = v; }

    // Stores `value` at `addr` in `size` bytes, in `order`.
    void poke(std::uint64_t addr, std::uint64_t value, unsigned size) {
        for (auto* window : {&data_window_, &low_window_, &stack_window_}) {
            if (addr >= window->base && addr + size <= window->base + window->bytes->size()) {
                for (unsigned k = 0; k < size; ++k) {
                    unsigned shift = order == std::endian::little ? 8 * k : 8 * (size - 1 - k);
                    (*window->bytes)[addr - window->base + k] = static_cast<std::uint8_t>(value >> shift);
                }
                return;
            }
        }
        CU_FAIL_FATAL("poke outside the fake RAM");
    }

    std::endian order = std::endian::little;
    unsigned register_reads = 0;
    unsigned memory_reads = 0;

private:
    struct Window {
        std::uint64_t base;
        std::vector<std::uint8_t>* bytes;
    };
    std::vector<std::uint64_t> regs_;
    std::vector<std::uint8_t> data_, low_, stack_;
    Window data_window_{0x403000, &data_};
    Window low_window_{0x101000, &low_};
    Window stack_window_{kStack, &stack_};
};

inline std::uint64_t eval_ok(const Bytes& code, FakeVcpu& cpu, const AgentLimits& limits = {}) {
    auto r = gdb::evaluate_agent_expr(code, cpu, limits);
    if (!r) {
        std::fprintf(stderr, "unexpected error: %s\n", r.error().message.c_str());
    }
    CU_ASSERT_FATAL(r.ok());
    return r->value;
}

// Expects an error with `code` whose message contains `needle`.
inline void eval_err(const Bytes& code, int errnum, const char* needle, const AgentLimits& limits = {}) {
    FakeVcpu cpu;
    auto r = gdb::evaluate_agent_expr(code, cpu, limits);
    CU_ASSERT_FATAL(!r.ok());
    if (r.error().code != errnum || r.error().message.find(needle) == std::string::npos) {
        std::fprintf(stderr, "got code %d message '%s', wanted %d and '%s'\n", r.error().code,
                     r.error().message.c_str(), errnum, needle);
    }
    CU_ASSERT_EQUAL(r.error().code, errnum);
    CU_ASSERT(r.error().message.find(needle) != std::string::npos);
}

}  // namespace kvmdbg::test
