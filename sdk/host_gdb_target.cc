#include "sdk/host_gdb_target.h"

#include <cstdlib>
#include <cstring>

#include "common/hex_string.h"
#include "system/debug_stop_abi.h"

namespace kvmdbg::sdk {

namespace {

// A callback's -errno as the session's error; a positive or zero "error"
// from a confused host is EIO, never success.
Error callback_error(long long rc, const std::string& what) {
    int code = rc < 0 && rc >= -4095 ? static_cast<int>(-rc) : EIO;
    return make_error(code, what + ": " + std::strerror(code));
}

Status status_of(int rc, const std::string& what) {
    if (rc == 0) {
        return ok_status();
    }
    return callback_error(rc, what);
}

std::string breakpoint_text(const gdb::Breakpoint& bp) {
    return "type " + std::to_string(static_cast<int>(bp.type)) + " at " + hex_string(bp.addr) + " len " +
           std::to_string(bp.kind);
}

}  // namespace

HostGdbTarget::HostGdbTarget(const KvmdbgGdbTarget& target, const system::IsaDescriptor& isa)
    : StateBlobTarget(target.cpus, isa), target_(target) {}

Result<std::vector<std::uint8_t>> HostGdbTarget::get_state(std::uint32_t cpu) {
    std::vector<std::uint8_t> state(isa().state_size());
    int rc = target_.get_state(target_.opaque, cpu, state.data(), static_cast<std::uint32_t>(state.size()));
    if (rc != 0) {
        return callback_error(rc, "get_state of vCPU " + std::to_string(cpu));
    }
    return state;
}

Status HostGdbTarget::set_state(std::uint32_t cpu, std::span<const std::uint8_t> state) {
    return status_of(target_.set_state(target_.opaque, cpu, state.data(), static_cast<std::uint32_t>(state.size())),
                     "set_state of vCPU " + std::to_string(cpu));
}

Result<std::size_t> HostGdbTarget::read_memory(gdb::ThreadId thread, std::uint64_t addr, std::span<std::uint8_t> out,
                                               gdb::AddressSpace space) {
    auto cpu = cpu_of(thread);
    if (!cpu) {
        return cpu.error();
    }
    if (out.empty()) {
        return std::size_t{0};
    }
    std::int64_t n = target_.read_memory(target_.opaque, *cpu, addr, out.data(), out.size(),
                                         space == gdb::AddressSpace::physical ? 1 : 0);
    if (n <= 0) {
        return callback_error(n == 0 ? -EFAULT : n, "read_memory at " + hex_string(addr));
    }
    // More than asked for would be a host bug: never claim bytes not in `out`.
    return std::min<std::size_t>(static_cast<std::size_t>(n), out.size());
}

Status HostGdbTarget::write_memory(gdb::ThreadId thread, std::uint64_t addr, std::span<const std::uint8_t> data,
                                   gdb::AddressSpace space) {
    auto cpu = cpu_of(thread);
    if (!cpu) {
        return cpu.error();
    }
    return status_of(target_.write_memory(target_.opaque, *cpu, addr, data.data(), data.size(),
                                          space == gdb::AddressSpace::physical ? 1 : 0),
                     "write_memory at " + hex_string(addr));
}

Status HostGdbTarget::insert_breakpoint(const gdb::Breakpoint& bp) {
    return status_of(target_.insert_breakpoint(target_.opaque, system::to_abi_breakpoint_type(bp.type), bp.addr,
                                               bp.kind),
                     "insert_breakpoint " + breakpoint_text(bp));
}

Status HostGdbTarget::remove_breakpoint(const gdb::Breakpoint& bp) {
    return status_of(target_.remove_breakpoint(target_.opaque, system::to_abi_breakpoint_type(bp.type), bp.addr,
                                               bp.kind),
                     "remove_breakpoint " + breakpoint_text(bp));
}

void HostGdbTarget::remove_all_breakpoints() {
    // The session calls this with vCPUs running when gdb vanished (or the
    // stub is freed) mid-continue; the host is promised stopped vCPUs for
    // everything but resume/stop_all/detach/kill (its breakpoint calls may
    // need the vCPU out of KVM_RUN), and detach() lets them run again.
    for (unsigned thread = 1; thread <= thread_count(); ++thread) {
        if (thread_state(static_cast<gdb::ThreadId>(thread)) != gdb::ThreadRunState::paused) {
            park_all();
            break;
        }
    }
    target_.remove_all_breakpoints(target_.opaque);
}

std::uint32_t HostGdbTarget::supported_step_flags() const {
    // resume(cpu, 1) keeps interrupts out where the host can (gdbstub.h).
    return gdb::step_flags::kEnable | gdb::step_flags::kNoIrq;
}

Status HostGdbTarget::resume(std::span<const gdb::ResumeRequest> requests, std::uint32_t) {
    for (const auto& r : requests) {
        auto cpu = cpu_of(r.thread);
        if (!cpu) {
            return cpu.error();
        }
        if (r.kind == gdb::ResumeKind::stop) {
            continue;
        }
        int step = r.kind == gdb::ResumeKind::step ? 1 : 0;
        if (int rc = target_.resume(target_.opaque, *cpu, step); rc != 0) {
            return callback_error(rc, "resume of vCPU " + std::to_string(*cpu));
        }
        set_run_state(*cpu, gdb::ThreadRunState::running);
    }
    return ok_status();
}

void HostGdbTarget::resume_cpu(std::uint32_t cpu) {
    if (cpu < thread_count() && target_.resume(target_.opaque, cpu, 0) == 0) {
        set_run_state(cpu, gdb::ThreadRunState::running);
    }
}

void HostGdbTarget::stop_all(gdb::ThreadId) {
    park_all();  // the SDK's stop_all callback has no use for the reported thread
}

void HostGdbTarget::park_all() {
    target_.stop_all(target_.opaque);
    set_all_run_states(gdb::ThreadRunState::paused);
}

std::string HostGdbTarget::monitor(std::string_view command) {
    if (target_.monitor != nullptr) {
        std::string text(command);  // the host gets a NUL-terminated string
        if (char* reply = target_.monitor(target_.opaque, text.c_str())) {
            std::string out(reply);
            std::free(reply);
            return out;
        }
    }
    return stub_monitor_reply(command, target_.monitor != nullptr);
}

void HostGdbTarget::detach() {
    target_.detach(target_.opaque);
    set_all_run_states(gdb::ThreadRunState::running);
}

void HostGdbTarget::end_after_kill() {
    if (target_.kill != nullptr) {
        target_.kill(target_.opaque);
        return;
    }
    remove_all_breakpoints();
    detach();
}

std::string stub_monitor_reply(std::string_view command, bool host_has_monitor) {
    if (command == "help") {
        return std::string(
                   "kvmdbg gdb stub: monitor commands\n"
                   "  help   this text\n") +
               (host_has_monitor ? "Other commands go to the emulator hosting the stub.\n"
                                 : "The emulator hosting the stub has no monitor commands.\n");
    }
    return "unknown monitor command '" + std::string(command) + "' (try 'monitor help')\n";
}

}  // namespace kvmdbg::sdk
