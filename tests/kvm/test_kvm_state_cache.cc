// KvmVm's per-vCPU state cache (accel/kvm/kvm_vm.h, "The state cache") on
// the real /dev/kvm, with KvmVm linked in directly so that the test can
// count the state reads that reached KVM (KvmVm::state_loads): a cached
// read makes no vCPU round trip; resume, start and set_state drop the copy;
// a running vCPU is never served from it; remember_state() is honoured
// only for a parked vCPU; a pause that names a vCPU leaves its state in
// the cache, and a resume right after it leaves nothing stale there; and a
// stress run checks that what the cache serves after a
// pause is what KVM holds. Skips (77) without /dev/kvm.
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "accel/kvm/kvm_vm.h"
#include "accel/plugin_abi_x86.h"
#include "common/mapped_region.h"
#include "tests/kvm/real_mode_vm.h"
#include "tests/support/cunit_main.h"
#include "tests/support/kvm_available.h"
#include "tests/support/wait_for.h"

namespace {

using kvmdbg::accel::kvm::KvmVm;

constexpr std::uint64_t kCodeAddr = kvmdbg::test::RealModeVm::kCodeAddr;

struct Host {
    std::atomic<int> halts{0};
};

void host_event(void* opaque, const KvmdbgEvent* e) {
    if (e->kind == KVMDBG_EVENT_HALTED) {
        ++static_cast<Host*>(opaque)->halts;
    }
}

struct Vm : kvmdbg::test::RealModeVm {
    Host host;

