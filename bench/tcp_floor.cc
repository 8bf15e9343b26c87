// tcp_floor: the transport floor of row 0 of the benchmark table
// (docs/performance.md): what one request/reply round trip over loopback
// TCP between two processes costs on this machine, with nothing behind it.
// Every protocol row (a step, a g, a hit) contains at least one such round
// trip, so no stub can beat this figure; the table shows it next to the
// raw KVM_RUN step.
//
//   tcp_floor [--count N]          prints   rtt_us <us>
//
// The child process answers each 14-byte request ("$vCont;s:1#xx", the
// size of a step packet) with a 100-byte reply (the size of a T stop reply
// with expedited registers), both with TCP_NODELAY and blocking reads, as
// gdb and the stub do.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

constexpr std::size_t kRequest = 14;
constexpr std::size_t kReply = 100;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "tcp_floor: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

bool read_exact(int fd, char* buf, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
        ssize_t r = ::read(fd, buf + done, n - done);
        if (r <= 0) {
            return false;
        }
        done += static_cast<std::size_t>(r);
    }
    return true;
}

void write_exact(int fd, const char* buf, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
        ssize_t r = ::write(fd, buf + done, n - done);
        if (r <= 0) {
            fail("write");
        }
        done += static_cast<std::size_t>(r);
    }
}

void no_delay(int fd) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

int main(int argc, char** argv) {
    long count = 5000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--count") == 0) {
            count = std::strtol(argv[i + 1], nullptr, 0);
        }
    }
    if (count <= 0) {
        std::fprintf(stderr, "usage: tcp_floor [--count N>0]\n");
        return 2;
    }
    int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 ||
        ::listen(listener, 1) < 0 || ::getsockname(listener, reinterpret_cast<sockaddr*>(&sa), &len) < 0) {
        fail("listen on 127.0.0.1");
    }
    pid_t child = ::fork();
    if (child < 0) {
        fail("fork");
    }
    if (child == 0) {
        int c = ::accept(listener, nullptr, nullptr);
        if (c < 0) {
            fail("accept");
        }
        no_delay(c);
        char req[kRequest];
        char reply[kReply];
        std::memset(reply, 'T', sizeof reply);
        while (read_exact(c, req, sizeof req)) {
            write_exact(c, reply, sizeof reply);
        }
        ::_exit(0);
    }
    ::close(listener);
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
        fail("connect");
    }
    no_delay(fd);
    char req[kRequest];
    std::memcpy(req, "$vCont;s:1#xx", kRequest);
    char reply[kReply];
    auto round_trip = [&] {
        write_exact(fd, req, sizeof req);
        if (!read_exact(fd, reply, sizeof reply)) {
            fail("the echo process went away");
        }
    };
    for (int i = 0; i < 100; ++i) {
        round_trip();  // warm-up
    }
    auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < count; ++i) {
        round_trip();
    }
    double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    ::close(fd);
    int status = 0;
    ::waitpid(child, &status, 0);
    std::printf("rtt_us %.2f\n", us / static_cast<double>(count));
    return 0;
}
