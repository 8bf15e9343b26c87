// raw_kvm_loop: the raw-KVM baselines of the benchmark table
// (docs/performance.md). A plain loop around KVM_RUN on the same guest the
// stub benchmarks use (bench_target.elf64), with nothing but the ioctls a
// minimal debugger needs: no threads (except for stop-all), no queues, no
// protocol. kvmdbg's own loaders put the guest in RAM (hw-models), so the
// guest state is exactly the one kvmdbg boots.
//
//   raw_kvm_loop --guest ELF --hit ADDR --mode ADDR [--count N]
//   raw_kvm_loop --guest ELF --mode ADDR --only pio [--count N]
//   raw_kvm_loop --guest ELF --smp N [--count N]
//
// Prints one `name value` line per figure (µs per operation, MiB/s):
//   step_us        KVM_RUN with KVM_GUESTDBG_SINGLESTEP, one exit per insn
//   debug_exit_us  KVM_RUN from the step-over to the next DR0 hit (one
//                  KVM_EXIT_DEBUG, the guest runs one loop iteration)
//   hit_cycle_us   one hit and continue: the debug exit, KVM_SET_GUEST_DEBUG
//                  without the slot + a single step over it, re-arm
//   pio_us         one KVM_EXIT_IO (`out` to port 0x80, bench_mode = 1);
//                  alone with --only pio (no breakpoint: the device-access
//                  rows, also on hosts where hardware breakpoints never fire)
//   getregs_us     KVM_GET_REGS + KVM_GET_SREGS + KVM_GET_FPU (a `g`'s data)
//   memread_mibs   64 MiB copied out of guest RAM through the host mapping
//   stopall_us     with --smp N: N vCPU threads in KVM_RUN; kick them all
//                  (SIGUSR1 + immediate_exit) and wait until all returned
//                  (also stopall_median_us, stopall_p90_us, stopall_max_us)
//
// Exit 77 (SKIP) without a usable /dev/kvm; 1 on any other failure.
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "accel/kvm/kvm_flex_structs.h"
#include "arch/x86/regs_kvm.h"
#include "bench/latency_summary.h"
#include "common/log.h"
#include "hw-models/guest_ram.h"
#include "hw-models/loaders/x86_kernel_loader.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace kk = kvmdbg::accel::kvm;

constexpr std::uint64_t kRamBytes = 128ull << 20;
constexpr std::uint64_t kTssAddr = 0xfffbd000;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "raw_kvm_loop: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(1);
}

double us_since(Clock::time_point t0, std::uint64_t n) {
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / static_cast<double>(n);
}

struct Vcpu {
    int fd = -1;
    kvm_run* run = nullptr;
};

