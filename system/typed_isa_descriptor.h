// TypedIsaDescriptor<Traits>: an IsaDescriptor (system/isa_descriptor.h)
// made from one ISA's typed functions, so that each ISA only names its
// state struct and its arch/ and gdbstub-glue/ functions while the
// blob-to-struct checks and copies exist once.
//
// `Traits` provides:
//   using State = <plain C state struct of the plugin ABI>;
//   static constexpr KvmdbgArch kArch; static constexpr const char* kName;
//   static constexpr std::uint32_t kStateSize;   (== sizeof(State))
//   static constexpr bool kWatchpointStopsBeforeAccess;  (gdb's view)
//   static gdb::TargetDescription description();
//   static std::vector<std::uint8_t> registers_of(const State&);
//   static Status apply_registers(std::span<const std::uint8_t>, State&);
//   static Result<std::vector<std::uint8_t>> read_register(const State&, unsigned);
//   static Status write_register(State&, unsigned, std::span<const std::uint8_t>);
//   static std::uint64_t pc(const State&);
//   static std::string dump(const State&);
// Immutable after construction; any thread.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <type_traits>

#include "system/isa_descriptor.h"

namespace kvmdbg::system {

template <class Traits>
class TypedIsaDescriptor final : public IsaDescriptor {
public:
    using State = typename Traits::State;
    static_assert(std::is_trivially_copyable_v<State>);
    static_assert(sizeof(State) == Traits::kStateSize, "the ABI's state size is the struct's");

    TypedIsaDescriptor() : description_(Traits::description()) {}

    KvmdbgArch arch() const override { return Traits::kArch; }
    const char* name() const override { return Traits::kName; }
    std::uint32_t state_size() const override { return Traits::kStateSize; }
    bool gdb_watchpoint_stops_before_access() const override { return Traits::kWatchpointStopsBeforeAccess; }
    const gdb::TargetDescription& description() const override { return description_; }

    Result<std::vector<std::uint8_t>> registers_from_state(std::span<const std::uint8_t> state) const override {
        auto st = decode(state);
        if (!st) {
            return st.error();
        }
        return Traits::registers_of(*st);
    }

    Status registers_to_state(std::span<const std::uint8_t> registers, std::span<std::uint8_t> state) const override {
        auto st = decode(state);
        if (!st) {
            return st.error();
        }
        if (auto s = Traits::apply_registers(registers, *st); !s) {
            return s;
        }
        std::memcpy(state.data(), &*st, sizeof(State));
        return ok_status();
    }

    Result<std::vector<std::uint8_t>> read_register(std::span<const std::uint8_t> state,
                                                    unsigned regnum) const override {
        auto st = decode(state);
        if (!st) {
            return st.error();
        }
        return Traits::read_register(*st, regnum);
    }

    Status write_register(std::span<std::uint8_t> state, unsigned regnum,
                          std::span<const std::uint8_t> value) const override {
        auto st = decode(state);
        if (!st) {
            return st.error();
        }
        if (auto s = Traits::write_register(*st, regnum, value); !s) {
            return s;
        }
        std::memcpy(state.data(), &*st, sizeof(State));
        return ok_status();
    }

    Result<std::uint64_t> pc(std::span<const std::uint8_t> state) const override {
        auto st = decode(state);
        if (!st) {
            return st.error();
        }
        return Traits::pc(*st);
    }

    Result<std::string> register_dump(std::span<const std::uint8_t> state) const override {
        auto st = decode(state);
        if (!st) {
            return st.error();
        }
        return Traits::dump(*st);
    }

private:
    /// The struct in `state`, or EINVAL when the blob is not exactly one.
    Result<State> decode(std::span<const std::uint8_t> state) const {
        if (state.size() != sizeof(State)) {
            return make_error(EINVAL, std::string(Traits::kName) + " state is " + std::to_string(sizeof(State)) +
                                          " bytes, not " + std::to_string(state.size()));
        }
        State st;
        std::memcpy(&st, state.data(), sizeof st);
        return st;
    }

    gdb::TargetDescription description_;
};

}  // namespace kvmdbg::system
