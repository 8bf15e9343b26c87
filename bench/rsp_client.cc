// rsp_client: a raw GDB remote-protocol client for the benchmark table
// (docs/performance.md), with no gdb in the loop. It talks to any stub
// (kvmdbg, qemu-system-x86_64 -s) over TCP and times one scenario:
//
//   rsp_client --port P --scenario S [--count N] [--addr A] [--mode A]
//              [--counter A] [--seconds T] [--stepover 1]
//
// Scenarios and what they print (µs per operation, MiB/s):
//   step      N x `vCont;s:1` -> stop reply                     step_us
//   hwbp      Z1 at A, N x (`vCont;c` -> T05)                     hit_us
//             --stepover 1 does gdb's own step-over (z1, s, Z1, c) for
//             stubs that re-hit a breakpoint they continue from (QEMU)
//   cond      Z1 at A with the target-side condition `const8 0; end`
//             (always false), continue for T seconds, Ctrl-C; the hits
//             are counted by the guest's counter at --counter      cond_hit_us
//             (without --counter the caller counts them, e.g. from the
//             guest's console: only the window is printed)  cond_window_s
//   runto     Z1 at A, `vCont;c` -> T05 within T seconds (a boot to
//             a kernel function)                                  runto_ms
//   continue  `vCont;c`, then leaves: the stub runs the guest on
//   g         N x `g`                                             g_us
//   mem       64 MiB from address A with `m` and, if offered, `x`,
//             in the largest reads the stub's PacketSize allows  m_mibs x_mibs
//   zbulk     N x Z0 at distinct addresses, then N x z0          z_insert_us z_remove_us z_accepted
//   stopall   N x (`vCont;c`, 2 ms, Ctrl-C -> T02)                stopall_us
//             (the mean; also stopall_median_us, stopall_p90_us,
//             stopall_max_us); from kvmdbg also its own timing of the
//             same all-stops without the round trip (monitor info
//             stop-all): stopall_inside_us (and _median_us, _p90_us,
//             _max_us)
//   idle      `vCont;c`, then waits T seconds and stops (the caller
//             measures the stub's CPU time meanwhile)             idle_s
//   pio       the device-access path (kvmdbg only: monitor commands):
//             bench_mode = 1 at --mode (one `out` to port 0x80 per loop
//             iteration, counted by the guest at --counter), then the
//             guest runs in three configurations, each in --rounds R
//             windows of T/R seconds, taken in turn and each round
//             starting one later (continue, Ctrl-C, read the counter):
//             `plain` (no catch, no trace), `catch`
//             (`monitor catch io --catch PORT`, a port the loop never
//             touches), `trace` (`monitor trace io on`; every access must
//             be recorded)                     pio_plain_per_s pio_catch_per_s
//                                              pio_trace_per_s pio_traced
//
// Every scenario first reads qSupported, enables QStartNoAckMode when the
// stub offers it (QEMU does not: acks are then exchanged as gdb does) and
// writes bench_mode = 0 at --mode (pio then sets 1). Exit 1 on any
// protocol error.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench/latency_summary.h"

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "rsp_client: %s\n", what.c_str());
    std::exit(1);
}

std::string hex_u64(std::uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
    return buf;
}

class Client {
public:
    explicit Client(int port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(static_cast<std::uint16_t>(port));
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) fail("connect failed");
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }

    // Sends a packet; in ack mode waits for the stub's '+'.
    void send(const std::string& payload) {
        std::uint8_t sum = 0;
        for (char c : payload)
            sum = static_cast<std::uint8_t>(sum + static_cast<std::uint8_t>(c));
        char tail[4];
        std::snprintf(tail, sizeof tail, "#%02x", sum);
        write_all("$" + payload + tail);
        if (acks_) {
            for (;;) {
                char c = get();
                if (c == '+') break;
                if (c == '-') fail("stub nacked " + payload.substr(0, 40));
            }
        }
    }

    void send_raw(const std::string& bytes) { write_all(bytes); }

    // The next packet's payload (still escaped); acks it in ack mode.
    // Copies whole runs out of the receive buffer (memchr for the end), so
    // that a 128 KiB reply costs the client little: the client must not be
    // what limits the memory-read rows.
    std::string receive() {
        for (;;) {
            char c = get();
            if (c == '$') break;
        }
        std::string payload;
        for (;;) {
            if (pos_ == len_) fill();
            const char* start = buf_ + pos_;
            const void* hash = std::memchr(start, '#', len_ - pos_);
            std::size_t n = hash ? static_cast<std::size_t>(static_cast<const char*>(hash) - start) : len_ - pos_;
            payload.append(start, n);
            pos_ += n;
            if (hash) {
                ++pos_;
                break;
            }
        }
        get();
        get();
        if (acks_) write_all("+");
        return payload;
    }

    std::string request(const std::string& payload) {
        send(payload);
        return receive();
    }

    // A stop reply, skipping console output (O packets).
    std::string wait_stop() {
        for (;;) {
            std::string r = receive();
            if (r.empty() || r[0] != 'O' || r == "OK") return r;
        }
    }

    void no_ack() { acks_ = false; }

    // Whether the stub sends something within `seconds`.
    bool readable_within(double seconds) {
        if (pos_ < len_) return true;
        pollfd p{fd_, POLLIN, 0};
        return ::poll(&p, 1, static_cast<int>(seconds * 1000)) > 0;
    }