class RawVm {
public:
    RawVm(const std::string& guest, unsigned ncpus) {
        kvm_ = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (kvm_ < 0) {
            std::printf("SKIP: /dev/kvm is not usable: %s\n", std::strerror(errno));
            std::exit(77);
        }
        vm_ = ioctl(kvm_, KVM_CREATE_VM, 0);
        if (vm_ < 0) die("KVM_CREATE_VM");
        (void)ioctl(vm_, KVM_SET_TSS_ADDR, kTssAddr);
        if (auto s = ram_.add_region(0, kRamBytes); !s) die("RAM: " + s.error().message);
        kvmdbg::hw::X86KernelOptions opts;
        opts.kernel_path = guest;
        auto plan = kvmdbg::hw::load_x86_kernel(opts, ram_, log_);
        if (!plan) {
            std::fprintf(stderr, "raw_kvm_loop: %s\n", plan.error().message.c_str());
            std::exit(1);
        }
        const auto& region = ram_.regions().front();
        kvm_userspace_memory_region mr{};
        mr.slot = 0;
        mr.guest_phys_addr = region.gpa;
        mr.memory_size = region.memory.size();
        mr.userspace_addr = reinterpret_cast<std::uintptr_t>(region.memory.data());
        if (ioctl(vm_, KVM_SET_USER_MEMORY_REGION, &mr) < 0) die("KVM_SET_USER_MEMORY_REGION");
        long run_size = ioctl(kvm_, KVM_GET_VCPU_MMAP_SIZE, 0);
        std::vector<std::uint8_t> cpuid(sizeof(kk::KvmCpuid2Header) + 256 * sizeof(kvm_cpuid_entry2));
        reinterpret_cast<kk::KvmCpuid2Header*>(cpuid.data())->nent = 256;
        if (ioctl(kvm_, kk::kKvmGetSupportedCpuid, cpuid.data()) < 0) die("KVM_GET_SUPPORTED_CPUID");
        for (unsigned i = 0; i < ncpus; ++i) {
            Vcpu v;
            v.fd = ioctl(vm_, KVM_CREATE_VCPU, i);
            if (v.fd < 0) die("KVM_CREATE_VCPU");
            void* p = mmap(nullptr, static_cast<std::size_t>(run_size), PROT_READ | PROT_WRITE, MAP_SHARED, v.fd, 0);
            if (p == MAP_FAILED) die("mmap kvm_run");
            v.run = static_cast<kvm_run*>(p);
            if (ioctl(v.fd, kk::kKvmSetCpuid2, cpuid.data()) < 0) die("KVM_SET_CPUID2");
            kvmdbg::arch::x86::KvmX86Regs k;
            if (ioctl(v.fd, KVM_GET_SREGS, &k.sregs) < 0) die("KVM_GET_SREGS");
            kvmdbg::arch::x86::to_kvm(plan->vcpu_state(i, ncpus), k);
            if (ioctl(v.fd, KVM_SET_SREGS, &k.sregs) < 0) die("KVM_SET_SREGS");
            if (ioctl(v.fd, KVM_SET_REGS, &k.regs) < 0) die("KVM_SET_REGS");
            if (ioctl(v.fd, KVM_SET_FPU, &k.fpu) < 0) die("KVM_SET_FPU");
            vcpus_.push_back(v);
        }
    }

    Vcpu& vcpu(unsigned i) { return vcpus_[i]; }
    unsigned count() const { return static_cast<unsigned>(vcpus_.size()); }
    kvmdbg::hw::GuestRam& ram() { return ram_; }

    void set_debug(unsigned cpu, std::uint32_t control, std::uint64_t dr0 = 0) {
        kvm_guest_debug dbg{};
        dbg.control = control;
        if (control & KVM_GUESTDBG_USE_HW_BP) {
            dbg.arch.debugreg[0] = dr0;
            dbg.arch.debugreg[7] = 0x1;  // L0, execute, len 1
        }
        if (ioctl(vcpus_[cpu].fd, KVM_SET_GUEST_DEBUG, &dbg) < 0) die("KVM_SET_GUEST_DEBUG");
    }

    // KVM_RUN until an exit that is not port I/O to the UART; returns it.
    std::uint32_t run(unsigned cpu) {
        Vcpu& v = vcpus_[cpu];
        for (;;) {
            if (ioctl(v.fd, KVM_RUN, 0) < 0) {
                if (errno == EINTR || errno == EAGAIN) return KVM_EXIT_INTR;
                die("KVM_RUN");
            }
            if (v.run->exit_reason == KVM_EXIT_IO && v.run->io.port != 0x80) {
                // COM1 and friends: reads see an idle, empty UART.
                auto* data = reinterpret_cast<std::uint8_t*>(v.run) + v.run->io.data_offset;
                if (v.run->io.direction == KVM_EXIT_IO_IN) {
                    std::memset(data, v.run->io.port == 0x3fd ? 0x60 : 0, v.run->io.size * v.run->io.count);
                }
                continue;
            }
            return v.run->exit_reason;
        }
    }

private:
    int kvm_ = -1;
    int vm_ = -1;
    kvmdbg::Log log_;
    kvmdbg::hw::GuestRam ram_;
    std::vector<Vcpu> vcpus_;
};

void expect(std::uint32_t got, std::uint32_t want, const char* what) {
    if (got != want) {
        std::fprintf(stderr, "raw_kvm_loop: %s: exit %u, expected %u\n", what, got, want);
        std::exit(1);
    }
}

void on_kick(int) {}

