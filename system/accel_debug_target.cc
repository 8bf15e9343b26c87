#include "system/accel_debug_target.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "common/hex_string.h"
#include "gdbstub-glue/target_context.h"
#include "system/debug_stop_abi.h"

namespace kvmdbg::system {

namespace {

constexpr std::uint64_t kPage = 4096;

// An Accelerator exists only for an ISA with a state layout (create()
// refuses others), and every such ISA has a descriptor: a miss here is a
// descriptor missing from the build, not bad input.
const IsaDescriptor& descriptor_of(KvmdbgArch arch) {
    auto isa = find_isa_descriptor(arch);
    if (!isa) {
        std::fprintf(stderr, "kvmdbg: internal error: %s\n", isa.error().message.c_str());
        std::abort();
    }
    return **isa;
}

}  // namespace

AccelDebugTarget::AccelDebugTarget(accel::Accelerator& accel, unsigned vcpus, Hooks hooks,
                                   std::vector<gdb::MemoryRegion> memory_map, KvmdbgArch arch)
    : StateBlobTarget(vcpus, descriptor_of(arch)),
      accel_(accel),
      hooks_(std::move(hooks)),
      memory_map_(std::move(memory_map)) {}

void AccelDebugTarget::set_stop_conditions(std::shared_ptr<const gdb::BreakpointTable> conditional,
                                           gdb::AddressSpace space) {
    std::lock_guard lock(conditions_mu_);
    conditions_ = std::move(conditional);
    conditions_space_ = space;
}

bool AccelDebugTarget::wants_stop(std::uint32_t cpu, const KvmdbgDebugStop& stop) {
    std::shared_ptr<const gdb::BreakpointTable> table;
    gdb::AddressSpace space;
    {
        std::lock_guard lock(conditions_mu_);
        table = conditions_;
        space = conditions_space_;
    }
    if (!table || cpu >= thread_count()) {
        return true;
    }
    gdb::BreakpointType type = stop.reason == KVMDBG_STOP_SW_BREAK ? gdb::BreakpointType::software
                                                                   : gdb::BreakpointType::hardware;
    auto lists = table->at(type, stop.addr);
    if (lists.empty()) {
        return true;  // no condition there: the session decides as usual
    }
    gdb::ThreadId thread = static_cast<gdb::ThreadId>(cpu) + 1;
    // The registers are read once, only if a condition asks for one.
    std::optional<Result<std::vector<std::uint8_t>>> registers;
    gdb::TargetContext context(*this, thread, space, [&](unsigned regnum) -> Result<std::vector<std::uint8_t>> {
        if (!registers) {
            registers = read_registers(thread);
        }
        if (!*registers) {
            return (*registers).error();
        }
        if (auto one = description().register_in(**registers, regnum)) {
            return std::move(*one);
        }
        return make_error(EIO, "register block of " + std::to_string((*registers)->size()) + " bytes, register " +
                                   std::to_string(regnum) + " not in it");
    });
    return gdb::stop_wanted(lists, evaluator_, context);
}

Status AccelDebugTarget::set_step_blocks_irq(bool block) {
    if (auto s = accel_.set_debug_option(KVMDBG_OPT_STEP_BLOCK_IRQ, block ? 1 : 0); !s) {
        return s;
    }
    step_blocks_irq_ = block;
    return ok_status();
}

std::vector<gdb::MemoryRegion> AccelDebugTarget::memory_map() const { return memory_map_; }

Result<std::vector<std::uint8_t>> AccelDebugTarget::get_state(std::uint32_t cpu) { return accel_.get_state(cpu); }

Status AccelDebugTarget::set_state(std::uint32_t cpu, std::span<const std::uint8_t> state) {
    return accel_.set_state(cpu, state);
}

Result<std::size_t> AccelDebugTarget::read_memory(gdb::ThreadId thread, std::uint64_t addr, std::span<std::uint8_t> out,
                                                  gdb::AddressSpace space) {
    auto cpu = cpu_of(thread);
    if (!cpu) {
        return cpu.error();
    }
    bool physical = space == gdb::AddressSpace::physical;
    if (accel_.read_memory(*cpu, addr, out, physical)) {
        return out.size();
    }
    // Part of the range is not memory: return what is readable from the
    // start, page by page, device memory through the device path (gdb then
    // asks again for the rest and gets E14).
    std::size_t done = 0;
    while (done < out.size()) {
        std::uint64_t a = addr + done;
        std::size_t chunk = std::min<std::size_t>(out.size() - done, kPage - (a % kPage));
        if (!accel_.read_memory(*cpu, a, out.subspan(done, chunk), physical)) {
            std::size_t got = read_device_memory(*cpu, a, out.subspan(done, chunk), physical);
            done += got;
            if (got < chunk) {
                break;
            }
            continue;
        }
        done += chunk;
    }
    if (done == 0) {
        return make_error(EFAULT, "address not mapped");
    }
    return done;
}

Status AccelDebugTarget::write_memory(gdb::ThreadId thread, std::uint64_t addr, std::span<const std::uint8_t> data,
                                      gdb::AddressSpace space) {
    auto cpu = cpu_of(thread);
    if (!cpu) {
        return cpu.error();
    }
    return accel_.write_memory(*cpu, addr, data, space == gdb::AddressSpace::physical);
}

std::size_t AccelDebugTarget::read_device_memory(std::uint32_t cpu, std::uint64_t addr, std::span<std::uint8_t> out,
                                                 bool physical) {
    if (hooks_.device_watchpoints == nullptr) {
        return 0;
    }
    std::uint64_t gpa = addr;
    if (!physical) {
        auto t = accel_.translate(cpu, addr);
        if (!t) {
            return 0;
        }
        gpa = *t;
    }
    return hooks_.device_watchpoints->read(cpu, gpa, out);
}

std::vector<WatchExtent> AccelDebugTarget::plan_watch(const gdb::Breakpoint& bp) {
    return hooks_.device_watchpoints->plan(bp.addr, bp.kind, [this](std::uint64_t va) -> std::optional<std::uint64_t> {
        auto gpa = accel_.translate(0, va);
        return gpa ? std::optional(*gpa) : std::nullopt;
    });
}

Status AccelDebugTarget::insert_breakpoint(const gdb::Breakpoint& bp) {
    const auto type = to_abi_breakpoint_type(bp.type);
    if (hooks_.device_watchpoints == nullptr || bp.type < gdb::BreakpointType::write_watch) {
        return accel_.insert_breakpoint(type, bp.addr, bp.kind);
    }
    std::vector<WatchExtent> extents = plan_watch(bp);
    if (std::none_of(extents.begin(), extents.end(), [](const WatchExtent& e) { return e.device; })) {
        return accel_.insert_breakpoint(type, bp.addr, bp.kind);
    }
    // The memory parts take debug-register slots of their own; all or nothing.
    std::vector<const WatchExtent*> inserted;
    for (const WatchExtent& e : extents) {
        if (e.device) {
            continue;
        }
        if (auto s = accel_.insert_breakpoint(type, e.va, e.len); !s) {
            for (const WatchExtent* done : inserted) {
                (void)accel_.remove_breakpoint(type, done->va, done->len);
            }
            return make_error(s.error().code, "the memory part " + hex_string(e.va) + "+" + std::to_string(e.len) +
                                                  " of a watchpoint on device memory: " + s.error().message);
        }
        inserted.push_back(&e);
    }
    const AccessDirection direction = bp.type == gdb::BreakpointType::write_watch  ? AccessDirection::write
                                      : bp.type == gdb::BreakpointType::read_watch ? AccessDirection::read
                                                                                   : AccessDirection::both;
    hooks_.device_watchpoints->add(static_cast<int>(bp.type), bp.addr, bp.kind, direction, extents);
    return ok_status();
}

Status AccelDebugTarget::remove_breakpoint(const gdb::Breakpoint& bp) {
    const auto type = to_abi_breakpoint_type(bp.type);
    std::optional<std::vector<WatchExtent>> extents;
    if (hooks_.device_watchpoints != nullptr && bp.type >= gdb::BreakpointType::write_watch) {
        extents = hooks_.device_watchpoints->remove(static_cast<int>(bp.type), bp.addr, bp.kind);
    }
    if (!extents) {
        return accel_.remove_breakpoint(type, bp.addr, bp.kind);
    }
    Status result = ok_status();
    for (const WatchExtent& e : *extents) {
        if (!e.device) {
            if (auto s = accel_.remove_breakpoint(type, e.va, e.len); !s && result) {
                result = s;
            }
        }
    }
    return result;
}

void AccelDebugTarget::remove_all_breakpoints() {
    set_stop_conditions(nullptr, gdb::AddressSpace::virtual_);
    if (hooks_.device_watchpoints != nullptr) {
        hooks_.device_watchpoints->clear();
    }
    (void)accel_.remove_all_breakpoints();
}

std::uint32_t AccelDebugTarget::supported_step_flags() const {
    return gdb::step_flags::kEnable | gdb::step_flags::kNoIrq;
}

Status AccelDebugTarget::resume(std::span<const gdb::ResumeRequest> requests, std::uint32_t flags) {
    // Interrupts are kept out of steps when both the session's NOIRQ flag
    // (qqemu.sstep) and `monitor sstep` say so; hosts without BLOCKIRQ
    // cannot mask them at all (ENOTSUP is then not an error for a resume).
    bool block = step_blocks_irq_ && (flags & gdb::step_flags::kNoIrq) != 0;
    (void)accel_.set_debug_option(KVMDBG_OPT_STEP_BLOCK_IRQ, block ? 1 : 0);
    for (const auto& r : requests) {
        auto cpu = cpu_of(r.thread);
        if (!cpu) {
            return cpu.error();
        }
        if (r.kind == gdb::ResumeKind::stop) {
            continue;
        }
        KvmdbgResumeMode mode = r.kind == gdb::ResumeKind::step ? KVMDBG_RESUME_STEP : KVMDBG_RESUME_RUN;
        if (hooks_.device_watchpoints != nullptr) {
            if (mode == KVMDBG_RESUME_STEP && isa().gdb_watchpoint_stops_before_access() && hooks_.report_stop &&
                hooks_.device_watchpoints->take_step_over(*cpu)) {
                // gdb steps over the access it believes is still to come; the
                // device path stopped after it, so the step is done already
                // (and the accessed value stays readable for gdb's check).
                set_run_state(*cpu, gdb::ThreadRunState::running);
                hooks_.report_stop(gdb::StopEvent{static_cast<gdb::ThreadId>(*cpu + 1), gdb::StopReason::step});
                continue;
            }
            hooks_.device_watchpoints->note_resume(*cpu);
        }
        if (hooks_.exit_on_resume && hooks_.exit_on_resume(*cpu)) {
            set_run_state(*cpu, gdb::ThreadRunState::running);  // the exit is reported instead
            continue;
        }
        if (auto s = accel_.resume(*cpu, mode); !s) {
            return s;
        }
        set_run_state(*cpu, gdb::ThreadRunState::running);
    }
    return ok_status();
}

void AccelDebugTarget::stop_all(gdb::ThreadId reported) {
    auto cpu = cpu_of(reported);
    const auto start = std::chrono::steady_clock::now();
    (void)(cpu ? accel_.pause_all_keeping_state(*cpu) : accel_.pause_all());
    stop_all_timings_.record(std::chrono::steady_clock::now() - start);
    set_all_run_states(gdb::ThreadRunState::paused);
}

std::string AccelDebugTarget::monitor(std::string_view command) {
    return hooks_.monitor ? hooks_.monitor(command) : "no monitor\n";
}

void AccelDebugTarget::detach() {
    remove_all_breakpoints();
    for (std::uint32_t cpu = 0; cpu < thread_count(); ++cpu) {
        if (hooks_.exit_on_resume && hooks_.exit_on_resume(cpu)) {
            continue;
        }
        if (accel_.resume(cpu, KVMDBG_RESUME_RUN)) {
            set_run_state(cpu, gdb::ThreadRunState::running);
        }
    }
}

void AccelDebugTarget::kill() {
    if (hooks_.kill) {
        hooks_.kill();
    }
}

}  // namespace kvmdbg::system