private:
    void fill() {
        ssize_t n = ::read(fd_, buf_, sizeof buf_);
        if (n <= 0) fail("connection closed");
        len_ = static_cast<std::size_t>(n);
        pos_ = 0;
    }

    char get() {
        if (pos_ == len_) fill();
        return buf_[pos_++];
    }

    void write_all(const std::string& s) {
        std::size_t done = 0;
        while (done < s.size()) {
            ssize_t n = ::write(fd_, s.data() + done, s.size() - done);
            if (n <= 0) fail("write failed");
            done += static_cast<std::size_t>(n);
        }
    }

    int fd_ = -1;
    bool acks_ = true;
    char buf_[1 << 17];
    std::size_t pos_ = 0, len_ = 0;
};

double us_since(Clock::time_point t0, std::uint64_t n) {
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / static_cast<double>(n);
}

void expect_stop(const std::string& r, const char* what) {
    if (r.empty() || r[0] != 'T') fail(std::string(what) + ": expected a T stop reply, got '" + r.substr(0, 60) + "'");
}

void expect_ok(const std::string& r, const std::string& what) {
    if (r != "OK") fail(what + ": expected OK, got '" + r.substr(0, 60) + "'");
}

// Little-endian value of the hex bytes of an `m` reply.
std::uint64_t le_value(const std::string& hex) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i + 1 < hex.size() && i < 16; i += 2) {
        v |= std::strtoull(hex.substr(i, 2).c_str(), nullptr, 16) << (4 * i);
    }
    return v;
}

std::size_t unescaped_size(const std::string& payload, std::size_t from) {
    std::size_t n = 0;
    for (std::size_t i = from; i < payload.size(); ++i) {
        if (payload[i] == '}') ++i;
        ++n;
    }
    return n;
}

// The command line's options and what the stub offers, for the scenarios.
struct Options {
    const std::map<std::string, std::string>& args;  // --key value
    std::uint64_t count = 0;
    std::uint64_t addr = 0;
    double seconds = 0;
    std::size_t packet_size = 4096;  // the stub's PacketSize
    bool has_x = false;              // the stub offers binary-upload (x)

    std::uint64_t num(const char* key, std::uint64_t def) const {
        auto it = args.find(key);
        return it == args.end() ? def : std::strtoull(it->second.c_str(), nullptr, 0);
    }
};

void run_step(Client& c, const Options& o) {
    for (int i = 0; i < 20; ++i)
        expect_stop(c.request("vCont;s:1"), "step");
    auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < o.count; ++i)
        expect_stop(c.request("vCont;s:1"), "step");
    std::printf("step_us %.3f\n", us_since(t0, o.count));
}

void run_hwbp(Client& c, const Options& o) {
    const std::string z = "Z1," + hex_u64(o.addr) + ",1";
    expect_ok(c.request(z), z);
    bool stepover = o.num("--stepover", 0) != 0;
    auto hit = [&] {
        if (stepover) {
            expect_ok(c.request("z1," + hex_u64(o.addr) + ",1"), "z1");
            expect_stop(c.request("vCont;s:1"), "step over");
            expect_ok(c.request(z), z);
        }
        std::string r = c.request("vCont;c");
        expect_stop(r, "hit");
    };
    hit();
    std::uint64_t counter = o.num("--counter", 0);
    std::uint64_t before = counter ? le_value(c.request("m" + hex_u64(counter) + ",8")) : 0;
    auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < o.count; ++i)
        hit();
    double us = us_since(t0, o.count);
    if (counter) {
        std::uint64_t after = le_value(c.request("m" + hex_u64(counter) + ",8"));
        if (after - before != o.count) {
            fail("the guest's counter moved by " + std::to_string(after - before) + " for " + std::to_string(o.count) +
                 " hits");
        }
    }
    std::printf("hit_us %.3f\n", us);
}

