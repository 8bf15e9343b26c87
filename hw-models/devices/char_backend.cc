// The three `-serial` backends of hw-models/char_backend.h.
#include "hw-models/char_backend.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace kvmdbg::hw {

namespace {

// Writes every byte to `fd`. EINTR and short writes are retried; EAGAIN (a
// terminal shared with a non-blocking stdin is non-blocking too) waits for
// the fd to drain. Other errors drop the rest: a UART cannot report them.
void write_all(int fd, std::span<const std::uint8_t> bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n > 0) {
            bytes = bytes.subspan(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd p{fd, POLLOUT, 0};
            if (::poll(&p, 1, -1) >= 0 || errno == EINTR) {
                continue;
            }
        }
        return;
    }
}

// stdout/stdin belong to the process, not to the backend: never closed here.
class StdioBackend final : public CharBackend {
public:
    void write(std::span<const std::uint8_t> bytes) override { write_all(STDOUT_FILENO, bytes); }
    int input_fd() const override { return STDIN_FILENO; }
};

class FileBackend final : public CharBackend {
public:
    explicit FileBackend(UniqueFd fd) : fd_(std::move(fd)) {}
    void write(std::span<const std::uint8_t> bytes) override { write_all(fd_.get(), bytes); }

private:
    UniqueFd fd_;
};

class NullBackend final : public CharBackend {
public:
    void write(std::span<const std::uint8_t>) override {}
};

}  // namespace

Result<std::unique_ptr<CharBackend>> open_char_backend(std::string_view spec) {
    if (spec == "stdio") {
        return std::unique_ptr<CharBackend>(std::make_unique<StdioBackend>());
    }
    if (spec == "none") {
        return std::unique_ptr<CharBackend>(std::make_unique<NullBackend>());
    }
    constexpr std::string_view kFilePrefix = "file:";
    if (spec.starts_with(kFilePrefix)) {
        std::string path(spec.substr(kFilePrefix.size()));
        if (path.empty()) {
            return make_error(EINVAL, "-serial file: needs a path (file:PATH)");
        }
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            int err = errno;
            return make_error(err, "cannot open serial output file " + path + ": " + std::strerror(err));
        }
        return std::unique_ptr<CharBackend>(std::make_unique<FileBackend>(UniqueFd(fd)));
    }
    return make_error(EINVAL, "unknown -serial backend '" + std::string(spec) + "' (use stdio, file:PATH or none)");
}

}  // namespace kvmdbg::hw