// Kicks every vCPU thread out of KVM_RUN (immediate_exit covers a thread
// about to enter it).
void kick_all(RawVm& vm, const std::vector<pthread_t>& handles) {
    for (unsigned i = 0; i < handles.size(); ++i) {
        __atomic_store_n(&vm.vcpu(i).run->immediate_exit, 1, __ATOMIC_SEQ_CST);
        pthread_kill(handles[i], SIGUSR1);
    }
}

// Stop-all: N threads in KVM_RUN, kicked at once, joined on return.
int measure_stop_all(const std::string& guest, unsigned smp, std::uint64_t count) {
    struct sigaction sa {};
    sa.sa_handler = on_kick;
    sigaction(SIGUSR1, &sa, nullptr);
    RawVm vm(guest, smp);
    std::atomic<unsigned> out{0};
    std::atomic<unsigned> generation{0};
    std::atomic<bool> quit{false};
    std::vector<pthread_t> handles(smp);
    std::vector<std::thread> threads;
    std::atomic<unsigned> ready{0};
    std::atomic<unsigned> armed{0};
    for (unsigned i = 0; i < smp; ++i) {
        threads.emplace_back([&, i] {
            handles[i] = pthread_self();
            ready++;
            unsigned seen = 0;
            while (!quit) {
                // Cleared before saying "armed": a kick after that point
                // sets it again, so KVM_RUN cannot miss it.
                __atomic_store_n(&vm.vcpu(i).run->immediate_exit, 0, __ATOMIC_SEQ_CST);
                armed++;
                (void)vm.run(i);  // returns on the kick (EINTR)
                out++;
                out.notify_all();
                generation.wait(seen);  // no spinning: the machine has few cores
                seen = generation;
            }
        });
    }
    while (ready < smp)
        std::this_thread::yield();
    std::uint64_t rounds = count < 2000 ? count : 2000;
    std::vector<double> each;
    for (std::uint64_t r = 0; r < rounds; ++r) {
        while (armed < smp)
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        std::this_thread::sleep_for(std::chrono::microseconds(500));  // let them enter the guest
        auto t0 = Clock::now();
        kick_all(vm, handles);
        for (unsigned o = out; o < smp; o = out) {
            out.wait(o);
        }
        each.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        out = 0;
        armed = 0;
        generation++;
        generation.notify_all();
    }
    quit = true;
    generation++;
    generation.notify_all();
    kick_all(vm, handles);
    for (auto& t : threads)
        t.join();
    kvmdbg::bench::print_latency_summary("stopall", each);
    return 0;
}

// Single-step: the first steps are the start-up code, then the loop.
void measure_step(RawVm& vm, std::uint64_t count) {
    vm.set_debug(0, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP);
    for (int i = 0; i < 200; ++i)
        expect(vm.run(0), KVM_EXIT_DEBUG, "step warm-up");
    auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < count; ++i)
        expect(vm.run(0), KVM_EXIT_DEBUG, "step");
    std::printf("step_us %.3f\n", us_since(t0, count));
}

// Hardware breakpoint hits, each followed by a step over it (the
// breakpoint is fault-like: resuming on it would hit it again). False if
// a hit stopped elsewhere.
bool measure_hw_bp(RawVm& vm, std::uint64_t hit, std::uint64_t count) {
    std::uint64_t hits = count / 2;
    double exit_total = 0;
    vm.set_debug(0, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP, hit);
    expect(vm.run(0), KVM_EXIT_DEBUG, "first hit");
    auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < hits; ++i) {
        vm.set_debug(0, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP);
        expect(vm.run(0), KVM_EXIT_DEBUG, "step over");
        vm.set_debug(0, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP, hit);
        auto e0 = Clock::now();
        expect(vm.run(0), KVM_EXIT_DEBUG, "hit");
        exit_total += std::chrono::duration<double, std::micro>(Clock::now() - e0).count();
        if (vm.vcpu(0).run->debug.arch.pc != hit) {
            std::fprintf(stderr, "raw_kvm_loop: hit at 0x%llx, not the breakpoint\n",
                         static_cast<unsigned long long>(vm.vcpu(0).run->debug.arch.pc));
            return false;
        }
    }
    std::printf("hit_cycle_us %.3f\n", us_since(t0, hits));
    std::printf("debug_exit_us %.3f\n", exit_total / static_cast<double>(hits));
    return true;
}

