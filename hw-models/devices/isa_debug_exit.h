// IsaDebugExit: QEMU's `isa-debug-exit` device, the way test kernels end the
// emulator with a status of their choosing.
//
// QEMU semantics (hw/misc/debugexit.c):
// - properties `iobase` (default 0x501) and `iosize` (default 2) place a
//   port range of `iosize` bytes; the common test setup, and our pc machine,
//   use `-device isa-debug-exit,iobase=0xf4,iosize=0x04`;
// - a write of any width 1..4 at any offset in the range calls
//   `exit((val << 1) | 1)`, where `val` is the value written (zero-extended
//   from the access width) and the result is converted to the `int` exit()
//   takes; the shell then sees that status & 0xff. So a guest can never
//   produce status 0, writing 0 gives 1, 1 gives 3, 0x20 gives 65, and
//   0xffffffff gives (int)0xffffffff = -1, i.e. process status 255;
// - reads return 0.
//
// Here the write reports the full int status to a callback (the machine
// decides how to stop and what to return from main()) and answers
// IoOutcome::stop_machine so the vCPU parks. `monitor info device` shows
// the last write and the status it asked for (a debugger's catch can hold
// the machine at that write).
//
// Threads: read()/write() run on vCPU threads under the bus lock; so does the
// callback, which must not re-enter the bus.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "hw-models/io_device.h"

namespace kvmdbg::hw {

class IsaDebugExit final : public IoDevice {
public:
    /// Receives the exit status `(val << 1) | 1` as an int (see above).
    using ExitCallback = std::function<void(int status)>;

    static constexpr std::uint64_t kQemuDefaultIobase = 0x501;
    static constexpr std::uint64_t kQemuDefaultIosize = 2;

    explicit IsaDebugExit(ExitCallback on_exit) : on_exit_(std::move(on_exit)) {}

    /// The status QEMU exits with for a write of `value` with `size` bytes:
    /// the low min(size, 4) bytes of `value`, shifted left one, ORed with 1,
    /// truncated to 32 bits and reinterpreted as a signed int.
    static int exit_status(std::uint64_t value, unsigned size);

    /// Always 0.
    std::uint64_t read(std::uint64_t offset, unsigned size) override;
    /// Calls the exit callback with exit_status(value, size) and returns
    /// IoOutcome::stop_machine, whatever the offset.
    IoOutcome write(std::uint64_t offset, std::uint64_t value, unsigned size) override;
    /// "written    = none\n", or the last value written and its status.
    std::string state_text() const override;

private:
    ExitCallback on_exit_;
    std::optional<std::pair<std::uint64_t, unsigned>> last_write_;  // value, size
};

}  // namespace kvmdbg::hw
