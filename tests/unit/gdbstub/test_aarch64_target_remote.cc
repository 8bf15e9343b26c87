// The AArch64 description and register converter through the real session
// and the real gdb-multiarch: this program, run with --stub, is a GDB stub
// on stdin/stdout (GdbSession over a one-vCPU DebugTarget that keeps a
// KvmdbgArm64State and converts with arch/arm64/gdb_registers.h). Run
// without arguments it starts `gdb-multiarch -batch -nx` with
// `target remote | <itself> --stub` and checks what gdb prints: the
// architecture and registers it learnt from qXfer:features:read of
// target.xml and its three xi:included annexes, values decoded from our g
// packet (x29, sp = SP_EL1 in EL1h, cpsr flags, v1 lanes, sctlr_el1,
// sp_el0), and registers written with P read back after a cache flush.
// Exits 77 (SKIP) without gdb-multiarch.
#include <glib.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "arch/arm64/gdb_registers.h"
#include "gdbstub-glue/aarch64_target.h"
#include "gdbstub-glue/condition_evaluator.h"
#include "gdbstub-glue/debug_target.h"
#include "gdbstub-glue/gdb_session.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::gdb;
namespace arm64 = kvmdbg::arch::arm64;

constexpr std::uint64_t kPc = 0xffff800010080000ull;

class Arm64StateTarget final : public DebugTarget {
public:
    Arm64StateTarget() : description_(aarch64_target_description()) {
        std::memset(&state_, 0, sizeof state_);
        for (unsigned i = 0; i < 31; ++i) {
            state_.x[i] = 0x1000 + i;
        }
        state_.x[29] = 0xffff8000fffe0000ull;
        state_.sp_el0 = 0x0000ffffcafe0000ull;
        state_.sp_el1 = 0xffff8000deadb000ull;
        state_.pc = kPc;
        state_.pstate = 0x600003c5;  // Z C, DAIF masked, EL1h
        for (unsigned b = 0; b < 16; ++b) {
            state_.v[1][b] = static_cast<std::uint8_t>(0x10 + b);
        }
        state_.fpcr = 0x03c00000;
        state_.sctlr_el1 = 0x30d0199d;
        state_.vbar_el1 = 0xffff800010010800ull;
        state_.mdscr_el1 = 0x8000;
    }

    unsigned thread_count() const override { return 1; }
    const TargetDescription& description() const override { return description_; }
    std::vector<MemoryRegion> memory_map() const override { return {}; }
    Result<std::vector<std::uint8_t>> read_registers(ThreadId) override {
        return arm64::gdb_registers_from_state(state_);
    }
    Status write_registers(ThreadId, std::span<const std::uint8_t> data) override {
        return arm64::gdb_registers_to_state(data, state_);
    }
    Result<std::vector<std::uint8_t>> read_register(ThreadId, unsigned regnum) override {
        return arm64::gdb_register_read(state_, regnum);
    }
    Status write_register(ThreadId, unsigned regnum, std::span<const std::uint8_t> value) override {
        return arm64::gdb_register_write(state_, regnum, value);
    }
    Result<std::size_t> read_memory(ThreadId, std::uint64_t addr, std::span<std::uint8_t> out, AddressSpace) override {
        // 64 bytes of NOPs (d503201f) at the PC, nothing else.
        if (addr < kPc || addr - kPc >= 64) {
            return make_error(EFAULT, "no memory");
        }
        std::size_t n = 0;
        for (; n < out.size() && addr + n - kPc < 64; ++n) {
            static constexpr std::uint8_t kNop[4] = {0x1f, 0x20, 0x03, 0xd5};
            out[n] = kNop[(addr + n - kPc) % 4];
        }
        return n;
    }
    Status write_memory(ThreadId, std::uint64_t, std::span<const std::uint8_t>, AddressSpace) override {
        return make_error(EFAULT, "read-only");
    }
    Status insert_breakpoint(const Breakpoint&) override { return make_error(ENOTSUP, "no breakpoints"); }
    Status remove_breakpoint(const Breakpoint&) override { return ok_status(); }
    void remove_all_breakpoints() override {}
    std::uint32_t supported_step_flags() const override { return step_flags::kEnable; }
    Status resume(std::span<const ResumeRequest>, std::uint32_t) override {
        return make_error(ENOTSUP, "this stub never runs");
    }
    void stop_all(kvmdbg::gdb::ThreadId) override {}
    ThreadRunState thread_state(ThreadId) const override { return ThreadRunState::paused; }
    std::string monitor(std::string_view) override { return ""; }
    void detach() override {}
    void kill() override {}

private:
    KvmdbgArm64State state_;
    TargetDescription description_;
};

class NoConditions final : public ConditionEvaluator {
public:
    Result<bool> evaluate(std::span<const std::uint8_t>, AgentContext&) override { return true; }
};

