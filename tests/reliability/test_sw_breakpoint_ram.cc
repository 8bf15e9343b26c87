// The software-breakpoint memory path (SwBreakpointTable writing int3, 0xCC)
// on the real guest RAM of a real KVM guest that keeps running and writing
// that RAM between the debugger's operations.
//
// Why here: on hosts whose KVM cannot intercept int3 (docs/hosts.md: PVM),
// kvmdbg serves gdb's software breakpoints with hardware slots, so the e2e
// and integrity cases never put 0xCC into guest memory there. This test
// drives the very table the accelerator uses on int3-intercepting hosts,
// over the memory KVM runs the guest in, at addresses the guest writes but
// never executes (an executed 0xCC is an emulation failure on the PVM hosts).
//
// Property (seeded, the seed printed; KVMDBG_REL_SEED=N reruns one): for a
// random sequence of inserts (refcounted), removes and guest runs of 1..40
// loop iterations, after remove_all the RAM equals that of a VM that ran
// the same number of iterations with no breakpoint; in between, a byte the
// guest wrote over a breakpoint is never put back (remove keeps the guest's
// write), and the debugger's view (shadow_read) never shows 0xCC.
//
// Known limit (documented in docs/reliability.md): a guest that writes the
// opcode byte itself over a breakpoint cannot be told from the breakpoint;
// remove() then restores the saved byte. The guest here stores counter & 0x7f
// so it never writes 0xCC.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "accel/accelerator.h"
#include "accel/kvm/sw_breakpoint_table.h"
#include "arch/x86/boot_tables.h"
#include "common/mapped_region.h"
#include "tests/support/cunit_main.h"
#include "tests/support/kvm_available.h"

