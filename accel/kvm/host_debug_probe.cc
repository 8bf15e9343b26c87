#include "accel/kvm/host_debug_probe.h"

#include <linux/kvm.h>

#include <cinttypes>
#include <cstdio>
#include <span>
#include <vector>

#include "accel/kvm/probe_vm.h"
#include "arch/x86/debug_regs.h"
#include "common/hex_string.h"

namespace kvmdbg::accel::kvm {

namespace {

namespace x86 = arch::x86;

// Generous: the longest probe (single-step) needs 4 runs.
constexpr unsigned kMaxRuns = 16;
constexpr std::uint32_t kDbVector = 1;
constexpr std::uint32_t kBpVector = 3;

constexpr std::uint8_t kNop = 0x90;
constexpr std::uint8_t kInt3 = 0xcc;
constexpr std::uint8_t kOutSentinel[] = {0xe6, static_cast<std::uint8_t>(kProbeSentinelPort)};  // out 0x80, al
constexpr std::uint8_t kHlt = 0xf4;

// nop; nop; nop; out 0x80, al; hlt
constexpr std::uint8_t kNopsCode[] = {kNop, kNop, kNop, kOutSentinel[0], kOutSentinel[1], kHlt};
// nop; int3; out 0x80, al; hlt
constexpr std::uint64_t kInt3Addr = kProbeCodeAddr + 1;
constexpr std::uint8_t kInt3Code[] = {kNop, kInt3, kOutSentinel[0], kOutSentinel[1], kHlt};
// mov eax, 0x12345678; mov dword [kProbeDataAddr], eax; nop; out 0x80, al; hlt
static_assert(kProbeDataAddr < 0x10000, "the disp32 below encodes 0x6000");
constexpr std::uint8_t kStoreCode[] = {
    0xb8,
    0x78,
    0x56,
    0x34,
    0x12,  // mov eax, imm32
    0x89,
    0x04,
    0x25,
    0x00,
    0x60,
    0x00,
    0x00,  // mov [disp32], eax (SIB, no base)
    kNop,
    kOutSentinel[0],
    kOutSentinel[1],
    kHlt,
};
constexpr std::uint64_t kAfterStore = kProbeCodeAddr + 12;
// pushfq; or qword [rsp], 0x100 (TF); popfq; nop; nop; out 0x80, al; hlt
constexpr std::uint8_t kGuestTfCode[] = {
    0x9c,  // pushfq
    0x48,
    0x81,
    0x0c,
    0x24,
    0x00,
    0x01,
    0x00,
    0x00,  // or qword [rsp], 0x100
    0x9d,  // popfq
    kNop,
    kNop,
    kOutSentinel[0],
    kOutSentinel[1],
    kHlt,
};

// mov ecx, 2; L: nop; dec ecx; jnz L; out 0x80, al; hlt (the resume-flag probe)
constexpr std::uint64_t kRfLoopAddr = kProbeCodeAddr + 5;
constexpr std::uint8_t kRfLoopCode[] = {
    0xb9,
    0x02,
    0x00,
    0x00,
    0x00,  // mov ecx, 2
    kNop,  // L: the breakpoint
    0xff,
    0xc9,  // dec ecx
    0x75,
    0xfb,  // jnz L (rel8 -5)
    kOutSentinel[0],
    kOutSentinel[1],
    kHlt,
};
constexpr std::uint64_t kRflagsRf = 1ull << 16;  // SDM Vol. 1 3.4.3, Figure 3-8

// What one exit means for a probe program.
std::string observed(const ProbeExit& e) {
    std::string s = e.describe();
    if (e.reason == KVM_EXIT_IO && e.io_out && e.port == kProbeSentinelPort) {
        s += " (the code ran to its end)";
    } else if (e.reason == KVM_EXIT_IO && e.io_out && e.port == kProbeGuestExceptionPort) {
        s += " (vector " + std::to_string(e.value) + " delivered to the guest IDT)";
    }
    return s;
}

struct ProbeRun {
    bool accepted = true;  // KVM_SET_GUEST_DEBUG took the control bits
    std::string refusal;
    std::vector<ProbeExit> exits;

