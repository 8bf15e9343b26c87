// AccelMachinePort: the accelerator seen through hw::MachineAccel, the narrow
// interface a machine model uses to map its memory and boot its vCPUs
// (hw-models/machine.h). hw-models/ does not include accel/, so this
// adapter in system/ is where the two meet. Each call forwards to the
// Accelerator unchanged (same thread rules and errors, accel/accelerator.h).
#pragma once

#include "accel/accelerator.h"
#include "hw-models/machine.h"

namespace kvmdbg::system {

class AccelMachinePort final : public hw::MachineAccel {
public:
    /// `accel` must outlive the port.
    explicit AccelMachinePort(accel::Accelerator& accel) : accel_(accel) {}

    Status map_ram(std::uint64_t gpa, std::uint64_t size, void* host, bool read_only) override {
        return accel_.map_ram(gpa, size, host, read_only);
    }
    Status set_x86_state(std::uint32_t cpu, const KvmdbgX86State& state) override {
        return accel_.set_x86_state(cpu, state);
    }
    Result<KvmdbgArm64State> get_arm64_state(std::uint32_t cpu) override { return accel_.get_arm64_state(cpu); }
    Status set_arm64_state(std::uint32_t cpu, const KvmdbgArm64State& state) override {
        return accel_.set_arm64_state(cpu, state);
    }
    Status set_mp_runnable(std::uint32_t cpu) override { return accel_.set_mp_runnable(cpu); }
    Status wait_for_sipi(std::uint32_t cpu) override { return accel_.wait_for_sipi(cpu); }
    Status power_off_vcpu(std::uint32_t cpu) override { return accel_.power_off_vcpu(cpu); }

private:
    accel::Accelerator& accel_;
};

}  // namespace kvmdbg::system
