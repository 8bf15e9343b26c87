// IsaDebugcon: the Bochs/QEMU debug console, one I/O port whose writes are
// characters for a log (QEMU's isa-debugcon, hw/char/debugcon.c). SeaBIOS
// writes its debug log to port 0x402, Bochs-style guests to 0xe9.
//
//   port (write): the byte to log            port (read): 0xe9
//
// Semantics, as QEMU's device: a write of any size sends its low byte to
// the backend; a read returns the readback value 0xe9 (SeaBIOS reads it to
// decide whether a debug console is there, and logs nothing if not).
//
// Threads: read()/write() run on vCPU threads under the bus lock.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>

#include "hw-models/char_backend.h"
#include "hw-models/io_device.h"

namespace kvmdbg::hw {

class IsaDebugcon final : public IoDevice {
public:
    static constexpr std::uint64_t kDefaultPort = 0xe9;  ///< QEMU's -debugcon
    static constexpr std::uint64_t kSeabiosPort = 0x402;
    static constexpr std::uint64_t kPortSize = 1;
    static constexpr std::uint8_t kReadback = 0xe9;

    explicit IsaDebugcon(std::shared_ptr<CharBackend> backend) : backend_(std::move(backend)) {}

    std::uint64_t read(std::uint64_t offset, unsigned size) override;
    IoOutcome write(std::uint64_t offset, std::uint64_t value, unsigned size) override;

private:
    std::shared_ptr<CharBackend> backend_;
};

}  // namespace kvmdbg::hw