    std::string text() const {
        if (!accepted) {
            return refusal;
        }
        std::string s;
        for (const auto& e : exits) {
            s += (s.empty() ? "" : ", then ") + observed(e);
        }
        return s.empty() ? "no exit" : s;
    }
    const ProbeExit* first() const { return exits.empty() ? nullptr : &exits.front(); }
};

struct ProbeSpec {
    const char* name;
    std::span<const std::uint8_t> code;
    std::uint32_t control;
    x86::X86DebugRegs regs;
    unsigned max_debug_exits;  // keep running after this many KVM_EXIT_DEBUG
};

// One probe in its own VM. Runs until the first exit that is not
// KVM_EXIT_DEBUG (or after spec.max_debug_exits of them), never more than
// kMaxRuns KVM_RUN calls.
Result<ProbeRun> run_probe(const KvmSystem& system, const HostCpuid& cpuid, const ProbeSpec& spec) {
    auto vm = ProbeVm::create(system, cpuid, spec.code);
    if (!vm) {
        return make_error(vm.error().code, std::string("host debug probe '") + spec.name + "': " + vm.error().message);
    }
    ProbeRun out;
    if (auto s = vm->set_guest_debug(spec.control, spec.regs); !s) {
        out.accepted = false;
        out.refusal = s.error().message + " for control " + hex_string(spec.control);
        return out;
    }
    unsigned debug_exits = 0;
    for (unsigned i = 0; i < kMaxRuns; ++i) {
        auto e = vm->run();
        if (!e) {
            return make_error(e.error().code,
                              std::string("host debug probe '") + spec.name + "': " + e.error().message);
        }
        if (e->reason == KVM_EXIT_INTR) {
            continue;
        }
        out.exits.push_back(e.value());
        if (e->reason != KVM_EXIT_DEBUG || ++debug_exits >= spec.max_debug_exits) {
            break;
        }
    }
    return out;
}

x86::X86DebugRegs one_slot(std::uint64_t addr, x86::Dr7Rw rw, unsigned len) {
    x86::X86DebugRegs regs;
    regs.dr[0] = addr;
    x86::Dr7Slot slot;
    slot.local = true;
    slot.rw = rw;
    slot.len = len;
    auto dr7 = x86::dr7_set_slot(x86::dr7::kInit, 0, slot);
    regs.dr7 = dr7 ? dr7.value() : x86::dr7::kInit;
    return regs;
}

bool is_debug(const ProbeExit* e, std::uint32_t exception) {
    return e != nullptr && e->reason == KVM_EXIT_DEBUG && e->exception == exception;
}

// Single-step: the first three exits are #DB traps after each nop.
bool single_step_ok(const ProbeRun& run) {
    if (run.exits.size() < 3) {
        return false;
    }
    for (unsigned i = 0; i < 3; ++i) {
        if (!is_debug(&run.exits[i], kDbVector) || run.exits[i].pc != kProbeCodeAddr + 1 + i) {
            return false;
        }
    }
    return true;
}

struct Answer {
    bool* field;
    const char* name;
    ProbeSpec spec;
    bool (*judge)(const ProbeRun&);
};

void add_note(std::string& notes, const char* name, bool yes, const std::string& text) {
    notes += std::string(name) + ": " + (yes ? "yes: " : "no: ") + text + "\n";
}

const char* yes_no(bool b) { return b ? "yes" : "no"; }

// The first exit of a KVM_RUN that is not an interrupted run, bounded.
Result<ProbeExit> run_once(ProbeVm& vm) {
    for (unsigned i = 0; i < kMaxRuns; ++i) {
        auto e = vm.run();
        if (!e || e->reason != KVM_EXIT_INTR) {
            return e;
        }
    }
    return make_error(EINTR, "KVM_RUN was interrupted " + std::to_string(kMaxRuns) + " times");
}

bool is_rf_bp_hit(const ProbeExit& e) {
    return e.reason == KVM_EXIT_DEBUG && e.exception == kDbVector && (e.dr6 & x86::dr6::hit(0)) != 0 &&
           e.pc == kRfLoopAddr;
}

// The resume-flag probe (host_debug_probe.h): stop at L (rcx 2), resume with
// RF=1, expect the next stop at L with rcx 1 (the resumed nop ran without a
// re-fire, the breakpoint fired on the second pass), resume with RF=1 again,
// expect the end of the code with rcx 0 and RF cleared by the processor.
Result<bool> resume_flag_probe(const KvmSystem& system, const HostCpuid& cpuid, std::string& notes) {
    auto fail = [](const Error& e) { return make_error(e.code, "host debug probe 'resume-flag': " + e.message); };
    auto vm = ProbeVm::create(system, cpuid, kRfLoopCode);
    if (!vm) {
        return fail(vm.error());
    }
    const char* name = "resume flag (RFLAGS.RF) skips a hw breakpoint once";
    if (auto s = vm->set_guest_debug(KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP,
                                     one_slot(kRfLoopAddr, x86::Dr7Rw::exec, 1));
        !s) {
        add_note(notes, name, false, s.error().message);
        return false;
    }
    std::string text;
    // Three passes: the first stop, then two resumes with RF = 1.
    for (unsigned pass = 0; pass < 3; ++pass) {
        if (pass > 0) {
            auto regs = vm->regs();
            if (!regs) {
                return fail(regs.error());
            }
            kvm_regs r = regs.value();
            r.rflags |= kRflagsRf;
            if (auto s = vm->set_regs(r); !s) {
                return fail(s.error());
            }
            text += ", resumed with RF=1: ";
            if (pass == 1) {
                // Whether KVM kept RF (it should: x86.c __kvm_set_rflags) tells
                // a host that drops it at KVM_SET_REGS from one that loses it
                // at guest entry.
                auto back = vm->regs();
                if (!back) {
                    return fail(back.error());
                }
                text += (back->rflags & kRflagsRf) != 0 ? "(KVM_GET_REGS shows RF) " : "(KVM_GET_REGS shows RF clear) ";
            }
        }
        auto e = run_once(vm.value());
        if (!e) {
            return fail(e.error());
        }
        auto regs = vm->regs();
        if (!regs) {
            return fail(regs.error());
        }
        const std::uint64_t rcx = regs->rcx & 0xffffffffu;
        text += observed(e.value()) + " rcx " + std::to_string(rcx);
        const std::uint64_t want_rcx = 2 - pass;
        bool ok = pass < 2 ? is_rf_bp_hit(e.value()) && rcx == want_rcx
                           : e->reason == KVM_EXIT_IO && e->io_out && e->port == kProbeSentinelPort && rcx == 0 &&
                                 (regs->rflags & kRflagsRf) == 0;
        if (!ok) {
            if (pass == 1 && is_rf_bp_hit(e.value()) && rcx == 2) {
                text += " (the breakpoint fired again at once: RF was not honoured)";
            } else if (pass == 2 && (regs->rflags & kRflagsRf) != 0) {
                text += " (RF still set after the code ran on)";
            } else {
                text += " (expected " +
                        std::string(pass < 2 ? "the breakpoint at " + hex_string(kRfLoopAddr) + " with rcx " +
                                                   std::to_string(want_rcx)
                                             : "the end of the code with rcx 0 and RF clear") +
                        ")";
            }
            add_note(notes, name, false, text);
            return false;
        }
    }
    add_note(notes, name, true, text);
    return true;
}

// The planted-int3 probe (host_debug_probe.h): the int3 of kInt3Code must
// stop KVM_RUN as an emulation failure with RIP at it; with the nop written
// back over it, the code must run on to its sentinel port write.
Result<bool> planted_int3_probe(const KvmSystem& system, const HostCpuid& cpuid, std::string& notes) {
    auto fail = [](const Error& e) { return make_error(e.code, "host debug probe 'planted-int3': " + e.message); };
    const char* name = "int3 stops as an emulation failure, resumable";
    auto vm = ProbeVm::create(system, cpuid, kInt3Code);
    if (!vm) {
        return fail(vm.error());
    }
    if (auto s = vm->set_guest_debug(KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP, x86::X86DebugRegs{}); !s) {
        add_note(notes, name, false, s.error().message);
        return false;
    }
    auto stop = run_once(vm.value());
    if (!stop) {
        return fail(stop.error());
    }
    auto regs = vm->regs();
    if (!regs) {
        return fail(regs.error());
    }
    std::string text = observed(stop.value()) + " rip " + hex_string(regs->rip);
    if (stop->reason != KVM_EXIT_INTERNAL_ERROR || stop->suberror != KVM_INTERNAL_ERROR_EMULATION ||
        regs->rip != kInt3Addr) {
        add_note(notes, name, false, text + " (expected an emulation failure at " + hex_string(kInt3Addr) + ")");
        return false;
    }
    vm->ram()[kInt3Addr - kProbeCodeAddr] = kNop;
    auto after = run_once(vm.value());
    if (!after) {
        return fail(after.error());
    }
    text += ", nop written back: " + observed(after.value());
    const bool ran_on = after->reason == KVM_EXIT_IO && after->io_out && after->port == kProbeSentinelPort;
    add_note(notes, name, ran_on, ran_on ? text : text + " (expected out 0x80)");
    return ran_on;
}

}  // namespace

Result<bool> probe_resume_flag(const KvmSystem& system, std::string& notes) {
    auto cpuid = HostCpuid::fetch(system);
    if (!cpuid) {
        return make_error(cpuid.error().code, "host debug probe: " + cpuid.error().message);
    }
    return resume_flag_probe(system, cpuid.value(), notes);
}

Result<HostDebugCaps> probe_host_debug(const KvmSystem& system) {
    HostDebugCaps caps;
    caps.set_guest_debug = system.check_extension(KVM_CAP_SET_GUEST_DEBUG) > 0;
    caps.guest_debug_mask = static_cast<std::uint32_t>(system.check_extension(KVM_CAP_SET_GUEST_DEBUG2));
    caps.block_irq = (caps.guest_debug_mask & KVM_GUESTDBG_BLOCKIRQ) != 0;
    caps.exception_payload = system.check_extension(KVM_CAP_EXCEPTION_PAYLOAD) > 0;
    caps.debugregs = system.check_extension(KVM_CAP_DEBUGREGS) > 0;
    if (!caps.set_guest_debug) {
        caps.notes = "KVM_CAP_SET_GUEST_DEBUG is absent: no behavioural probe was run\n";
        return caps;
    }
    auto cpuid = HostCpuid::fetch(system);
    if (!cpuid) {
        return make_error(cpuid.error().code, "host debug probe: " + cpuid.error().message);
    }

    const x86::X86DebugRegs no_regs;
    x86::X86DebugRegs armed_none;  // USE_HW_BP with every slot disabled
    armed_none.dr7 = x86::dr7::kInit;
    const Answer answers[] = {
        {&caps.single_step,
         "single-step",
         {"single-step", kNopsCode, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP, no_regs, 8},
         single_step_ok},
        {&caps.hw_exec_breakpoint,
         "hardware execution breakpoint",
         {"hw-exec-breakpoint", kNopsCode, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP,
          one_slot(kProbeCodeAddr + 1, x86::Dr7Rw::exec, 1), 1},
         [](const ProbeRun& r) {
             return is_debug(r.first(), kDbVector) && (r.first()->dr6 & x86::dr6::hit(0)) != 0 &&
                    r.first()->pc == kProbeCodeAddr + 1;
         }},
        {&caps.sw_breakpoint_exits,
         "software breakpoint (int3)",
         {"sw-breakpoint", kInt3Code, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP, no_regs, 1},
         [](const ProbeRun& r) { return is_debug(r.first(), kBpVector) && r.first()->pc == kInt3Addr; }},
        {&caps.data_watchpoints_fire,
         "data watchpoint (write, 4 bytes)",
         {"data-watchpoint", kStoreCode, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP,
          one_slot(kProbeDataAddr, x86::Dr7Rw::write, 4), 1},
         [](const ProbeRun& r) { return is_debug(r.first(), kDbVector) && (r.first()->dr6 & x86::dr6::hit(0)) != 0; }},
        {&caps.guest_tf_exits,
         "guest RFLAGS.TF trap exits",
         {"guest-tf", kGuestTfCode, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP, armed_none, 1},
         [](const ProbeRun& r) { return is_debug(r.first(), kDbVector) && (r.first()->dr6 & x86::dr6::kBS) != 0; }},
    };
    for (const auto& a : answers) {
        auto run = run_probe(system, cpuid.value(), a.spec);
        if (!run) {
            return run.error();
        }
        *a.field = run->accepted && a.judge(run.value());
        std::string text = run->text();
        if (a.field == &caps.data_watchpoints_fire && *a.field && run->first()->pc != kAfterStore) {
            text += " (expected pc " + hex_string(kAfterStore) + ")";
        }
        add_note(caps.notes, a.name, *a.field, text);
    }
    if (!caps.sw_breakpoint_exits) {
        auto planted = planted_int3_probe(system, cpuid.value(), caps.notes);
        if (!planted) {
            return planted.error();
        }
        caps.int3_stops_as_emulation_failure = planted.value();
    }
    if (caps.hw_exec_breakpoint) {
        auto rf = resume_flag_probe(system, cpuid.value(), caps.notes);
        if (!rf) {
            return rf.error();
        }
        caps.hw_bp_resume_flag = rf.value();
    } else {
        caps.notes += "resume flag (RFLAGS.RF): not probed: hardware execution breakpoints do not work\n";
    }
    return caps;
}

bool sw_breakpoints_use_hw_slots(const HostDebugCaps& caps) {
    return caps.set_guest_debug && !caps.sw_breakpoint_exits && caps.hw_exec_breakpoint;
}

bool plants_int3_in_kernel_code(const HostDebugCaps& caps) {
    return caps.set_guest_debug && !caps.sw_breakpoint_exits && caps.int3_stops_as_emulation_failure;
}

std::string describe(const HostDebugCaps& caps) {
    auto row = [](const char* what, const std::string& answer) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "  %-34s ", what);
        return std::string(buf) + answer + "\n";
    };
    std::string s = "Host KVM guest-debug capabilities (probed at start-up):\n";
    s += row("KVM_CAP_SET_GUEST_DEBUG", yes_no(caps.set_guest_debug));
    s += row("KVM_CAP_SET_GUEST_DEBUG2 mask",
             caps.guest_debug_mask != 0 ? hex_string(caps.guest_debug_mask) : std::string("absent"));
    s += row("KVM_GUESTDBG_BLOCKIRQ", caps.block_irq ? "yes: single-step does not enter interrupt handlers"
                                                     : "no: a step may land in an interrupt handler");
    s += row("KVM_CAP_EXCEPTION_PAYLOAD", yes_no(caps.exception_payload));
    s += row("KVM_CAP_DEBUGREGS", yes_no(caps.debugregs));
    s += row("single-step", caps.single_step ? "works: one exit per instruction" : "does NOT work");
    s += row("hardware execution breakpoint", caps.hw_exec_breakpoint ? "works (DR0-3)" : "does NOT work");
    std::string sw;
    if (caps.sw_breakpoint_exits) {
        sw = "int3 exits to the debugger";
    } else if (plants_int3_in_kernel_code(caps)) {
        sw = "int3 NOT intercepted; in 64-bit kernel code gdb's are planted as int3 (it stops as an emulation "
             "failure)" +
             std::string(sw_breakpoints_use_hw_slots(caps) ? ", elsewhere they use free hardware slots" : "");
    } else if (sw_breakpoints_use_hw_slots(caps)) {
        sw = "int3 NOT intercepted: gdb software breakpoints use free hardware slots";
    } else {
        sw = "int3 NOT intercepted and no hardware slots: breakpoints unavailable";
    }
    s += row("software breakpoint", sw);
    s += row("data watchpoint", caps.data_watchpoints_fire ? "fires" : "does NOT fire: gdb watchpoints never trigger");
    s += row("resume flag (RFLAGS.RF)",
             caps.hw_bp_resume_flag ? "honoured: a continue from a hw breakpoint resumes with RF=1 (no step-over)"
                                    : "not honoured: a continue single-steps over its hw breakpoint first");
    s += row("guest TF single-step trap", caps.guest_tf_exits
                                              ? "exits to userspace (classified, reflected to the guest)"
                                              : "no exit: the debugger does not see it (see Observed)");
    if (!caps.notes.empty()) {
        s += "Observed:\n";
        std::size_t start = 0;
        while (start < caps.notes.size()) {
            std::size_t end = caps.notes.find('\n', start);
            if (end == std::string::npos) {
                end = caps.notes.size();
            }
            s += "  " + caps.notes.substr(start, end - start) + "\n";
            start = end + 1;
        }
    }
    return s;
}

