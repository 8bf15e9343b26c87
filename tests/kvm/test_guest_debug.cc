// The guest-debug core on the real /dev/kvm, through the real accel-kvm
// plugin: exact single-step RIP sequence, a hardware breakpoint hit and
// continued N times without looping, a software breakpoint (served as the
// host allows), watchpoint hits where the host's watchpoints fire, and guest
// RAM byte-for-byte restored after remove_all_breakpoints.
// Skips (77) with the reason when /dev/kvm cannot be used.
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "accel/accelerator.h"
#include "arch/x86/boot_tables.h"
#include "common/mapped_region.h"
#include "tests/support/cunit_main.h"
#include "tests/support/kvm_available.h"

namespace {

using kvmdbg::MappedRegion;
using kvmdbg::accel::AccelConfig;
using kvmdbg::accel::Accelerator;
using kvmdbg::accel::AccelHost;
namespace x86 = kvmdbg::arch::x86;

std::string g_module;

constexpr std::uint64_t kRamSize = 2ull << 20;
constexpr std::uint64_t kGdt = 0x800;
constexpr std::uint64_t kTables = 0x10000;
constexpr std::uint64_t kCode = 0x1000;
constexpr std::uint64_t kCounter = 0x2000;

// Known 64-bit sequence; kStep[i] is the address of instruction i.
//   1000 nop                      1001 mov eax,1
//   1006 add rax,rbx              1009 xor edx,edx
//   100b inc eax                  100d inc qword [0x2000]   <- loop
//   1015 out 0x80,al              1017 jmp 100d
const std::vector<std::uint8_t> kProgram = {0x90, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x48, 0x01, 0xd8,
                                            0x31, 0xd2, 0xff, 0xc0, 0x48, 0xff, 0x04, 0x25, 0x00,
                                            0x20, 0x00, 0x00, 0xe6, 0x80, 0xeb, 0xf4};
const std::uint64_t kStep[] = {0x1000, 0x1001, 0x1006, 0x1009, 0x100b, 0x100d, 0x1015, 0x1017};
constexpr std::uint64_t kLoop = 0x100d;
constexpr std::uint64_t kOut = 0x1015;

struct Host : AccelHost {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<KvmdbgEvent> events;
    KvmdbgIoResult pio(std::uint32_t, std::uint16_t, std::uint8_t*, std::uint32_t, bool) override {
        return KVMDBG_IO_CONTINUE;
    }
    KvmdbgIoResult mmio(std::uint32_t, std::uint64_t, std::uint8_t*, std::uint32_t, bool) override {
        return KVMDBG_IO_CONTINUE;
    }
    void event(const KvmdbgEvent& e) override {
        std::lock_guard lock(mu);
        KvmdbgEvent copy = e;
        copy.message = nullptr;
        events.push_back(copy);
        cv.notify_all();
    }
    std::optional<KvmdbgEvent> next(int ms = 5000) {
        std::unique_lock lock(mu);
        if (!cv.wait_for(lock, std::chrono::milliseconds(ms), [&] { return !events.empty(); })) {
            return std::nullopt;
        }
        KvmdbgEvent e = events.front();
        events.pop_front();
        return e;
    }
};

struct Vm {
    Host host;
    MappedRegion ram;
    std::unique_ptr<Accelerator> accel;
    std::uint64_t counter() const {
        std::uint64_t v;
        std::memcpy(&v, ram.data() + kCounter, 8);
        return v;
    }
};

std::unique_ptr<Vm> make_vm() {
    auto vm = std::make_unique<Vm>();
    vm->ram = std::move(MappedRegion::anonymous(kRamSize)).value();
    std::uint8_t* m = vm->ram.data();
    CU_ASSERT_FATAL(x86::write_boot_gdt({m + kGdt, x86::kBootGdtSize}).ok());
    auto tsize = x86::identity_page_tables_size(kRamSize);
    CU_ASSERT_FATAL(x86::write_identity_page_tables({m + kTables, tsize}, kTables, kRamSize).ok());
    std::memcpy(m + kCode, kProgram.data(), kProgram.size());
    auto plugin = kvmdbg::accel::load_accel_plugin_file(g_module);
    CU_ASSERT_FATAL(plugin.ok());
    auto accel = Accelerator::create(std::move(plugin).value(), AccelConfig{}, vm->host);
    CU_ASSERT_FATAL(accel.ok());
    vm->accel = std::move(accel).value();
    CU_ASSERT_FATAL(vm->accel->map_ram(0, kRamSize, m, false).ok());
    CU_ASSERT_FATAL(vm->accel->create_vcpus(1).ok());
    x86::LongModeEntry entry;
    entry.rip = kCode;
    entry.rsp = kRamSize - 16;
    entry.cr3 = kTables;
    entry.gdt_base = kGdt;
    CU_ASSERT_FATAL(vm->accel->set_x86_state(0, x86::long_mode_entry_state(entry)).ok());
    CU_ASSERT_FATAL(vm->accel->start(true).ok());
    return vm;
}

std::optional<KvmdbgEvent> resume_until_stop(Vm& vm, KvmdbgResumeMode mode) {
    if (!vm.accel->resume(0, mode).ok()) {
        return std::nullopt;
    }
    auto e = vm.host.next();
    if (e && e->kind != KVMDBG_EVENT_DEBUG) {
        std::printf("unexpected event kind %u\n", e->kind);
        return std::nullopt;
    }
    return e;
}

void test_single_step_exact_rips() {
    auto vm = make_vm();
    // kStep[1..7], then the loop head again, then the increment.
    std::vector<std::uint64_t> expect(std::begin(kStep) + 1, std::end(kStep));
    expect.push_back(kLoop);
    expect.push_back(kOut);
    for (std::uint64_t want : expect) {
        auto e = resume_until_stop(*vm, KVMDBG_RESUME_STEP);
        CU_ASSERT_FATAL(e.has_value());
        CU_ASSERT_EQUAL(e->debug.reason, KVMDBG_STOP_STEP);
        auto st = vm->accel->get_x86_state(0);
        CU_ASSERT_FATAL(st.ok());
        if (st->rip != want) {
            std::printf("step: rip 0x%llx, expected 0x%llx\n", static_cast<unsigned long long>(st->rip),
                        static_cast<unsigned long long>(want));
        }
        CU_ASSERT_EQUAL(st->rip, want);
        CU_ASSERT_EQUAL(e->debug.pc, want);
    }
    CU_ASSERT_EQUAL(vm->counter(), 2u);
}

void count_breakpoint_hits(KvmdbgBreakpointType type, std::uint32_t reason, std::uint64_t addr) {
    auto vm = make_vm();
    std::vector<std::uint8_t> before(vm->ram.data(), vm->ram.data() + kRamSize);
    auto ins = vm->accel->insert_breakpoint(type, addr, 1);
    if (!ins.ok()) {
        std::printf("insert: %s\n", ins.error().message.c_str());
    }
    CU_ASSERT_FATAL(ins.ok());
    constexpr int kHits = 20;
    for (int i = 0; i < kHits; ++i) {
        auto e = resume_until_stop(*vm, KVMDBG_RESUME_RUN);
        CU_ASSERT_FATAL(e.has_value());
        CU_ASSERT_EQUAL(e->debug.reason, reason);
        CU_ASSERT_EQUAL(e->debug.addr, addr);
        CU_ASSERT_EQUAL(vm->accel->get_x86_state(0)->rip, addr);
        // Exactly one loop iteration per hit: the continue did not loop on
        // the breakpoint and did not skip a hit.
        std::uint64_t expected = static_cast<std::uint64_t>(addr == kLoop ? i : i + 1);
        CU_ASSERT_EQUAL(vm->counter(), expected);
    }
    CU_ASSERT(vm->accel->remove_all_breakpoints().ok());
    CU_ASSERT(vm->accel->pause_all().ok());
    // Memory equals the original apart from the counter the guest wrote.
    // Apart from the counter and the accessed/dirty bits the CPU itself sets
    // in the page tables, memory equals the original.
    std::vector<std::uint8_t> after(vm->ram.data(), vm->ram.data() + kRamSize);
    std::memcpy(after.data() + kCounter, before.data() + kCounter, 8);
    auto tsize = x86::identity_page_tables_size(kRamSize);
    std::memcpy(after.data() + kTables, before.data() + kTables, tsize);
    for (std::size_t i = 0; i < kRamSize; ++i) {
        if (after[i] != before[i]) {
            std::printf("memory differs at 0x%zx: 0x%02x, was 0x%02x\n", i, after[i], before[i]);
            break;
        }
    }
    CU_ASSERT(after == before);
}

void test_hw_breakpoint_hits_and_continues() { count_breakpoint_hits(KVMDBG_BP_HARDWARE, KVMDBG_STOP_HW_BREAK, kLoop); }

void test_sw_breakpoint_hits_and_continues() { count_breakpoint_hits(KVMDBG_BP_SOFTWARE, KVMDBG_STOP_SW_BREAK, kOut); }

void test_refcount_and_errors() {
    auto vm = make_vm();
    CU_ASSERT(vm->accel->insert_breakpoint(KVMDBG_BP_HARDWARE, kLoop, 1).ok());
    CU_ASSERT(vm->accel->insert_breakpoint(KVMDBG_BP_HARDWARE, kLoop, 1).ok());
    CU_ASSERT(vm->accel->remove_breakpoint(KVMDBG_BP_HARDWARE, kLoop, 1).ok());
    auto e = resume_until_stop(*vm, KVMDBG_RESUME_RUN);  // still armed after one remove
    CU_ASSERT_FATAL(e.has_value());
    CU_ASSERT_EQUAL(e->debug.addr, kLoop);
    CU_ASSERT(vm->accel->remove_breakpoint(KVMDBG_BP_HARDWARE, kLoop, 1).ok());
    auto gone = vm->accel->remove_breakpoint(KVMDBG_BP_HARDWARE, kLoop, 1);
    CU_ASSERT(!gone.ok() && gone.error().code == ENOENT);
    auto read_watch = vm->accel->insert_breakpoint(KVMDBG_WP_READ, kCounter, 8);
    CU_ASSERT(!read_watch.ok() && read_watch.error().code == ENOTSUP);
    for (std::uint64_t i = 0; i < 4; ++i) {
        CU_ASSERT(vm->accel->insert_breakpoint(KVMDBG_BP_HARDWARE, 0x3000 + i, 1).ok());
    }
    auto full = vm->accel->insert_breakpoint(KVMDBG_WP_WRITE, kCounter, 8);
    CU_ASSERT(!full.ok() && full.error().code == ENOSPC);
    CU_ASSERT(vm->accel->remove_all_breakpoints().ok());
    CU_ASSERT(vm->accel->insert_breakpoint(KVMDBG_WP_WRITE, kCounter, 8).ok());
}

void test_debugger_memory_reads() {
    auto vm = make_vm();
    std::uint8_t buf[4] = {};
    CU_ASSERT(vm->accel->read_memory(0, kCode, buf, false).ok());
    CU_ASSERT(std::memcmp(buf, kProgram.data(), 4) == 0);
    auto bad = vm->accel->read_memory(0, 0x7f0000000000ull, buf, false);
    CU_ASSERT(!bad.ok() && bad.error().code == EFAULT);
    const std::uint8_t patch[] = {0x90};
    CU_ASSERT(vm->accel->write_memory(0, 0x3000, patch, false).ok());
    CU_ASSERT_EQUAL(vm->ram.data()[0x3000], 0x90);
}

const kvmdbg::test::TestCase kCases[] = {
    {"single-step gives the exact RIP sequence", test_single_step_exact_rips},
    {"hardware breakpoint: 20 hits, one iteration each", test_hw_breakpoint_hits_and_continues},
    {"software breakpoint: 20 hits, memory restored", test_sw_breakpoint_hits_and_continues},
    {"refcounts, unsupported and exhausted slots", test_refcount_and_errors},
    {"debugger memory access", test_debugger_memory_reads},
};

const kvmdbg::test::TestSuite kSuites[] = {{"guest_debug", kCases}};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s ACCEL_KVM_MODULE\n", argv[0]);
        return 2;
    }
    if (int skip = kvmdbg::test::skip_without_kvm(); skip != 0) {
        return skip;
    }
    g_module = argv[1];
    return kvmdbg::test::run_suites(kSuites);
}
