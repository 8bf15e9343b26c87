// TestExit: kvmdbg's `test-exit` MMIO device on the virt machine, the way
// firmware and test kernels end the emulator with a status of their choosing
// (the MMIO counterpart of isa-debug-exit, which an Arm machine cannot
// reach through port I/O).
//
// Device tree: `test-exit@9100000 { compatible = "kvmdbg,test-exit";
// reg = <0 0x9100000 0 0x1000>; }` (hw-models/virt/virt_memmap.h).
//
// Register map (one 4 KiB page):
//
//   off  width  read  write
//   ---  -----  ----  -----------------------------------------------------
//   0x0  32     0     STATUS: ends the emulator with exit status (V << 1) | 1
//   else any    0     ignored (logged nowhere: the bus sees a valid device)
//
//    31                                                     0
//   +--------------------------------------------------------+
//   |                   V (status value)                     |
//   +--------------------------------------------------------+
//
// The status is isa-debug-exit's (IsaDebugExit::exit_status): a write of V
// gives process status (V << 1) | 1, so 0 -> 1, 1 -> 3, 0x20 -> 65. Narrower
// writes at offset 0 zero-extend V; a 64-bit write uses its low 32 bits.
// The write answers IoOutcome::stop_machine so the vCPU parks.
//
// Threads: read()/write() run on vCPU threads under the bus lock; so does the
// callback, which must not re-enter the bus.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

#include "hw-models/io_device.h"

namespace kvmdbg::hw {

class TestExit final : public IoDevice {
public:
    /// Receives the exit status (V << 1) | 1 as an int.
    using ExitCallback = std::function<void(int status)>;

    static constexpr const char* kCompatible = "kvmdbg,test-exit";
    static constexpr std::uint64_t kStatusOffset = 0;
    static constexpr std::uint64_t kRegionSize = 0x1000;

    explicit TestExit(ExitCallback on_exit) : on_exit_(std::move(on_exit)) {}

    /// Always 0.
    std::uint64_t read(std::uint64_t offset, unsigned size) override;
    /// At offset 0 (any width): calls the callback with the status and
    /// returns stop_machine. Elsewhere: ignored, proceed.
    IoOutcome write(std::uint64_t offset, std::uint64_t value, unsigned size) override;

private:
    ExitCallback on_exit_;
};

}  // namespace kvmdbg::hw
