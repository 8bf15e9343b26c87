// Result<T>: the project's one error style for C++ code (docs/design.md rule 5).
//
// A Result holds either a value or an Error (an errno-style number plus a
// message that already carries its context, e.g. "hello.elf: not an ELF file").
// Syscall wrappers return -errno; everything above them returns Result<T>.
// Results are plain values: no thread affinity, cheap to move.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace kvmdbg {

/// An error number (positive errno value, e.g. EINVAL) and a human message.
struct Error {
    int code = EINVAL;
    std::string message;
};

/// Builds an Error; `code` is a positive errno value.
inline Error make_error(int code, std::string message) { return Error{code, std::move(message)}; }

/// Either a T or an Error. Check with ok() (or operator bool) before value().
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
    Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }

    const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

/// Result without a value: success, or an Error.
template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const { return error_; }

private:
    Error error_{};
    bool ok_ = true;
};

using Status = Result<void>;

/// Success value for Status-returning functions.
inline Status ok_status() { return Status{}; }

}  // namespace kvmdbg
