// RecordingMachineAccel: a hw::MachineAccel for unit tests that performs
// nothing and records what a machine asked of it: every mapping (address,
// size, host bytes, read-only), every other call as "op cpu" in order, and
// the last arm64 PC and X0 set. Header only; one test's thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw-models/machine.h"

namespace kvmdbg::test {

class RecordingMachineAccel final : public hw::MachineAccel {
public:
    struct Mapping {
        std::uint64_t gpa;
        std::uint64_t size;
        const std::uint8_t* host;
        bool read_only;
    };
    Status map_ram(std::uint64_t gpa, std::uint64_t size, void* host, bool read_only) override {
        mappings.push_back({gpa, size, static_cast<const std::uint8_t*>(host), read_only});
        return ok_status();
    }
    Status set_x86_state(std::uint32_t cpu, const KvmdbgX86State&) override { return record("set_x86_state", cpu); }
    Result<KvmdbgArm64State> get_arm64_state(std::uint32_t cpu) override {
        calls.push_back("get_arm64_state " + std::to_string(cpu));
        return KvmdbgArm64State{};
    }
    Status set_arm64_state(std::uint32_t cpu, const KvmdbgArm64State& state) override {
        arm64_pc = state.pc;
        arm64_x0 = state.x[0];
        return record("set_arm64_state", cpu);
    }
    Status set_mp_runnable(std::uint32_t cpu) override { return record("set_mp_runnable", cpu); }
    Status wait_for_sipi(std::uint32_t cpu) override { return record("wait_for_sipi", cpu); }
    Status power_off_vcpu(std::uint32_t cpu) override { return record("power_off_vcpu", cpu); }

    std::vector<Mapping> mappings;
    std::vector<std::string> calls;
    std::uint64_t arm64_pc = ~std::uint64_t{0};  ///< none set yet
    std::uint64_t arm64_x0 = ~std::uint64_t{0};

private:
    Status record(const char* op, std::uint32_t cpu) {
        calls.push_back(std::string(op) + " " + std::to_string(cpu));
        return ok_status();
    }
};

}  // namespace kvmdbg::test