void run_cond(Client& c, const Options& o) {
    std::uint64_t counter = o.num("--counter", 0);
    const std::string z = "Z1," + hex_u64(o.addr) + ",1;X3,220027";  // const8 0; end
    expect_ok(c.request(z), z);
    std::uint64_t before = counter ? le_value(c.request("m" + hex_u64(counter) + ",8")) : 0;
    c.send("vCont;c");
    auto t0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
    c.send_raw("\x03");
    std::string r = c.wait_stop();
    double elapsed = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
    expect_stop(r, "Ctrl-C");
    if (counter == 0) {
        std::printf("cond_window_s %.6f\n", elapsed / 1e6);
        return;
    }
    std::uint64_t after = le_value(c.request("m" + hex_u64(counter) + ",8"));
    if (after <= before) fail("no false hit went through");
    std::printf("cond_hit_us %.3f\n", elapsed / static_cast<double>(after - before));
    std::printf("cond_hits %llu\n", static_cast<unsigned long long>(after - before));
}

void run_runto(Client& c, const Options& o) {
    const std::string z = "Z1," + hex_u64(o.addr) + ",1";
    expect_ok(c.request(z), z);
    c.send("vCont;c");
    auto t0 = Clock::now();
    if (!c.readable_within(o.seconds)) {
        c.send_raw("\x03");
        c.wait_stop();
        fail("no stop at 0x" + hex_u64(o.addr) + " within " + std::to_string(o.seconds) + " s");
    }
    std::string r = c.wait_stop();
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (r.rfind("T05", 0) != 0) fail("runto: expected T05 at the breakpoint, got '" + r.substr(0, 60) + "'");
    std::printf("runto_ms %.3f\n", ms);
}

void run_continue(Client& c, const Options&) { c.send("vCont;c"); }

void run_g(Client& c, const Options& o) {
    for (int i = 0; i < 20; ++i)
        c.request("g");
    auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < o.count; ++i) {
        std::string r = c.request("g");
        if (r.size() < 64 || r[0] == 'E') fail("g: '" + r.substr(0, 40) + "'");
    }
    std::printf("g_us %.3f\n", us_since(t0, o.count));
}

void run_mem(Client& c, const Options& o) {
    const std::uint64_t total = o.num("--bytes", 64ull << 20);
    // Reply budget: m doubles the bytes; x escapes few of them.
    std::uint64_t m_chunk = std::min<std::uint64_t>(o.packet_size / 2, 1u << 16);
    if (o.packet_size <= 4096) m_chunk = o.packet_size / 2;  // QEMU: E22 above 2048
    auto t0 = Clock::now();
    for (std::uint64_t off = 0; off < total;) {
        std::string r = c.request("m" + hex_u64(o.addr + off) + "," + hex_u64(std::min(m_chunk, total - off)));
        if (r.empty() || r[0] == 'E') fail("m at 0x" + hex_u64(o.addr + off) + ": " + r.substr(0, 20));
        off += r.size() / 2;
    }
    std::printf("m_mibs %.2f\n",
                static_cast<double>(total) / (1 << 20) / std::chrono::duration<double>(Clock::now() - t0).count());
    std::printf("m_chunk %llu\n", static_cast<unsigned long long>(m_chunk));
    if (o.has_x) {
        std::uint64_t x_chunk = std::min<std::uint64_t>(o.packet_size / 2, 1u << 16);
        t0 = Clock::now();
        for (std::uint64_t off = 0; off < total;) {
            std::string r = c.request("x" + hex_u64(o.addr + off) + "," + hex_u64(std::min(x_chunk, total - off)));
            if (r.empty() || r[0] != 'b') fail("x at 0x" + hex_u64(o.addr + off) + ": " + r.substr(0, 20));
            off += unescaped_size(r, 1);
        }
        std::printf("x_mibs %.2f\n",
                    static_cast<double>(total) / (1 << 20) / std::chrono::duration<double>(Clock::now() - t0).count());
    }
}

void run_zbulk(Client& c, const Options& o) {
    std::uint64_t accepted = 0;
    std::vector<bool> ok(o.count);
    auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < o.count; ++i) {
        std::string r = c.request("Z0," + hex_u64(o.addr + i) + ",1");
        ok[i] = r == "OK";
        accepted += ok[i];
    }
    std::printf("z_insert_us %.3f\n", us_since(t0, o.count));
    t0 = Clock::now();
    for (std::uint64_t i = 0; i < o.count; ++i) {
        std::string r = c.request("z0," + hex_u64(o.addr + i) + ",1");
        if (ok[i]) expect_ok(r, "z0");
    }
    std::printf("z_remove_us %.3f\n", us_since(t0, o.count));
    std::printf("z_accepted %llu\n", static_cast<unsigned long long>(accepted));
}

