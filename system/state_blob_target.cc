#include "system/state_blob_target.h"

#include <string>

namespace kvmdbg::system {

StateBlobTarget::StateBlobTarget(unsigned vcpus, const IsaDescriptor& isa)
    : isa_(isa), states_(vcpus, gdb::ThreadRunState::running) {}

std::vector<std::uint8_t> StateBlobTarget::registers_from_state(const void* state, std::size_t size) const {
    if (state == nullptr) {
        return {};
    }
    auto registers = isa_.registers_from_state({static_cast<const std::uint8_t*>(state), size});
    return registers ? std::move(*registers) : std::vector<std::uint8_t>{};
}

Result<std::uint32_t> StateBlobTarget::cpu_of(gdb::ThreadId thread) const {
    if (thread < 1 || thread > static_cast<gdb::ThreadId>(states_.size())) {
        return make_error(EINVAL, "no thread " + std::to_string(thread));
    }
    return static_cast<std::uint32_t>(thread - 1);
}

void StateBlobTarget::set_run_state(std::uint32_t cpu, gdb::ThreadRunState state) {
    if (cpu < states_.size()) {
        states_[cpu] = state;
    }
}

void StateBlobTarget::set_all_run_states(gdb::ThreadRunState state) {
    for (auto& s : states_) {
        s = state;
    }
}

gdb::ThreadRunState StateBlobTarget::thread_state(gdb::ThreadId thread) const {
    auto cpu = cpu_of(thread);
    return cpu ? states_[*cpu] : gdb::ThreadRunState::paused;
}

Result<StateBlobTarget::CpuState> StateBlobTarget::cpu_state(gdb::ThreadId thread) {
    auto cpu = cpu_of(thread);
    if (!cpu) {
        return cpu.error();
    }
    auto state = get_state(*cpu);
    if (!state) {
        return state.error();
    }
    return CpuState{*cpu, std::move(*state)};
}

Result<std::vector<std::uint8_t>> StateBlobTarget::read_registers(gdb::ThreadId thread) {
    auto cs = cpu_state(thread);
    if (!cs) {
        return cs.error();
    }
    return isa_.registers_from_state(cs->state);
}

Status StateBlobTarget::write_registers(gdb::ThreadId thread, std::span<const std::uint8_t> data) {
    auto cs = cpu_state(thread);
    if (!cs) {
        return cs.error();
    }
    if (auto s = isa_.registers_to_state(data, cs->state); !s) {
        return s;
    }
    return set_state(cs->cpu, cs->state);
}

Result<std::vector<std::uint8_t>> StateBlobTarget::read_register(gdb::ThreadId thread, unsigned regnum) {
    auto cs = cpu_state(thread);
    if (!cs) {
        return cs.error();
    }
    return isa_.read_register(cs->state, regnum);
}

Status StateBlobTarget::write_register(gdb::ThreadId thread, unsigned regnum, std::span<const std::uint8_t> value) {
    auto cs = cpu_state(thread);
    if (!cs) {
        return cs.error();
    }
    if (auto s = isa_.write_register(cs->state, regnum, value); !s) {
        return s;
    }
    return set_state(cs->cpu, cs->state);
}

}  // namespace kvmdbg::system