namespace {

using kvmdbg::MappedRegion;
using kvmdbg::Status;
using kvmdbg::accel::AccelConfig;
using kvmdbg::accel::Accelerator;
using kvmdbg::accel::AccelHost;
using kvmdbg::accel::kvm::MemoryAccess;
using kvmdbg::accel::kvm::SwBreakpointTable;
namespace x86 = kvmdbg::arch::x86;

std::string g_module;

constexpr std::uint64_t kRamSize = 2ull << 20;
constexpr std::uint64_t kGdt = 0x800;
constexpr std::uint64_t kTables = 0x10000;
constexpr std::uint64_t kCode = 0x1000;
constexpr std::uint64_t kDeadCode = 0x1800;  // never executed: 16 nops
constexpr std::uint64_t kCounter = 0x2000;
constexpr std::uint64_t kData = 0x3000;  // the guest writes [kData, kData + 0x100)

//   1000 mov rax,[0x2000]     1008 inc rax          100b mov [0x2000],rax
//   1013 movzx ecx,al         1016 and al,0x7f      1018 mov [rcx+0x3000],al
//   101e jmp 1000
const std::vector<std::uint8_t> kProgram = {0x48, 0x8b, 0x04, 0x25, 0x00, 0x20, 0x00, 0x00, 0x48, 0xff, 0xc0,
                                            0x48, 0x89, 0x04, 0x25, 0x00, 0x20, 0x00, 0x00, 0x0f, 0xb6, 0xc8,
                                            0x24, 0x7f, 0x88, 0x81, 0x00, 0x30, 0x00, 0x00, 0xeb, 0xe0};

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
    std::optional<KvmdbgEvent> next() {
        std::unique_lock lock(mu);
        if (!cv.wait_for(lock, std::chrono::seconds(5), [&] { return !events.empty(); })) {
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
    std::uint8_t* mem() { return ram.data(); }
};

// The guest's RAM as the breakpoint table sees it: the memory KVM runs in.
class RamAccess : public MemoryAccess {
public:
    explicit RamAccess(Vm& vm) : vm_(vm) {}
    Status read(std::uint64_t addr, std::span<std::uint8_t> out) override {
        if (addr >= kRamSize || out.size() > kRamSize - addr) {
            return kvmdbg::make_error(EFAULT, "outside RAM");
        }
        std::memcpy(out.data(), vm_.mem() + addr, out.size());
        return kvmdbg::ok_status();
    }
    Status write(std::uint64_t addr, std::span<const std::uint8_t> in) override {
        if (addr >= kRamSize || in.size() > kRamSize - addr) {
            return kvmdbg::make_error(EFAULT, "outside RAM");
        }
        std::memcpy(vm_.mem() + addr, in.data(), in.size());
        return kvmdbg::ok_status();
    }

private:
    Vm& vm_;
};

std::unique_ptr<Vm> make_vm() {
    auto vm = std::make_unique<Vm>();
    vm->ram = std::move(MappedRegion::anonymous(kRamSize)).value();
    std::uint8_t* m = vm->mem();
    CU_ASSERT_FATAL(x86::write_boot_gdt({m + kGdt, x86::kBootGdtSize}).ok());
    auto tsize = x86::identity_page_tables_size(kRamSize);
    CU_ASSERT_FATAL(x86::write_identity_page_tables({m + kTables, tsize}, kTables, kRamSize).ok());
    std::memcpy(m + kCode, kProgram.data(), kProgram.size());
    std::memset(m + kDeadCode, 0x90, 16);
    for (unsigned i = 0; i < 0x100; ++i) {
        m[kData + i] = static_cast<std::uint8_t>(0x80 | i);  // the guest only stores 0x00..0x7f
    }
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
    // One hardware breakpoint at the loop head: each continue is one iteration.
    CU_ASSERT_FATAL(vm->accel->insert_breakpoint(KVMDBG_BP_HARDWARE, kCode, 1).ok());
    return vm;
}

bool run_iterations(Vm& vm, unsigned n) {
    for (unsigned i = 0; i < n; ++i) {
        if (!vm.accel->resume(0, KVMDBG_RESUME_RUN).ok()) {
            return false;
        }
        auto e = vm.host.next();
        if (!e || e->kind != KVMDBG_EVENT_DEBUG || e->debug.addr != kCode) {
            std::printf("unexpected stop (kind %u)\n", e ? e->kind : 0u);
            return false;
        }
    }
    return true;
}

std::uint64_t counter(Vm& vm) {
    std::uint64_t v;
    std::memcpy(&v, vm.mem() + kCounter, 8);
    return v;
}

// RAM without the page tables (the CPU sets accessed/dirty bits there).
std::vector<std::uint8_t> ram_image(Vm& vm) {
    std::vector<std::uint8_t> img(vm.mem(), vm.mem() + kRamSize);
    std::memset(img.data() + kTables, 0, x86::identity_page_tables_size(kRamSize));
    return img;
}

void run_seed(unsigned seed) {
    std::mt19937 rng(seed);
    auto vm = make_vm();
    CU_ASSERT_FATAL(run_iterations(*vm, 1));  // the first stop: at the loop head, before iteration 1
    RamAccess mem(*vm);
    auto table = SwBreakpointTable::create(std::vector<std::uint8_t>{0xCC});
    CU_ASSERT_FATAL(table.ok());
    std::map<std::uint64_t, unsigned> inserted;
    unsigned total = 0;
    unsigned guest_overwrites_kept = 0;
    auto pick_addr = [&] { return rng() % 4 == 0 ? kDeadCode + rng() % 16 : kData + rng() % 0x100; };
    for (int op = 0; op < 60; ++op) {
        switch (rng() % 4) {
        case 0:
        case 1: {
            std::uint64_t a = pick_addr();
            CU_ASSERT_FATAL(table->insert(a, mem).ok());
            ++inserted[a];
            CU_ASSERT_EQUAL(vm->mem()[a], 0xCC);
            break;
        }
        case 2:
            if (!inserted.empty()) {
                auto it = std::next(inserted.begin(), static_cast<long>(rng() % inserted.size()));
                std::uint64_t a = it->first;
                std::uint8_t saved = (*table->saved_bytes(a))[0];
                std::uint8_t now = vm->mem()[a];
                CU_ASSERT_FATAL(table->remove(a, mem).ok());
                if (--it->second == 0) {
                    inserted.erase(it);
                    // The guest's byte wins over the saved one; else the saved one is back.
                    if (now != 0xCC) {
                        CU_ASSERT_EQUAL(vm->mem()[a], now);
                        ++guest_overwrites_kept;
                    } else {
                        CU_ASSERT_EQUAL(vm->mem()[a], saved);
                    }
                }
            }
            break;
        default: {
            unsigned n = 1 + rng() % 40;
            CU_ASSERT_FATAL(run_iterations(*vm, n));
            total += n;
            break;
        }
        }
        std::vector<std::uint8_t> view(0x110);
        CU_ASSERT_FATAL(mem.read(kDeadCode, std::span(view.data(), 16)).ok());
        table->shadow_read(kDeadCode, std::span(view.data(), 16));
        for (int k = 0; k < 16; ++k) {
            CU_ASSERT_EQUAL(view[k], 0x90);  // the debugger never sees its own int3
        }
    }
    CU_ASSERT(table->remove_all(mem).ok());
    CU_ASSERT_EQUAL(counter(*vm), total);

    auto ref = make_vm();
    CU_ASSERT_FATAL(run_iterations(*ref, 1 + total));
    auto got = ram_image(*vm);
    auto want = ram_image(*ref);
    for (std::size_t i = 0; i < kRamSize; ++i) {
        if (got[i] != want[i]) {
            std::printf("seed %u: RAM differs at 0x%zx: 0x%02x, undisturbed run 0x%02x\n", seed, i, got[i], want[i]);
            break;
        }
    }
    CU_ASSERT(got == want);
    std::printf("seed %u: %u iterations, %u guest writes over int3 kept; RAM equals the undisturbed run\n", seed, total,
                guest_overwrites_kept);
}

void test_random_sequences() {
    if (const char* s = std::getenv("KVMDBG_REL_SEED"); s != nullptr && *s != '\0') {
        run_seed(static_cast<unsigned>(std::strtoul(s, nullptr, 10)));
        return;
    }
    for (unsigned seed = 1; seed <= 6; ++seed) {
        run_seed(seed);
    }
}

const kvmdbg::test::TestCase kCases[] = {
    {"random int3 inserts/removes on RAM a running guest writes", test_random_sequences},
};

const kvmdbg::test::TestSuite kSuites[] = {{"sw_breakpoint_ram", kCases}};

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
