// Helpers shared by the KVM tests that drive in-tree guests through a
// GuestRunner: boot, symbol lookup, the next debug stop, guest memory.
// They assert with CUnit (fatal where the test cannot go on).
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "tests/kvm/guest_runner.h"
#include "tests/support/cunit_main.h"

namespace kvmdbg::test {

/// Boots `kernel` on `cpus` vCPUs with the accel-kvm `module`, all parked.
inline std::unique_ptr<GuestRunner> boot_guest(const std::string& module, const std::string& kernel,
                                               std::uint32_t cpus = 1) {
    auto r = GuestRunner::create(module, kernel, cpus);
    if (!r.ok()) {
        std::printf("boot %s: %s\n", kernel.c_str(), r.error().message.c_str());
    }
    CU_ASSERT_FATAL(r.ok());
    return std::move(r).value();
}

/// The address of `name` in `syms` (read_elf_symbols).
inline std::uint64_t symbol_address(const std::map<std::string, std::uint64_t>& syms, const char* name) {
    auto it = syms.find(name);
    if (it == syms.end()) {
        std::printf("symbol %s missing\n", name);
    }
    CU_ASSERT_FATAL(it != syms.end());
    return it->second;
}

/// The next event, which must be a debug stop.
inline KvmdbgEvent expect_debug_stop(GuestRunner& r) {
    auto e = r.next_event();
    CU_ASSERT_FATAL(e.has_value());
    CU_ASSERT_FATAL(e->kind == KVMDBG_EVENT_DEBUG);
    return *e;
}

/// A little-endian value of guest memory at virtual `addr` through vCPU 0.
template <typename T>
T read_guest(GuestRunner& r, std::uint64_t addr) {
    T v{};
    CU_ASSERT(r.accel().read_memory(0, addr, {reinterpret_cast<std::uint8_t*>(&v), sizeof v}, false).ok());
    return v;
}

}  // namespace kvmdbg::test
