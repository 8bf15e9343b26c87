// CharBackend: where a serial port's bytes go (QEMU's `-serial` chardev).
//
//   -serial stdio       output to stdout, input from stdin (via the main loop)
//   -serial file:PATH   output to PATH (created, or truncated if it exists), no input
//   -serial none        output discarded
//
// write() is called by device models on vCPU threads under the bus lock.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"

namespace kvmdbg::hw {

class CharBackend {
public:
    virtual ~CharBackend() = default;
    /// Writes every byte (retrying short writes); errors are dropped, as a
    /// UART has nowhere to report them.
    virtual void write(std::span<const std::uint8_t> bytes) = 0;
    /// File descriptor the main loop should watch for input, or -1.
    virtual int input_fd() const { return -1; }
};

/// Parses a `-serial` argument ("stdio", "file:PATH", "none") and opens it.
/// Errors: EINVAL for an unknown kind, errno of open() naming the file.
Result<std::unique_ptr<CharBackend>> open_char_backend(std::string_view spec);

}  // namespace kvmdbg::hw
