// The start-up host capability probe (accel/kvm/host_debug_probe.h) on the
// real /dev/kvm: it completes, its capability answers match
// KVM_CHECK_EXTENSION, the behaviours every x86 KVM with guest debug has
// (single-step, hardware execution breakpoints) are found, every answer is
// stable across runs, and describe() covers every probe (the resume-flag
// probe is also timed alone). Prints the answers
// and the probe's duration so the test log shows what this host does.
// Skips (77) with the reason when /dev/kvm cannot be used.
#include <dirent.h>
#include <linux/kvm.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "accel/kvm/host_debug_probe.h"
#include "accel/kvm/kvm_system.h"
#include "tests/support/cunit_main.h"

namespace {

using kvmdbg::accel::kvm::HostDebugCaps;
using kvmdbg::accel::kvm::KvmSystem;
namespace probe = kvmdbg::accel::kvm;

constexpr int kRuns = 3;

std::optional<KvmSystem> g_system;
std::optional<HostDebugCaps> g_first;

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Open descriptors of this process: the probe must not leak VM or vCPU fds.
int open_fd_count() {
    DIR* d = opendir("/proc/self/fd");
    if (d == nullptr) {
        return -1;
    }
    int n = 0;
    while (readdir(d) != nullptr) {
        ++n;
    }
    closedir(d);
    return n;
}

// Runs the probe once, printing its duration; fails the test on an error.
std::optional<HostDebugCaps> timed_probe(const char* label) {
    auto t0 = std::chrono::steady_clock::now();
    auto caps = probe::probe_host_debug(*g_system);
    double ms = ms_since(t0);
    if (!caps) {
        std::printf("\n  probe failed: %s\n", caps.error().message.c_str());
        CU_FAIL("probe_host_debug failed");
        return std::nullopt;
    }
    std::printf("\n  %s: whole probe took %.2f ms (target < 50 ms)\n", label, ms);
    return caps.value();
}

void test_probe_completes() {
    auto caps = timed_probe("first run");
    CU_ASSERT_FATAL(caps.has_value());
    g_first = caps;
    std::printf("%s", probe::describe(*caps).c_str());
    std::printf("  -d guest_debug: %s\n", probe::one_line_summary(*caps).c_str());
    std::string notice = probe::adaptation_notice(*caps);
    std::printf("  start-up notice: %s\n", notice.empty() ? "(none)" : notice.c_str());
}

void test_capabilities_match_check_extension() {
    CU_ASSERT_FATAL(g_first.has_value());
    const HostDebugCaps& c = *g_first;
    CU_ASSERT_EQUAL(c.set_guest_debug, g_system->check_extension(KVM_CAP_SET_GUEST_DEBUG) > 0);
    CU_ASSERT_EQUAL(c.guest_debug_mask,
                    static_cast<std::uint32_t>(g_system->check_extension(KVM_CAP_SET_GUEST_DEBUG2)));
    CU_ASSERT_EQUAL(c.block_irq, (c.guest_debug_mask & KVM_GUESTDBG_BLOCKIRQ) != 0);
    CU_ASSERT_EQUAL(c.exception_payload, g_system->check_extension(KVM_CAP_EXCEPTION_PAYLOAD) > 0);
    CU_ASSERT_EQUAL(c.debugregs, g_system->check_extension(KVM_CAP_DEBUGREGS) > 0);
    if (c.guest_debug_mask != 0) {
        // The mask describes KVM_SET_GUEST_DEBUG's control word, which always has these.
        CU_ASSERT(c.guest_debug_mask & KVM_GUESTDBG_ENABLE);
        CU_ASSERT(c.guest_debug_mask & KVM_GUESTDBG_SINGLESTEP);
        CU_ASSERT(c.guest_debug_mask & KVM_GUESTDBG_USE_HW_BP);
    }
}

// Every x86 KVM with KVM_SET_GUEST_DEBUG we met steps. DR0-3 execute
// breakpoints work on hardware KVM and on the PVM hosts, but not on KVM
// nested under QEMU's TCG (docs/hosts.md): there the probe must have seen
// the code run past the breakpoint to its end, not failed to look.
void test_universal_behaviours_found() {
    CU_ASSERT_FATAL(g_first.has_value());
    const HostDebugCaps& c = *g_first;
    if (!c.set_guest_debug) {
        CU_ASSERT_FALSE(c.single_step || c.hw_exec_breakpoint || c.sw_breakpoint_exits || c.data_watchpoints_fire ||
                        c.guest_tf_exits || c.hw_bp_resume_flag);
        return;
    }
    // RF is only asked where hardware execution breakpoints work, the
    // planted-int3 probe only where int3 is not intercepted.
    CU_ASSERT(c.hw_exec_breakpoint || !c.hw_bp_resume_flag);
    CU_ASSERT(!c.sw_breakpoint_exits || !c.int3_stops_as_emulation_failure);
    CU_ASSERT(c.sw_breakpoint_exits ||
              c.notes.find("int3 stops as an emulation failure, resumable: ") != std::string::npos);
    CU_ASSERT_TRUE(c.single_step);
    CU_ASSERT_TRUE(c.hw_exec_breakpoint ||
                   c.notes.find("hardware execution breakpoint: no: KVM_EXIT_IO out port 0x80") != std::string::npos);
    // The consequence drawn from the answers is consistent with them.
    CU_ASSERT_EQUAL(probe::sw_breakpoints_use_hw_slots(c), !c.sw_breakpoint_exits && c.hw_exec_breakpoint);
    CU_ASSERT_EQUAL(probe::plants_int3_in_kernel_code(c), !c.sw_breakpoint_exits && c.int3_stops_as_emulation_failure);
    CU_ASSERT_EQUAL(probe::adaptation_notice(c).empty(),
                    c.sw_breakpoint_exits && c.data_watchpoints_fire && c.single_step);
}

void test_answers_are_stable() {
    CU_ASSERT_FATAL(g_first.has_value());
    for (int i = 1; i < kRuns; ++i) {
        std::string label = "run " + std::to_string(i + 1);
        int fds_before = open_fd_count();
        auto caps = timed_probe(label.c_str());
        CU_ASSERT_FATAL(caps.has_value());
        CU_ASSERT_EQUAL(open_fd_count(), fds_before);
        CU_ASSERT_EQUAL(probe::one_line_summary(*caps), probe::one_line_summary(*g_first));
        CU_ASSERT_EQUAL(caps->set_guest_debug, g_first->set_guest_debug);
        CU_ASSERT_EQUAL(caps->single_step, g_first->single_step);
        CU_ASSERT_EQUAL(caps->hw_exec_breakpoint, g_first->hw_exec_breakpoint);
        CU_ASSERT_EQUAL(caps->sw_breakpoint_exits, g_first->sw_breakpoint_exits);
        CU_ASSERT_EQUAL(caps->data_watchpoints_fire, g_first->data_watchpoints_fire);
        CU_ASSERT_EQUAL(caps->guest_tf_exits, g_first->guest_tf_exits);
        CU_ASSERT_EQUAL(caps->hw_bp_resume_flag, g_first->hw_bp_resume_flag);
        CU_ASSERT_EQUAL(caps->int3_stops_as_emulation_failure, g_first->int3_stops_as_emulation_failure);
    }
}

bool mentions(const std::string& text, const char* what) {
    bool found = text.find(what) != std::string::npos;
    if (!found) {
        std::printf("\n  describe() does not mention \"%s\"\n", what);
    }
    return found;
}

void test_describe_mentions_every_probe() {
    CU_ASSERT_FATAL(g_first.has_value());
    std::string text = probe::describe(*g_first);
    CU_ASSERT_FALSE(text.empty());
    CU_ASSERT_EQUAL(text.back(), '\n');
    for (const char* what :
         {"KVM_CAP_SET_GUEST_DEBUG", "KVM_CAP_SET_GUEST_DEBUG2", "KVM_GUESTDBG_BLOCKIRQ", "KVM_CAP_EXCEPTION_PAYLOAD",
          "KVM_CAP_DEBUGREGS", "single-step", "hardware execution breakpoint", "software breakpoint", "data watchpoint",
          "guest TF", "resume flag (RFLAGS.RF)"}) {
        CU_ASSERT(mentions(text, what));
    }
    if (g_first->set_guest_debug) {
        // The observations of every behavioural probe are in the notes.
        for (const char* what :
             {"single-step:", "hardware execution breakpoint:", "software breakpoint (int3):",
              "data watchpoint (write, 4 bytes):", "guest RFLAGS.TF trap exits:", "resume flag (RFLAGS.RF)"}) {
            CU_ASSERT(mentions(g_first->notes, what));
        }
    }
    std::string line = probe::one_line_summary(*g_first);
    CU_ASSERT_EQUAL(line.find('\n'), std::string::npos);
    for (const char* key : {"set_guest_debug=", "mask=", "blockirq=", "exception_payload=", "debugregs=", "step=",
                            "hw_bp=", "sw_bp=", "int3_emulation_failure=", "watch=", "guest_tf_exit=", "hw_bp_rf="}) {
        CU_ASSERT(line.find(key) != std::string::npos);
    }
}

// The resume-flag probe on its own (what kvmdbg adds to every start-up for
// it): same answer as in the whole probe, its cost printed, and its note
// says what was observed at the breakpoint.
void test_resume_flag_probe_alone() {
    CU_ASSERT_FATAL(g_first.has_value());
    if (!g_first->hw_exec_breakpoint) {
        std::printf("\n  hardware execution breakpoints do not work: the resume-flag probe is not run\n");
        return;
    }
    for (int i = 0; i < kRuns; ++i) {
        std::string notes;
        auto t0 = std::chrono::steady_clock::now();
        auto rf = probe::probe_resume_flag(*g_system, notes);
        double ms = ms_since(t0);
        CU_ASSERT_FATAL(rf.ok());
        std::printf("\n  resume-flag probe alone: %.2f ms, answer %s", ms, rf.value() ? "yes" : "no");
        CU_ASSERT_EQUAL(rf.value(), g_first->hw_bp_resume_flag);
        CU_ASSERT(notes.find("resume flag (RFLAGS.RF) skips a hw breakpoint once: ") == 0);
        // Whatever the answer, the first stop is the breakpoint with the loop counter at 2.
        CU_ASSERT(notes.find("pc 0x4005") != std::string::npos);
        CU_ASSERT(notes.find("rcx 2") != std::string::npos);
        CU_ASSERT_EQUAL(notes.find('\n'), notes.size() - 1);
    }
    std::printf("\n");
}

// A host without the feature gets a clear notice; one with everything, none.
void test_notice_for_synthetic_hosts() {
    HostDebugCaps pvm;
    pvm.set_guest_debug = true;
    pvm.single_step = true;
    pvm.hw_exec_breakpoint = true;
    std::string n = probe::adaptation_notice(pvm);
    CU_ASSERT(n.find("int3") != std::string::npos);
    CU_ASSERT(n.find("hardware breakpoint slots") != std::string::npos);
    CU_ASSERT(n.find("watchpoints do not fire") != std::string::npos);
    CU_ASSERT_EQUAL(n.find('\n'), std::string::npos);
    CU_ASSERT_TRUE(probe::sw_breakpoints_use_hw_slots(pvm));

    HostDebugCaps hw = pvm;
    hw.sw_breakpoint_exits = true;
    hw.data_watchpoints_fire = true;
    hw.guest_tf_exits = true;
    CU_ASSERT_TRUE(probe::adaptation_notice(hw).empty());
    CU_ASSERT_FALSE(probe::sw_breakpoints_use_hw_slots(hw));

    HostDebugCaps none;
    CU_ASSERT(probe::adaptation_notice(none).find("KVM_SET_GUEST_DEBUG") != std::string::npos);
    CU_ASSERT_FALSE(probe::sw_breakpoints_use_hw_slots(none));
}

const kvmdbg::test::TestCase kProbe[] = {
    {"probe completes", test_probe_completes},
    {"capabilities match KVM_CHECK_EXTENSION", test_capabilities_match_check_extension},
    {"single-step and hw exec breakpoint found", test_universal_behaviours_found},
    {"answers are stable across runs", test_answers_are_stable},
    {"describe mentions every probe", test_describe_mentions_every_probe},
    {"notice for synthetic hosts", test_notice_for_synthetic_hosts},
    {"resume-flag probe alone", test_resume_flag_probe_alone},
};

const kvmdbg::test::TestSuite kSuites[] = {{"host_debug_probe", kProbe}};

}  // namespace

int main() {
    auto system = KvmSystem::open("/dev/kvm");
    if (!system) {
        std::printf("SKIP: %s\n", system.error().message.c_str());
        return 77;
    }
    g_system.emplace(std::move(system).value());
    int rc = kvmdbg::test::run_suites(kSuites);
    g_system.reset();
    return rc;
}