    KvmdbgX86State state() {
        KvmdbgX86State s{};
        CU_ASSERT_FATAL(vm->get_state(0, &s, sizeof s).ok());
        return s;
    }
    std::uint64_t loads() const { return vm->state_loads(0); }
};

using kvmdbg::test::wait_for;

// Real-mode code at 0x1000 (RealModeVm: HLT parks the vCPU with a HALTED event).
std::unique_ptr<Vm> make_vm(const std::vector<std::uint8_t>& code) {
    auto t = std::make_unique<Vm>();
    t->boot(code, Vm::callbacks_with_events(&t->host, host_event));
    return t;
}

void test_cached_read_makes_no_round_trip() {
    auto t = make_vm({0xf4});  // hlt
    std::uint64_t before = t->loads();
    KvmdbgX86State a = t->state();  // parked: read from KVM, then cached
    CU_ASSERT_EQUAL(t->loads(), before + 1);
    for (int i = 0; i < 100; ++i) {
        KvmdbgX86State b = t->state();
        CU_ASSERT_EQUAL(std::memcmp(&a, &b, sizeof a), 0);
    }
    CU_ASSERT_EQUAL(t->loads(), before + 1);  // 100 reads, no vCPU job
    t->vm->forget_state(0);
    t->state();
    CU_ASSERT_EQUAL(t->loads(), before + 2);
}

void test_set_state_is_read_back() {
    auto t = make_vm({0xf4});
    KvmdbgX86State s = t->state();  // cached
    for (unsigned i = 0; i < 16; ++i) {
        s.gpr[i] = 0x1111111111111111ull * (i + 1);
    }
    s.rip = 0x1234;
    std::uint64_t before = t->loads();
    CU_ASSERT_FATAL(t->vm->set_state(0, &s, sizeof s).ok());
    KvmdbgX86State back = t->state();  // the cache was dropped: from KVM
    CU_ASSERT_EQUAL(t->loads(), before + 1);
    for (unsigned i = 0; i < 16; ++i) {
        CU_ASSERT_EQUAL(back.gpr[i], s.gpr[i]);
    }
    CU_ASSERT_EQUAL(back.rip, 0x1234u);
    t->state();
    CU_ASSERT_EQUAL(t->loads(), before + 1);  // and cached again
}

void test_resume_drops_the_cache() {
    // mov ax, 0x1234; hlt
    auto t = make_vm({0xb8, 0x34, 0x12, 0xf4});
    CU_ASSERT_FATAL(t->vm->start(true).ok());
    KvmdbgX86State s = t->state();
    CU_ASSERT_EQUAL(s.gpr[0] & 0xffff, 0u);
    CU_ASSERT_EQUAL(s.rip, kCodeAddr);
    CU_ASSERT_FATAL(t->vm->resume(0, false).ok());
    CU_ASSERT_FATAL(wait_for([&] { return t->host.halts.load() == 1; }));
    CU_ASSERT_FATAL(t->vm->pause_all().ok());
    std::uint64_t before = t->loads();
    s = t->state();
    CU_ASSERT_EQUAL(t->loads(), before + 1);
    CU_ASSERT_EQUAL(s.gpr[0] & 0xffff, 0x1234u);  // not the cached 0
    CU_ASSERT_EQUAL(s.rip, kCodeAddr + 4);        // after the hlt
}

void test_start_drops_the_cache() {
    auto t = make_vm({0xb8, 0x34, 0x12, 0xf4});
    t->state();  // cached while parked before the start
    CU_ASSERT_FATAL(t->vm->start(false).ok());
    CU_ASSERT_FATAL(wait_for([&] { return t->host.halts.load() == 1; }));
    CU_ASSERT_FATAL(t->vm->pause_all().ok());
    CU_ASSERT_EQUAL(t->state().gpr[0] & 0xffff, 0x1234u);
}

void test_running_vcpu_is_never_served_from_the_cache() {
    // inc eax; jmp back: runs until paused.
    auto t = make_vm({0x66, 0x40, 0xeb, 0xfc});
    CU_ASSERT_FATAL(t->vm->start(true).ok());
    t->state();  // cached while parked
    CU_ASSERT_FATAL(t->vm->resume(0, false).ok());
    // Reads in a row can keep a vCPU from ever entering the guest (each
    // one's kick makes the next KVM_RUN return at once): let it run first.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::uint64_t before = t->loads();
    std::uint64_t last = 0;
    for (int i = 0; i < 5; ++i) {
        last = t->state().gpr[0];
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    CU_ASSERT_NOT_EQUAL(last, 0u);            // it ran
    CU_ASSERT_EQUAL(t->loads(), before + 5);  // every read went to the vCPU
    CU_ASSERT_FATAL(t->vm->pause_all().ok());
    KvmdbgX86State a = t->state();
    KvmdbgX86State b = t->state();
    CU_ASSERT_EQUAL(t->loads(), before + 6);  // parked again: cached
    CU_ASSERT_EQUAL(a.gpr[0], b.gpr[0]);
    CU_ASSERT_TRUE(a.gpr[0] >= last);  // not a copy from before it ran
}

void test_remember_state_only_while_parked() {
    auto t = make_vm({0x66, 0x40, 0xeb, 0xfc});
    CU_ASSERT_FATAL(t->vm->start(true).ok());
    KvmdbgX86State s = t->state();
    s.gpr[3] = 0xfeedface;  // not what KVM holds: tells where a read came from
    t->vm->remember_state(0, &s);
    std::uint64_t before = t->loads();
    CU_ASSERT_EQUAL(t->state().gpr[3], 0xfeedfaceu);
    CU_ASSERT_EQUAL(t->loads(), before);
    // Running: ignored, and not served after the next pause either.
    CU_ASSERT_FATAL(t->vm->resume(0, false).ok());
    s.gpr[3] = 0xdeadbeef;
    t->vm->remember_state(0, &s);
    CU_ASSERT_FATAL(t->vm->pause_all().ok());
    KvmdbgX86State real = t->state();
    CU_ASSERT_EQUAL(t->loads(), before + 1);
    CU_ASSERT_NOT_EQUAL(real.gpr[3], 0xdeadbeefu);
    CU_ASSERT_NOT_EQUAL(real.gpr[3], 0xfeedfaceu);
}

void test_cache_matches_kvm_under_concurrent_reads() {
    // inc eax; jmp back. A second thread reads the state all the time (as
    // the vCPU runs, pauses and resumes); after every pause the state the
    // cache serves must be the one KVM holds (read again after forget).
    auto t = make_vm({0x66, 0x40, 0xeb, 0xfc});
    CU_ASSERT_FATAL(t->vm->start(true).ok());
    std::atomic<bool> stop{false};
    std::thread reader([&] {
        KvmdbgX86State s{};
        while (!stop.load()) {
            (void)t->vm->get_state(0, &s, sizeof s);
        }
    });
    int mismatches = 0;
    for (int round = 0; round < 200; ++round) {
        CU_ASSERT_FATAL(t->vm->resume(0, false).ok());
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        CU_ASSERT_FATAL(t->vm->pause_all().ok());
        KvmdbgX86State served = t->state();
        t->vm->forget_state(0);
        KvmdbgX86State real = t->state();
        if (served.gpr[0] != real.gpr[0] || served.rip != real.rip) {
            ++mismatches;
        }
    }
    stop = true;
    reader.join();
    CU_ASSERT_EQUAL(mismatches, 0);
}

void test_pause_keeping_state_serves_the_next_read() {
    // inc eax; jmp back. A pause that names the vCPU leaves its state in
    // the cache as it parks (a stop reply's registers after a Ctrl-C): the
    // read that follows makes no round trip, and is what KVM holds; a
    // plain pause does not.
    auto t = make_vm({0x66, 0x40, 0xeb, 0xfc});
    CU_ASSERT_FATAL(t->vm->start(true).ok());
    for (int round = 0; round < 20; ++round) {
        CU_ASSERT_FATAL(t->vm->resume(0, false).ok());
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        CU_ASSERT_FATAL(t->vm->pause_all(0).ok());
        std::uint64_t before = t->loads();
        KvmdbgX86State served = t->state();
        CU_ASSERT_EQUAL(t->loads(), before);
        t->vm->forget_state(0);
        KvmdbgX86State real = t->state();
        CU_ASSERT_EQUAL(served.gpr[0], real.gpr[0]);
        CU_ASSERT_EQUAL(served.rip, real.rip);
    }
    CU_ASSERT_NOT_EQUAL(t->state().gpr[0], 0u);  // it ran
    CU_ASSERT_FATAL(t->vm->resume(0, false).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    CU_ASSERT_FATAL(t->vm->pause_all().ok());
    std::uint64_t before = t->loads();
    t->state();
    CU_ASSERT_EQUAL(t->loads(), before + 1);
    CU_ASSERT_EQUAL(t->vm->pause_all(7).error().code, EINVAL);  // one vCPU only
}

void test_resume_right_after_a_pause_keeping_state() {
    // The vCPU reads its state after it parked (the all-stop goes on at
    // once). A resume that follows at once races with that read, and no
    // store of it may land after the vCPU ran on: after the next plain
    // pause the cache holds nothing from the earlier one, and what is
    // served is what KVM holds.
    auto t = make_vm({0x66, 0x40, 0xeb, 0xfc});
    CU_ASSERT_FATAL(t->vm->start(true).ok());
    for (int round = 0; round < 30; ++round) {
        CU_ASSERT_FATAL(t->vm->resume(0, false).ok());
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        CU_ASSERT_FATAL(t->vm->pause_all(0).ok());
        CU_ASSERT_FATAL(t->vm->resume(0, false).ok());  // races with the read
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        CU_ASSERT_FATAL(t->vm->pause_all().ok());
        std::uint64_t before = t->loads();
        KvmdbgX86State served = t->state();
        CU_ASSERT_EQUAL(t->loads(), before + 1);  // read from KVM: nothing stale kept
        t->vm->forget_state(0);
        KvmdbgX86State real = t->state();
        CU_ASSERT_EQUAL(served.gpr[0], real.gpr[0]);
    }
}

const kvmdbg::test::TestCase kCases[] = {
    {"cached read makes no round trip", test_cached_read_makes_no_round_trip},
    {"set_state is read back", test_set_state_is_read_back},
    {"resume drops the cache", test_resume_drops_the_cache},
    {"start drops the cache", test_start_drops_the_cache},
    {"running vCPU never served from the cache", test_running_vcpu_is_never_served_from_the_cache},
    {"remember_state only while parked", test_remember_state_only_while_parked},
    {"cache matches KVM under concurrent reads", test_cache_matches_kvm_under_concurrent_reads},
    {"pause keeping state serves the next read", test_pause_keeping_state_serves_the_next_read},
    {"resume right after a pause keeping state", test_resume_right_after_a_pause_keeping_state},
};
const kvmdbg::test::TestSuite kSuites[] = {{"kvm state cache", kCases}};

}  // namespace

int main() {
    if (int skip = kvmdbg::test::skip_without_kvm(); skip != 0) {
        return skip;
    }
    return kvmdbg::test::run_suites(kSuites);
}