std::string one_line_summary(const HostDebugCaps& caps) {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "host guest-debug probe: set_guest_debug=%d mask=0x%" PRIx32
                  " blockirq=%d exception_payload=%d debugregs=%d step=%d hw_bp=%d sw_bp=%d "
                  "int3_emulation_failure=%d watch=%d guest_tf_exit=%d hw_bp_rf=%d",
                  caps.set_guest_debug, caps.guest_debug_mask, caps.block_irq, caps.exception_payload, caps.debugregs,
                  caps.single_step, caps.hw_exec_breakpoint, caps.sw_breakpoint_exits,
                  caps.int3_stops_as_emulation_failure, caps.data_watchpoints_fire, caps.guest_tf_exits,
                  caps.hw_bp_resume_flag);
    return buf;
}

std::string adaptation_notice(const HostDebugCaps& caps) {
    if (!caps.set_guest_debug) {
        return "kvmdbg: this host's KVM has no KVM_SET_GUEST_DEBUG: guest debugging is unavailable";
    }
    std::vector<std::string> parts;
    if (sw_breakpoints_use_hw_slots(caps)) {
        parts.emplace_back(
            "this host's KVM cannot intercept int3: gdb software breakpoints are served with "
            "free hardware breakpoint slots (" +
            std::to_string(x86::kNumDebugRegs) + ", shared with watchpoints)" +
            (plants_int3_in_kernel_code(caps)
                 ? std::string(", except in 64-bit kernel code, where int3 is planted (it stops as an emulation "
                               "failure there)")
                 : std::string()));
    } else if (!caps.sw_breakpoint_exits) {
        parts.emplace_back(
            "this host's KVM intercepts neither int3 nor hardware breakpoints: gdb "
            "breakpoints are unavailable");
    }
    if (!caps.data_watchpoints_fire) {
        parts.emplace_back("hardware watchpoints do not fire on this host");
    }
    if (!caps.single_step) {
        parts.emplace_back("single-step does not work on this host");
    }
    std::string line;
    for (const auto& p : parts) {
        line += (line.empty() ? "kvmdbg: " : "; ") + p;
    }
    return line;
}

}  // namespace kvmdbg::accel::kvm
