// The guest-debug core against the in-tree guests of tests/guests/x86 on the
// real /dev/kvm (loaded by the real loaders, run by the real accel-kvm):
//  - single-step through debug_target's step_sequence, RIP == step_N exactly;
//  - a hardware breakpoint on tick(): 100 hits, continued without looping;
//  - a software breakpoint on tick(), served as the host probe decided;
//  - stops the host does not want dropped on the vCPU thread (wants_stop);
//  - guest RAM checksum after remove_all_breakpoints == before any insert;
//  - a guest that uses its own TF and DR0 while the debugger has its own
//    breakpoints (and steps) prints the same counts as without a debugger.
// Skips (77) with the reason when /dev/kvm cannot be used.
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <map>
#include <string>

#include "tests/kvm/guest_runner.h"
#include "tests/kvm/guest_test_helpers.h"
#include "tests/support/cunit_main.h"
#include "tests/support/elf_symbols.h"
#include "tests/support/kvm_available.h"

namespace {

using kvmdbg::test::GuestRunner;

std::string g_module;
std::string g_guests;
std::uint64_t g_park_spin_us = 0;  // busy-poll mode: KVMDBG_OPT_PARK_SPIN_US

std::string guest(const char* name) { return g_guests + "/" + name; }

std::unique_ptr<GuestRunner> boot(const char* name, std::uint32_t cpus = 1) {
    auto r = kvmdbg::test::boot_guest(g_module, guest(name), cpus);
    if (g_park_spin_us != 0) {
        CU_ASSERT_FATAL(r->accel().set_debug_option(KVMDBG_OPT_PARK_SPIN_US, g_park_spin_us).ok());
    }
    return r;
}

std::uint64_t sym(const std::map<std::string, std::uint64_t>& syms, const char* name) {
    return kvmdbg::test::symbol_address(syms, name);
}

std::uint64_t read_u64(GuestRunner& r, std::uint64_t addr) { return kvmdbg::test::read_guest<std::uint64_t>(r, addr); }

KvmdbgEvent expect_stop(GuestRunner& r) { return kvmdbg::test::expect_debug_stop(r); }

void test_step_sequence() {
    auto syms = kvmdbg::test::read_elf_symbols(guest("debug_target.elf64"));
    auto r = boot("debug_target.elf64");
    std::uint64_t step0 = sym(syms, "step_0");
    CU_ASSERT_FATAL(r->accel().insert_breakpoint(KVMDBG_BP_HARDWARE, step0, 1).ok());
    CU_ASSERT_FATAL(r->resume_all().ok());
    KvmdbgEvent hit = expect_stop(*r);
    CU_ASSERT_EQUAL(hit.debug.reason, KVMDBG_STOP_HW_BREAK);
    CU_ASSERT_EQUAL(hit.debug.addr, step0);
    CU_ASSERT(r->accel().remove_breakpoint(KVMDBG_BP_HARDWARE, step0, 1).ok());
    const char* next[] = {"step_1", "step_2", "step_3", "step_4", "step_5", "step_6", "step_7", "step_ret"};
    for (const char* label : next) {
        CU_ASSERT_FATAL(r->accel().resume(0, KVMDBG_RESUME_STEP).ok());
        KvmdbgEvent e = expect_stop(*r);
        CU_ASSERT_EQUAL(e.debug.reason, KVMDBG_STOP_STEP);
        auto st = r->accel().get_x86_state(0);
        CU_ASSERT_FATAL(st.ok());
        if (st->rip != sym(syms, label)) {
            std::printf("after step: rip 0x%llx, expected %s = 0x%llx\n", static_cast<unsigned long long>(st->rip),
                        label, static_cast<unsigned long long>(sym(syms, label)));
        }
        CU_ASSERT_EQUAL(st->rip, sym(syms, label));
    }
    CU_ASSERT(r->resume_all().ok());
    CU_ASSERT_EQUAL(r->wait_exit(), 69);
}

void count_tick_hits(KvmdbgBreakpointType type, std::uint32_t reason) {
    auto syms = kvmdbg::test::read_elf_symbols(guest("debug_target.elf64"));
    auto r = boot("debug_target.elf64");
    std::uint64_t tick = sym(syms, "tick");
    std::uint64_t tick_count = sym(syms, "tick_count");
    CU_ASSERT_FATAL(r->accel().insert_breakpoint(type, tick, 1).ok());
    CU_ASSERT_FATAL(r->resume_all().ok());
    for (std::uint64_t i = 0; i < 100; ++i) {
        KvmdbgEvent e = expect_stop(*r);
        CU_ASSERT_EQUAL(e.debug.reason, reason);
        CU_ASSERT_EQUAL(e.debug.addr, tick);
        CU_ASSERT_EQUAL(r->accel().get_x86_state(0)->rip, tick);
        // Stopped at tick's entry: exactly i calls completed before this one.
        CU_ASSERT_EQUAL(read_u64(*r, tick_count) & 0xffffffffu, i);
        CU_ASSERT_FATAL(r->accel().resume(0, KVMDBG_RESUME_RUN).ok());
    }
    CU_ASSERT_EQUAL(r->wait_exit(), 69);
    CU_ASSERT(r->serial().find("debug_target done ticks=100 watched=99") != std::string::npos);
}

void test_hw_breakpoint_on_tick() { count_tick_hits(KVMDBG_BP_HARDWARE, KVMDBG_STOP_HW_BREAK); }

void test_sw_breakpoint_on_tick() { count_tick_hits(KVMDBG_BP_SOFTWARE, KVMDBG_STOP_SW_BREAK); }

// The host drops breakpoint stops it does not want (a false target-side
// condition) on the vCPU thread: no event, no resume from outside, and the
// vCPU steps over the breakpoint by itself. Every 20th hit is wanted.
void filter_tick_hits(KvmdbgBreakpointType type, std::uint32_t reason) {
    auto syms = kvmdbg::test::read_elf_symbols(guest("debug_target.elf64"));
    auto r = boot("debug_target.elf64");
    std::uint64_t tick = sym(syms, "tick");
    std::uint64_t tick_count = sym(syms, "tick_count");
    std::atomic<std::uint64_t> asked{0};
    std::atomic<std::uint64_t> wrong{0};
    const pthread_t test_thread = pthread_self();
    GuestRunner& runner = *r;
    r->stop_filter = [&](std::uint32_t cpu, const KvmdbgDebugStop& stop) {
        // Called on the vCPU's thread, which can read its state inline.
        auto st = runner.accel().get_x86_state(cpu);
        if (pthread_equal(pthread_self(), test_thread) || stop.addr != tick || stop.reason != reason || !st.ok() ||
            st->rip != tick) {
            ++wrong;
        }
        return ++asked % 20 == 0;
    };
    CU_ASSERT_FATAL(r->accel().insert_breakpoint(type, tick, 1).ok());
    CU_ASSERT_FATAL(r->resume_all().ok());
    for (std::uint64_t i = 1; i <= 5; ++i) {
        KvmdbgEvent e = expect_stop(*r);
        CU_ASSERT_EQUAL(e.debug.reason, reason);
        CU_ASSERT_EQUAL(e.debug.addr, tick);
        CU_ASSERT_EQUAL(asked.load(), 20 * i);
        // 20*i - 1 calls of tick() completed: the passed-over ones ran whole.
        CU_ASSERT_EQUAL(read_u64(*r, tick_count) & 0xffffffffu, 20 * i - 1);
        CU_ASSERT_FATAL(r->accel().resume(0, KVMDBG_RESUME_RUN).ok());
    }
    CU_ASSERT_EQUAL(r->wait_exit(), 69);
    CU_ASSERT_EQUAL(wrong.load(), 0u);
    CU_ASSERT_EQUAL(asked.load(), 100u);
    CU_ASSERT(r->serial().find("debug_target done ticks=100 watched=99") != std::string::npos);
    CU_ASSERT_FALSE(r->next_event(0).has_value());  // the 100th stop was the last
}

// A hit while the vCPU steps is never passed over on the vCPU thread (the
// step would become a continue): it reaches the debugger, which judges it.
void test_step_onto_filtered_breakpoint() {
    auto syms = kvmdbg::test::read_elf_symbols(guest("debug_target.elf64"));
    auto r = boot("debug_target.elf64");
    std::uint64_t step0 = sym(syms, "step_0");
    std::uint64_t step1 = sym(syms, "step_1");
    std::atomic<int> asked_at_step1{0};
    r->stop_filter = [&](std::uint32_t, const KvmdbgDebugStop& stop) {
        if (stop.addr == step1) {
            ++asked_at_step1;
            return false;  // "a false condition" at step_1
        }
        return true;
    };
    CU_ASSERT_FATAL(r->accel().insert_breakpoint(KVMDBG_BP_HARDWARE, step0, 1).ok());
    CU_ASSERT_FATAL(r->accel().insert_breakpoint(KVMDBG_BP_HARDWARE, step1, 1).ok());
    CU_ASSERT_FATAL(r->resume_all().ok());
    KvmdbgEvent at0 = expect_stop(*r);
    CU_ASSERT_EQUAL_FATAL(at0.debug.addr, step0);
    // step_0 -> step_1, then a step from step_1, whose breakpoint fires first.
    for (int i = 0; i < 2; ++i) {
        CU_ASSERT_FATAL(r->accel().resume(0, KVMDBG_RESUME_STEP).ok());
        auto e = r->next_event();
        CU_ASSERT_FATAL(e.has_value() && e->kind == KVMDBG_EVENT_DEBUG);
        auto st = r->accel().get_x86_state(0);
        CU_ASSERT_FATAL(st.ok());
        CU_ASSERT_TRUE(st->rip == step1 || st->rip == sym(syms, "step_2"));
    }
    CU_ASSERT_EQUAL(asked_at_step1.load(), 0);
    CU_ASSERT(r->accel().remove_all_breakpoints().ok());
    CU_ASSERT(r->resume_all().ok());
    CU_ASSERT_EQUAL(r->wait_exit(), 69);
}

void test_hw_breakpoint_filtered_on_vcpu() { filter_tick_hits(KVMDBG_BP_HARDWARE, KVMDBG_STOP_HW_BREAK); }

void test_sw_breakpoint_filtered_on_vcpu() { filter_tick_hits(KVMDBG_BP_SOFTWARE, KVMDBG_STOP_SW_BREAK); }

void test_ram_restored_after_remove_all() {
    auto syms = kvmdbg::test::read_elf_symbols(guest("debug_target.elf64"));
    auto r = boot("debug_target.elf64");
    std::uint64_t before = r->ram_checksum();
    for (const char* name : {"tick", "main", "step_3"}) {
        CU_ASSERT(r->accel().insert_breakpoint(KVMDBG_BP_SOFTWARE, sym(syms, name), 1).ok());
    }
    CU_ASSERT(r->accel().insert_breakpoint(KVMDBG_BP_SOFTWARE, sym(syms, "tick"), 1).ok());  // refcount 2
    CU_ASSERT(r->accel().insert_breakpoint(KVMDBG_WP_WRITE, sym(syms, "watched_var"), 8).ok());
    // Reads through the debugger never show breakpoint opcodes.
    std::uint8_t code[4];
    CU_ASSERT(r->accel().read_memory(0, sym(syms, "tick"), code, false).ok());
    CU_ASSERT_NOT_EQUAL(code[0], 0xcc);
    CU_ASSERT(r->accel().remove_all_breakpoints().ok());
    CU_ASSERT_EQUAL(r->ram_checksum(), before);
    CU_ASSERT(r->resume_all().ok());
    CU_ASSERT_EQUAL(r->wait_exit(), 69);
}

// The guest's own debug use gives the same result with and without a
// debugger that has breakpoints of its own and single-steps.
void self_debug_equivalence(const char* image) {
    auto plain = boot(image);
    CU_ASSERT_FATAL(plain->resume_all().ok());
    int plain_status = plain->wait_exit();
    std::string plain_out = plain->serial();
    plain.reset();
    CU_ASSERT_EQUAL_FATAL(plain_status, 71);
    auto syms = kvmdbg::test::read_elf_symbols(guest(image));
    auto r = boot(image);
    std::uint64_t main_fn = sym(syms, "main");
    std::uint64_t putc = sym(syms, "serial_putc");
    CU_ASSERT_FATAL(r->accel().insert_breakpoint(KVMDBG_BP_HARDWARE, main_fn, 1).ok());
    CU_ASSERT_FATAL(r->accel().insert_breakpoint(KVMDBG_BP_HARDWARE, putc, 1).ok());
    CU_ASSERT_FATAL(r->resume_all().ok());
    int stops = 0;
    int putc_hits = 0;
    int status = -1;
    for (;;) {
        auto e = r->next_event(20000);
        if (!e) {
            status = r->wait_exit(0);
            break;
        }
        CU_ASSERT_FATAL(e->kind == KVMDBG_EVENT_DEBUG);
        ++stops;
        putc_hits += e->debug.addr == putc ? 1 : 0;
        // Step a few instructions at main, continue everywhere else.
        bool at_main = e->debug.addr == main_fn && e->debug.reason == KVMDBG_STOP_HW_BREAK;
        for (int i = 0; at_main && i < 5; ++i) {
            CU_ASSERT_FATAL(r->accel().resume(0, KVMDBG_RESUME_STEP).ok());
            CU_ASSERT_EQUAL(expect_stop(*r).debug.reason, KVMDBG_STOP_STEP);
        }
        CU_ASSERT_FATAL(r->accel().resume(0, KVMDBG_RESUME_RUN).ok());
        if (r->wait_exit(0) >= 0) {
            status = r->wait_exit(0);
            break;
        }
    }
    std::printf("%s: %d debugger stops; without debugger: %s; with: %s", image, stops, plain_out.c_str(),
                r->serial().c_str());
    // Every character the guest printed went through serial_putc: the
    // debugger's breakpoint there never got lost to the guest's own DR use.
    std::printf("%s: serial_putc hits %d, characters %zu\n", image, putc_hits, r->serial().size());
    CU_ASSERT_EQUAL(static_cast<std::size_t>(putc_hits), r->serial().size());
    CU_ASSERT_EQUAL(status, plain_status);
    CU_ASSERT_STRING_EQUAL(r->serial().c_str(), plain_out.c_str());
}

void test_guest_tf_with_debugger() { self_debug_equivalence("guest_self_debug_tf.elf64"); }
void test_guest_dr0_with_debugger() { self_debug_equivalence("guest_self_debug_dr0.elf64"); }
void test_guest_int3_with_debugger() { self_debug_equivalence("guest_self_debug_bp.elf64"); }

const kvmdbg::test::TestCase kCases[] = {
    {"step through step_sequence", test_step_sequence},
    {"hardware breakpoint on tick: 100 hits", test_hw_breakpoint_on_tick},
    {"software breakpoint on tick: 100 hits", test_sw_breakpoint_on_tick},
    {"hardware breakpoint stops filtered on the vCPU thread", test_hw_breakpoint_filtered_on_vcpu},
    {"software breakpoint stops filtered on the vCPU thread", test_sw_breakpoint_filtered_on_vcpu},
    {"a step onto a filtered breakpoint stays a step", test_step_onto_filtered_breakpoint},
    {"RAM restored after remove_all", test_ram_restored_after_remove_all},
    {"guest TF counts unchanged by the debugger", test_guest_tf_with_debugger},
    {"guest DR0 counts unchanged by the debugger", test_guest_dr0_with_debugger},
};

const kvmdbg::test::TestCase kInt3Cases[] = {
    {"guest int3 counts unchanged by the debugger", test_guest_int3_with_debugger},
};

// busy-poll mode: the cases that stop and resume most, with the parked vCPU
// busy-polling (the rest do not exercise it differently).
const kvmdbg::test::TestCase kBusyPollCases[] = {
    {"step through step_sequence", test_step_sequence},
    {"hardware breakpoint on tick: 100 hits", test_hw_breakpoint_on_tick},
    {"hardware breakpoint stops filtered on the vCPU thread", test_hw_breakpoint_filtered_on_vcpu},
    {"a step onto a filtered breakpoint stays a step", test_step_onto_filtered_breakpoint},
};

const kvmdbg::test::TestSuite kSuites[] = {{"guest_debug_guests", kCases}};
const kvmdbg::test::TestSuite kBusyPollSuites[] = {{"guest_debug_guests_busy_poll", kBusyPollCases}};
const kvmdbg::test::TestSuite kInt3Suites[] = {{"guest_debug_guest_int3", kInt3Cases}};

// The guest's own int3 needs a host that runs it at all: where KVM runs
// int3 through its instruction emulator (page-table-based nested hosts) it
// is an emulation failure even without a debugger (docs/hosts.md).
int run_int3_mode() {
    auto r = GuestRunner::create(g_module, guest("guest_self_debug_bp.elf64"));
    if (!r.ok()) {
        std::printf("FAIL: %s\n", r.error().message.c_str());
        return 1;
    }
    (void)(*r)->resume_all();
    int status = (*r)->wait_exit();
    if (status != 71) {
        std::printf(
            "SKIP: this host cannot run a guest's own int3 even without a debugger "
            "(guest_self_debug_bp.elf64 ended with %d, see the message above)\n",
            status);
        return 77;
    }
    r->reset();
    return kvmdbg::test::run_suites(kInt3Suites);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3 && argc != 4) {
        std::fprintf(stderr, "usage: %s ACCEL_KVM_MODULE GUEST_DIR [int3|busy-poll]\n", argv[0]);
        return 2;
    }
    if (int skip = kvmdbg::test::skip_without_kvm(); skip != 0) {
        return skip;
    }
    g_module = argv[1];
    g_guests = argv[2];
    if (argc == 4 && std::string(argv[3]) == "int3") {
        return run_int3_mode();
    }
    if (argc == 4 && std::string(argv[3]) == "busy-poll") {
        g_park_spin_us = 300;  // every stop's vCPU busy-polls for the next request first
        return kvmdbg::test::run_suites(kBusyPollSuites);
    }
    return kvmdbg::test::run_suites(kSuites);
}
