// UniqueFd: sole owner of a file descriptor (docs/design.md rule 4).
//
// Move-only; closes the descriptor on destruction. Construction from an int
// is explicit and there is no implicit conversion back: call get().
// Thread-safety: like any value, one owner at a time.
#pragma once

#include <unistd.h>

#include <utility>

namespace kvmdbg {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    ~UniqueFd() { reset(); }

    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) {
            reset(std::exchange(other.fd_, -1));
        }
        return *this;
    }

    /// The descriptor, or -1 when empty. Ownership stays here.
    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }

    /// Gives up ownership and returns the descriptor.
    int release() { return std::exchange(fd_, -1); }

    /// Closes the current descriptor (if any) and takes `fd`.
    void reset(int fd = -1) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

}  // namespace kvmdbg