bool write_all(int fd, const std::string& s) {
    std::size_t done = 0;
    while (done < s.size()) {
        ssize_t n = ::write(fd, s.data() + done, s.size() - done);
        if (n <= 0) {
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

int run_stub() {
    Arm64StateTarget target;
    NoConditions conditions;
    GdbSession session(target, conditions);
    session.on_connect();
    char buf[4096];
    while (!session.finished()) {
        if (!write_all(1, session.take_output())) {
            return 1;
        }
        ssize_t n = ::read(0, buf, sizeof buf);
        if (n <= 0) {
            return 0;  // gdb went away
        }
        session.receive(std::string_view(buf, static_cast<std::size_t>(n)));
    }
    write_all(1, session.take_output());
    return 0;
}

// gdb's `target remote | ...`: this binary again, as the stub.
std::string remote_command(const char* self) {
    // In a cross build meson runs this test through its exe_wrapper (e.g.
    // qemu-aarch64-static) and says so in MESON_EXE_WRAPPER; the stub gdb
    // starts is this same foreign binary, so it needs the wrapper too.
    const char* wrapper = g_getenv("MESON_EXE_WRAPPER");
    std::string remote = "target remote | ";
    if (wrapper != nullptr && wrapper[0] != '\0') {
        remote += std::string(wrapper) + " ";
    }
    remote += std::string(self) + " --stub";
    return remote;
}

// Runs gdb-multiarch's commands below against `remote`, collecting its
// stdout and stderr; false (with a message printed) when it cannot start.
bool run_gdb_script(char* gdb, const std::string& remote, std::string& text, std::string& errors) {
    const char* argv[] = {gdb,
                          "-batch",
                          "-nx",
                          "-ex",
                          "set confirm off",
                          "-ex",
                          remote.c_str(),
                          "-ex",
                          "show architecture",
                          "-ex",
                          "p/x $pc",
                          "-ex",
                          "p/x $x29",
                          "-ex",
                          "p/x $sp",
                          "-ex",
                          "p $cpsr",
                          "-ex",
                          "p/x $v1.d.u",
                          "-ex",
                          "p/x $sctlr_el1",
                          "-ex",
                          "p/x $sp_el0",
                          "-ex",
                          "p/x $fpcr",
                          "-ex",
                          "info registers system",
                          "-ex",
                          "set $x5 = 0x5555",
                          "-ex",
                          "set $sp = 0xffff800000004000",
                          "-ex",
                          "set $v2.d.u[1] = 0x0123456789abcdef",
                          "-ex",
                          "maint flush register-cache",
                          "-ex",
                          "p/x $x5",
                          "-ex",
                          "p/x $sp_el1",
                          "-ex",
                          "p/x $sp_el0",
                          "-ex",
                          "p/x $v2.q.u",
                          "-ex",
                          "detach",
                          nullptr};
    char* out = nullptr;
    char* err = nullptr;
    int status = 0;
    GError* error = nullptr;
    if (!g_spawn_sync(nullptr, const_cast<char**>(argv), nullptr, G_SPAWN_DEFAULT, nullptr, nullptr, &out, &err,
                      &status, &error)) {
        std::printf("gdb-multiarch: %s\n", error->message);
        g_error_free(error);
        return false;
    }
    text = out;
    errors = err;
    g_free(out);
    g_free(err);
    return true;
}

// What gdb must have printed, and nothing unexpected on its stderr.
int check_transcript(const std::string& text, std::string errors) {
    const char* expected[] = {
        "The target architecture is set to \"auto\" (currently \"aarch64\")",
        "$1 = 0xffff800010080000",
        "$2 = 0xffff8000fffe0000",
        "$3 = 0xffff8000deadb000",               // EL1h: sp is SP_EL1
        "$4 = [ SP EL=1 F I A D BTYPE=0 C Z ]",  // cpsr_flags fields
        "$5 = {0x1716151413121110, 0x1f1e1d1c1b1a1918}",
        "$6 = 0x30d0199d",
        "$7 = 0xffffcafe0000",
        "$8 = 0x3c00000",
        "\nmdscr_el1      0x8000 ",  // `info registers system`: the sys feature's group
        "\nsp_el1         0xffff8000deadb000 ",
        "$9 = 0x5555",               // P 5 -> state -> g after the flush
        "$10 = 0xffff800000004000",  // P 31 went to SP_EL1 (EL1h)
        "$11 = 0xffffcafe0000",      // SP_EL0 untouched
        "$12 = {0x123456789abcdef0000000000000000}",
    };
    int failures = 0;
    for (const char* e : expected) {
        if (text.find(e) == std::string::npos) {
            std::printf("MISSING: %s\n", e);
            ++failures;
        }
    }
    // gdb always warns that there is no executable (none is needed here);
    // anything else on stderr (a rejected description, a bad reply) fails.
    const std::string no_exe =
        "warning: No executable has been specified and target does not support\n"
        "determining executable automatically.  Try using the \"file\" command.\n";
    if (auto at = errors.find(no_exe); at != std::string::npos) {
        errors.erase(at, no_exe.size());
    }
    if (!errors.empty()) {
        std::printf("unexpected gdb stderr: %s\n", errors.c_str());
        ++failures;
    }
    std::printf("%s: %d of %zu expectations failed\n", failures == 0 ? "PASS" : "FAIL", failures,
                sizeof expected / sizeof expected[0]);
    return failures == 0 ? 0 : 1;
}

int run_gdb() {
    g_autofree char* gdb = g_find_program_in_path("gdb-multiarch");
    if (gdb == nullptr) {
        std::printf("SKIP: gdb-multiarch is not installed (scripts/setup.sh installs it)\n");
        return 77;
    }
    g_autofree char* self = g_file_read_link("/proc/self/exe", nullptr);
    if (self == nullptr) {
        std::printf("cannot resolve /proc/self/exe\n");
        return 1;
    }
    std::string text;
    std::string errors;
    if (!run_gdb_script(gdb, remote_command(self), text, errors)) {
        return 1;
    }
    std::printf("--- gdb stdout\n%s--- gdb stderr\n%s---\n", text.c_str(), errors.c_str());
    return check_transcript(text, errors);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "--stub") == 0) {
        return run_stub();
    }
    return run_gdb();
}