std::string monitor(Client& c, const std::string& command);

// kvmdbg's own timing of the same all-stops (`monitor info stop-all N`:
// from the kick of every vCPU to all parked, without the gdb round trip),
// as stopall_inside_us, _median_us, _p90_us and _max_us. Nothing when the
// stub has no such command (QEMU).
void print_stop_all_inside(Client& c, std::uint64_t count) {
    const std::string out = monitor(c, "info stop-all " + std::to_string(count));
    const std::pair<const char*, const char*> fields[] = {{"mean ", "stopall_inside_us"},
                                                          {"median ", "stopall_inside_median_us"},
                                                          {"90th percentile ", "stopall_inside_p90_us"},
                                                          {"slowest ", "stopall_inside_max_us"}};
    if (out.find("stop-all (") != 0) {
        return;
    }
    for (const auto& [label, name] : fields) {
        auto at = out.find(label);
        if (at == std::string::npos) {
            fail("monitor info stop-all: no '" + std::string(label) + "' in '" + out + "'");
        }
        std::printf("%s %.3f\n", name, std::strtod(out.c_str() + at + std::strlen(label), nullptr));
    }
}

void run_stopall(Client& c, const Options& o) {
    std::vector<double> each;
    for (std::uint64_t i = 0; i < o.count; ++i) {
        c.send("vCont;c");
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        auto t0 = Clock::now();
        c.send_raw("\x03");
        std::string r = c.wait_stop();
        each.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        expect_stop(r, "Ctrl-C");
    }
    kvmdbg::bench::print_latency_summary("stopall", each);
    print_stop_all_inside(c, o.count);
}

void run_idle(Client& c, const Options& o) {
    c.send("vCont;c");
    std::printf("running\n");
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
    c.send_raw("\x03");
    expect_stop(c.wait_stop(), "Ctrl-C");
    std::printf("idle_s %.1f\n", o.seconds);
}

// A monitor command (qRcmd): its console output (the O packets before OK).
std::string monitor(Client& c, const std::string& command) {
    static const char kDigits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char ch : command) {
        hex += kDigits[ch >> 4];
        hex += kDigits[ch & 15];
    }
    c.send("qRcmd," + hex);
    std::string out;
    for (;;) {
        std::string r = c.receive();
        if (r == "OK") return out;
        if (r.empty() || r[0] != 'O') fail("monitor " + command + ": '" + r.substr(0, 40) + "'");
        for (std::size_t i = 1; i + 1 < r.size(); i += 2)
            out += static_cast<char>(std::strtoul(r.substr(i, 2).c_str(), nullptr, 16));
    }
}

// "device-access trace on, N accesses recorded" -> N.
std::uint64_t traced_total(Client& c) {
    std::string out = monitor(c, "trace io");
    auto comma = out.find(", ");
    if (comma == std::string::npos) fail("monitor trace io: '" + out + "'");
    return std::strtoull(out.c_str() + comma + 2, nullptr, 10);
}

// Runs the guest for `seconds`; returns the loop iterations (port writes)
// the guest counted and the time from the resume to the stop.
std::pair<std::uint64_t, double> run_pio_window(Client& c, std::uint64_t counter, double seconds) {
    std::uint64_t before = le_value(c.request("m" + hex_u64(counter) + ",8"));
    c.send("vCont;c");
    auto t0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    c.send_raw("\x03");
    std::string r = c.wait_stop();
    double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    // A stop other than the Ctrl-C's (a catch that fired) would be T05.
    if (r.rfind("T02", 0) != 0) fail("pio: expected the Ctrl-C stop T02, got '" + r.substr(0, 60) + "'");
    std::uint64_t after = le_value(c.request("m" + hex_u64(counter) + ",8"));
    if (after <= before) fail("pio: the guest did no port write");
    return {after - before, elapsed};
}

