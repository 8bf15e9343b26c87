// bp_table_bench: row 7 of the benchmark table (docs/performance.md) at the
// level where it is measurable on every host. On hosts whose KVM cannot
// intercept int3 (the PVM hosts of docs/hosts.md), gdb's software breakpoints are
// served by the 4 debug registers, so 10,000 of them cannot be inserted
// through the stub there; what scales with their number is the two tables
// every insert, remove and debug exit goes through:
//   - accel/kvm's SwBreakpointTable (saved bytes, int3 written into memory,
//     contains(pc) on every KVM_EXIT_DEBUG), and
//   - the session's BreakpointTable (conditions looked up on every stop at
//     a breakpoint).
// Both are the production classes; guest memory is a 64 MiB buffer.
//
//   bp_table_bench [N]     (default 10000)
//
// Prints: count, insert_remove_us (per breakpoint: both tables, insert and
// remove, memory writes included), raw_write_us (per breakpoint: save one
// byte, write 0xcc, restore it: the floor), lookup_1_us and lookup_n_us
// (the per-exit lookups with 1 and with N breakpoints inserted).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "accel/kvm/sw_breakpoint_table.h"
#include "gdbstub-glue/breakpoint_table.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace kk = kvmdbg::accel::kvm;
namespace gdb = kvmdbg::gdb;

class BufferMemory final : public kk::MemoryAccess {
public:
    explicit BufferMemory(std::size_t size) : bytes_(size, 0x90) {}
    kvmdbg::Status read(std::uint64_t addr, std::span<std::uint8_t> out) override {
        if (addr + out.size() > bytes_.size()) return kvmdbg::make_error(EFAULT, "outside");
        std::memcpy(out.data(), bytes_.data() + addr, out.size());
        return kvmdbg::ok_status();
    }
    kvmdbg::Status write(std::uint64_t addr, std::span<const std::uint8_t> in) override {
        if (addr + in.size() > bytes_.size()) return kvmdbg::make_error(EFAULT, "outside");
        std::memcpy(bytes_.data() + addr, in.data(), in.size());
        return kvmdbg::ok_status();
    }
    std::vector<std::uint8_t>& bytes() { return bytes_; }

private:
    std::vector<std::uint8_t> bytes_;
};

double us(Clock::time_point t0, std::uint64_t n) {
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / static_cast<double>(n);
}

// Addresses spread over 64 MiB like code addresses (odd strides, not aligned).
std::uint64_t address(std::uint64_t i) { return 0x100000 + (i * 4099) % (60u << 20); }

// The per-exit lookups at `hit` with the tables as they are.
double lookup_us(const kk::SwBreakpointTable& sw, const gdb::BreakpointTable& session, std::uint64_t hit) {
    constexpr std::uint64_t kRounds = 2'000'000;
    std::uint64_t found = 0;
    auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < kRounds; ++i) {
        std::uint64_t pc = hit + (i & 1);  // a hit, then a miss: both paths
        found += sw.contains(pc);
        found += session.at(gdb::BreakpointType::software, pc).size();
    }
    double r = us(t0, kRounds);
    if (found != kRounds) {
        std::fprintf(stderr, "bp_table_bench: %llu lookups found, expected %llu\n",
                     static_cast<unsigned long long>(found), static_cast<unsigned long long>(kRounds));
        std::exit(1);
    }
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    const std::uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 0) : 10000;
    if (n == 0) return 2;
    BufferMemory mem(64u << 20);
    const std::uint8_t int3[] = {0xcc};
    auto sw = std::move(kk::SwBreakpointTable::create(int3)).value();
    gdb::BreakpointTable session;

    // One breakpoint: the lookup cost a hit pays with a table of 1.
    const std::uint64_t hit = address(0);
    if (!sw.insert(hit, mem)) return 1;
    session.set({gdb::BreakpointType::software, hit, 1}, {});
    double lookup_1 = lookup_us(sw, session, hit);

    // N breakpoints: inserted, looked up, removed.
    auto t0 = Clock::now();
    for (std::uint64_t i = 1; i < n; ++i) {
        if (auto s = sw.insert(address(i), mem); !s) {
            std::fprintf(stderr, "bp_table_bench: insert %llu: %s\n", static_cast<unsigned long long>(i),
                         s.error().message.c_str());
            return 1;
        }
        session.set({gdb::BreakpointType::software, address(i), 1}, {});
    }
    double insert = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
    double lookup_n = lookup_us(sw, session, hit);
    if (sw.size() != n || session.size() != n) return 1;
    t0 = Clock::now();
    for (std::uint64_t i = n; i-- > 0;) {
        if (!sw.remove(address(i), mem)) return 1;
        session.erase({gdb::BreakpointType::software, address(i), 1});
    }
    double remove = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
    for (std::uint64_t i = 0; i < n; ++i) {
        if (mem.bytes()[address(i)] != 0x90) {
            std::fprintf(stderr, "bp_table_bench: byte at 0x%llx not restored\n",
                         static_cast<unsigned long long>(address(i)));
            return 1;
        }
    }

    // The floor: save, write and restore one byte per breakpoint.
    std::vector<std::uint8_t> saved(n);
    t0 = Clock::now();
    for (std::uint64_t i = 0; i < n; ++i) {
        std::uint8_t b;
        (void)mem.read(address(i), {&b, 1});
        saved[i] = b;
        (void)mem.write(address(i), int3);
    }
    for (std::uint64_t i = 0; i < n; ++i)
        (void)mem.write(address(i), {&saved[i], 1});
    double raw = us(t0, n);

    std::printf("count %llu\n", static_cast<unsigned long long>(n));
    std::printf("insert_remove_us %.4f\n", (insert + remove) / static_cast<double>(n));
    std::printf("raw_write_us %.4f\n", raw);
    std::printf("lookup_1_us %.5f\n", lookup_1);
    std::printf("lookup_n_us %.5f\n", lookup_n);
    return 0;
}