// Register reads: what a `g` reply is built from.
void measure_get_regs(RawVm& vm, std::uint64_t count) {
    auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < count; ++i) {
        kvmdbg::arch::x86::KvmX86Regs k;
        if (ioctl(vm.vcpu(0).fd, KVM_GET_REGS, &k.regs) < 0) die("KVM_GET_REGS");
        if (ioctl(vm.vcpu(0).fd, KVM_GET_SREGS, &k.sregs) < 0) die("KVM_GET_SREGS");
        if (ioctl(vm.vcpu(0).fd, KVM_GET_FPU, &k.fpu) < 0) die("KVM_GET_FPU");
    }
    std::printf("getregs_us %.3f\n", us_since(t0, count));
}

// PIO exits: the guest's loop does one `out` per iteration once bench_mode
// (at mode_ptr) is 1.
void measure_pio(RawVm& vm, std::uint8_t* mode_ptr, std::uint64_t count) {
    vm.set_debug(0, 0);
    std::uint32_t one = 1;
    std::memcpy(mode_ptr, &one, sizeof one);
    for (int i = 0; i < 100; ++i)
        expect(vm.run(0), KVM_EXIT_IO, "pio warm-up");
    auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < count; ++i)
        expect(vm.run(0), KVM_EXIT_IO, "pio");
    std::printf("pio_us %.3f\n", us_since(t0, count));
}

// 64 MiB out of guest RAM in 64 KiB pieces (the stub's largest m/x read).
// Returns a sum of bytes read, so that the copies are not optimised away.
std::uint64_t measure_memread(RawVm& vm) {
    std::vector<std::uint8_t> buf(64 * 1024);
    std::uint64_t sum = 0;
    auto t0 = Clock::now();
    for (std::uint64_t off = 0; off < (64ull << 20); off += buf.size()) {
        if (auto s = vm.ram().read(off, buf); !s) die("RAM read");
        sum += buf[off % buf.size()];
    }
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("memread_mibs %.1f\n", 64.0 / secs);
    return sum;
}

}  // namespace

int main(int argc, char** argv) {
    std::string guest;
    std::uint64_t hit = 0, mode = 0;
    std::uint64_t count = 20000;
    unsigned smp = 0;
    std::string only;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--guest")
            guest = argv[i + 1];
        else if (a == "--hit")
            hit = std::strtoull(argv[i + 1], nullptr, 0);
        else if (a == "--mode")
            mode = std::strtoull(argv[i + 1], nullptr, 0);
        else if (a == "--count")
            count = std::strtoull(argv[i + 1], nullptr, 0);
        else if (a == "--smp")
            smp = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 0));
        else if (a == "--only")
            only = argv[i + 1];
    }
    const bool pio_only = only == "pio";
    if (guest.empty() || (!only.empty() && !pio_only) || (smp == 0 && (mode == 0 || (hit == 0 && !pio_only)))) {
        std::fprintf(stderr,
                     "usage: raw_kvm_loop --guest ELF --hit ADDR --mode ADDR [--count N]\n"
                     "       raw_kvm_loop --guest ELF --mode ADDR --only pio [--count N]\n"
                     "       raw_kvm_loop --guest ELF --smp N [--count N]\n");
        return 2;
    }
    if (smp != 0) {
        return measure_stop_all(guest, smp, count);
    }

    RawVm vm(guest, 1);
    std::uint8_t* mode_ptr = vm.ram().host_ptr(mode, 4);
    if (mode_ptr == nullptr) {
        std::fprintf(stderr, "raw_kvm_loop: bench_mode at 0x%llx is outside RAM\n",
                     static_cast<unsigned long long>(mode));
        return 1;
    }
    if (pio_only) {
        measure_pio(vm, mode_ptr, count);
        return 0;
    }
    measure_step(vm, count);
    if (!measure_hw_bp(vm, hit, count)) {
        return 1;
    }
    measure_get_regs(vm, count);
    measure_pio(vm, mode_ptr, count);
    std::uint64_t sum = measure_memread(vm);
    return sum == 0xffffffffffffffffull ? 1 : 0;  // keeps the copies
}