void run_pio(Client& c, const Options& o) {
    std::uint64_t counter = o.num("--counter", 0);
    std::uint64_t mode = o.num("--mode", 0);
    if (counter == 0 || mode == 0) fail("pio needs --counter and --mode");
    expect_ok(c.request("M" + hex_u64(mode) + ",4:01000000"), "bench_mode = 1");
    const std::string catch_cmd = "catch io 0x" + hex_u64(o.num("--catch", 0x3f8)) + " rw";
    std::uint64_t rounds = std::max<std::uint64_t>(o.num("--rounds", 1), 1);
    double window = o.seconds / static_cast<double>(rounds);
    struct Config {
        const char* name;
        std::uint64_t writes = 0;
        double seconds = 0;
    };
    Config configs[] = {{"plain"}, {"catch"}, {"trace"}};
    std::uint64_t traced = 0;
    run_pio_window(c, counter, 0.1);  // warm-up: the vCPU thread and the loop
    constexpr std::size_t kConfigs = sizeof configs / sizeof configs[0];
    for (std::uint64_t r = 0; r < rounds; ++r) {
        // Each round starts one configuration later, so that none is
        // always the one after a given other.
        for (std::size_t k = 0; k < kConfigs; ++k) {
            Config& cfg = configs[(r + k) % kConfigs];
            std::string catch_id;
            std::uint64_t traced_before = 0;
            if (cfg.name == std::string("catch")) {
                std::string out = monitor(c, catch_cmd);
                if (out.rfind("Catch ", 0) != 0) fail("monitor " + catch_cmd + ": '" + out + "'");
                catch_id = out.substr(6, out.find(':') - 6);
            } else if (cfg.name == std::string("trace")) {
                if (std::string out = monitor(c, "trace io on"); out.rfind("device-access trace on", 0) != 0) {
                    fail("monitor trace io on: '" + out + "'");
                }
                traced_before = traced_total(c);
            }
            auto [writes, secs] = run_pio_window(c, counter, window);
            cfg.writes += writes;
            cfg.seconds += secs;
            if (!catch_id.empty()) {
                std::string out = monitor(c, "delete catch " + catch_id);
                if (out.rfind("Deleted", 0) != 0) fail("delete catch " + catch_id + ": '" + out + "'");
            } else if (cfg.name == std::string("trace")) {
                std::uint64_t got = traced_total(c) - traced_before;
                // Every port write of the window, and nothing is lost: the
                // trace counts an access before the guest's ++ after it.
                if (got < writes) {
                    fail("trace io recorded " + std::to_string(got) + " accesses for " + std::to_string(writes) +
                         " port writes");
                }
                traced += got;
                monitor(c, "trace io off");
            }
        }
    }
    for (const Config& cfg : configs)
        std::printf("pio_%s_per_s %.1f\n", cfg.name, static_cast<double>(cfg.writes) / cfg.seconds);
    std::printf("pio_traced %llu\n", static_cast<unsigned long long>(traced));
}

const std::map<std::string, void (*)(Client&, const Options&)> kScenarios = {
    {"step", run_step}, {"hwbp", run_hwbp},   {"cond", run_cond},         {"g", run_g},
    {"mem", run_mem},   {"zbulk", run_zbulk}, {"stopall", run_stopall},   {"idle", run_idle},
    {"pio", run_pio},   {"runto", run_runto}, {"continue", run_continue},
};

}  // namespace

int main(int argc, char** argv) {
    std::map<std::string, std::string> args;
    for (int i = 1; i + 1 < argc; i += 2)
        args[argv[i]] = argv[i + 1];
    if (!args.count("--port") || !args.count("--scenario")) {
        std::fprintf(
            stderr,
            "usage: rsp_client --port P --scenario step|hwbp|cond|g|mem|zbulk|stopall|idle|pio|runto|continue ...\n");
        return 2;
    }
    Options o{args};
    o.count = o.num("--count", 1000);
    o.addr = o.num("--addr", 0);
    o.seconds = static_cast<double>(o.num("--seconds", 2));
    std::signal(SIGPIPE, SIG_IGN);  // a closed connection is reported, not fatal
    Client c(static_cast<int>(o.num("--port", 1234)));

    std::string features = c.request("qSupported:swbreak+;hwbreak+");
    if (auto p = features.find("PacketSize="); p != std::string::npos) {
        o.packet_size = std::strtoull(features.c_str() + p + 11, nullptr, 16);
    }
    if (features.find("QStartNoAckMode+") != std::string::npos) {
        expect_ok(c.request("QStartNoAckMode"), "QStartNoAckMode");
        c.no_ack();
    }
    o.has_x = features.find("binary-upload+") != std::string::npos;
    c.request("?");
    if (std::uint64_t mode = o.num("--mode", 0); mode != 0) {
        expect_ok(c.request("M" + hex_u64(mode) + ",4:00000000"), "bench_mode = 0");
    }

    const std::string scenario = args["--scenario"];
    auto run = kScenarios.find(scenario);
    if (run == kScenarios.end()) {
        fail("unknown scenario " + scenario);
    }
    run->second(c, o);
    return 0;
}
