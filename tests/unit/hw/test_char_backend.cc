// open_char_backend(): file, none, stdio (through a pipe on fd 1, including a
// non-blocking pipe that forces short writes and EAGAIN), and spec errors.
#include "hw-models/char_backend.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/cunit_main.h"

using kvmdbg::hw::CharBackend;
using kvmdbg::hw::open_char_backend;

namespace {

std::string make_temp_dir() {
    char tmpl[] = "/tmp/kvmdbg-char-backend-XXXXXX";
    const char* dir = ::mkdtemp(tmpl);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    return dir;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_string(CharBackend& b, std::string_view s) {
    b.write(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

void test_file_backend_writes_bytes() {
    std::string dir = make_temp_dir();
    std::string path = dir + "/serial.out";
    {
        std::ofstream old(path);
        old << "stale content that must be truncated";
    }
    {
        auto b = open_char_backend("file:" + path);
        CU_ASSERT_TRUE_FATAL(b.ok());
        CU_ASSERT_EQUAL((*b)->input_fd(), -1);
        write_string(**b, "hello\n");
        write_string(**b, std::string_view("\0\xff", 2));
        write_string(**b, "");
    }
    CU_ASSERT_TRUE(slurp(path) == std::string("hello\n\0\xff", 8));
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
}

void test_file_backend_bad_path_names_it() {
    auto b = open_char_backend("file:/nonexistent-kvmdbg-dir/serial.out");
    CU_ASSERT_FALSE_FATAL(b.ok());
    CU_ASSERT_EQUAL(b.error().code, ENOENT);
    CU_ASSERT_TRUE(b.error().message.find("/nonexistent-kvmdbg-dir/serial.out") != std::string::npos);
}

void test_file_backend_empty_path() {
    auto b = open_char_backend("file:");
    CU_ASSERT_FALSE_FATAL(b.ok());
    CU_ASSERT_EQUAL(b.error().code, EINVAL);
}

void test_none_discards() {
    auto b = open_char_backend("none");
    CU_ASSERT_TRUE_FATAL(b.ok());
    CU_ASSERT_EQUAL((*b)->input_fd(), -1);
    write_string(**b, "dropped");  // must not crash or reach any fd
}

void test_unknown_kind() {
    for (const char* spec : {"", "pty", "tcp::4444", "File:/tmp/x", "stdio,x", "nonE"}) {
        auto b = open_char_backend(spec);
        CU_ASSERT_FALSE_FATAL(b.ok());
        CU_ASSERT_EQUAL(b.error().code, EINVAL);
        std::string want = std::string("unknown -serial backend '") + spec + "' (use stdio, file:PATH or none)";
        CU_ASSERT_TRUE(b.error().message == want);
    }
}

// Runs `fn` with fd 1 redirected into a pipe and returns what reached the pipe.
template <typename Fn>
std::string capture_stdout(bool nonblocking, Fn fn) {
    int p[2];
    CU_ASSERT_EQUAL_FATAL(::pipe(p), 0);
    if (nonblocking) {
        ::fcntl(p[1], F_SETFL, ::fcntl(p[1], F_GETFL) | O_NONBLOCK);
    }
    std::fflush(stdout);
    int saved = ::dup(STDOUT_FILENO);
    ::dup2(p[1], STDOUT_FILENO);
    ::close(p[1]);
    std::string got;
    std::thread reader([&] {
        char buf[4096];
        ssize_t n;
        while ((n = ::read(p[0], buf, sizeof buf)) != 0) {
            if (n > 0) {
                got.append(buf, static_cast<std::size_t>(n));
                ::usleep(50);  // slow reader: the writer must wait and retry
            } else if (errno != EINTR) {
                break;
            }
        }
    });
    fn();
    ::dup2(saved, STDOUT_FILENO);  // closes the last write end: reader sees EOF
    ::close(saved);
    reader.join();
    ::close(p[0]);
    return got;
}

void test_stdio_writes_fd1_reads_fd0() {
    auto b = open_char_backend("stdio");
    CU_ASSERT_TRUE_FATAL(b.ok());
    CU_ASSERT_EQUAL((*b)->input_fd(), 0);
    std::string got = capture_stdout(false, [&] { write_string(**b, "to stdout\n"); });
    CU_ASSERT_TRUE(got == "to stdout\n");
}

void test_stdio_retries_short_writes_and_eagain() {
    auto b = open_char_backend("stdio");
    CU_ASSERT_TRUE_FATAL(b.ok());
    std::string big(1 << 20, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<char>(i * 7 + (i >> 8));
    }
    std::string got = capture_stdout(true, [&] { write_string(**b, big); });
    CU_ASSERT_EQUAL(got.size(), big.size());
    CU_ASSERT_TRUE(got == big);
}

constexpr kvmdbg::test::TestCase kCases[] = {
    {"file backend writes the bytes", test_file_backend_writes_bytes},
    {"bad path error names the path", test_file_backend_bad_path_names_it},
    {"file: without a path", test_file_backend_empty_path},
    {"none discards", test_none_discards},
    {"unknown kind", test_unknown_kind},
    {"stdio writes fd 1, reads fd 0", test_stdio_writes_fd1_reads_fd0},
    {"stdio retries short writes and EAGAIN", test_stdio_retries_short_writes_and_eagain},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {{"char backend", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
