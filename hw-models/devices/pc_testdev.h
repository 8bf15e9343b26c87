// PcTestdev: QEMU's pc-testdev (hw/misc/pc-testdev.c), the test device the
// KVM test suite (kvm-unit-tests) drives on x86: I/O port reads and writes
// of every size, string I/O, interrupt lines it raises itself, and MMIO.
//
//   region                 size      access       behaviour
//   ports 0xe0-0xe3        4         1, 2, 4      a 32-bit data register: a write of n bytes at
//                                                 offset o replaces bytes o..o+n-1; a read gives
//                                                 them back (bytes past the register read 0)
//   ports 0xe4-0xe7        4         4 (write)    "flush page": QEMU re-protects the host page of
//                                                 the guest-physical address written; here a no-op
//                                                 (KVM sees guest memory through the same mapping)
//   ports 0xe8-0xeb        4         1, 2, 4      the same data register as 0xe0, taken a byte at
//                                                 a time (QEMU: impl.max_access_size 1)
//   ports 0x2000-0x2017    24        1, 2, 4      interrupt line n = offset: a byte written sets its
//                                                 level, non-zero raises, zero lowers; a wider access
//                                                 is taken a byte at a time (see below)
//   MMIO 0xff000000        64 KiB    1..8         memory: reads give back what was written
//
// The IRQ ports: QEMU declares them valid for single bytes only
// (valid.max_access_size 1), and for port I/O its memory core then splits a
// wider access into byte accesses at consecutive ports rather than refusing
// it (flatview_write_continue clamps each step to that size). So a 4-byte
// write of V at 0x2000 + n sets line n from byte 0 of V, line n + 1 from
// byte 1, and so on; kvm-unit-tests' realmode test raises IRQ 11 with
// `outl $1, %dx` at 0x200b (lines 12-14 go low). Bytes that land past line
// 23 reach no device in QEMU's pc machine: writes are dropped, reads give
// 0xff (an unassigned port). QEMU's read handler returns 0, so each byte
// read of a line reads 0.
//
// Reads of the flush port return 0. The machine maps each region with the
// object the accessor returns; they share the data register.
//
// Threads: every access on vCPU threads under the bus lock; the IRQ callback
// is called there and must not re-enter the bus.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>

#include "hw-models/io_device.h"

namespace kvmdbg::hw {

class PcTestdev {
public:
    using IrqLine = std::function<void(std::uint32_t irq, bool level)>;

    static constexpr std::uint64_t kIoportBase = 0xe0;
    static constexpr std::uint64_t kFlushBase = 0xe4;
    static constexpr std::uint64_t kIoportByteBase = 0xe8;
    static constexpr std::uint64_t kRegisterSize = 4;
    static constexpr std::uint64_t kIrqBase = 0x2000;
    static constexpr std::uint64_t kIrqCount = 24;
    static constexpr std::uint64_t kIomemBase = 0xff000000;
    static constexpr std::uint64_t kIomemSize = 0x10000;

    explicit PcTestdev(IrqLine irq);

    std::shared_ptr<IoDevice> ioport() const { return ioport_; }
    std::shared_ptr<IoDevice> ioport_byte() const { return ioport_byte_; }
    std::shared_ptr<IoDevice> flush() const { return flush_; }
    std::shared_ptr<IoDevice> irq() const { return irq_; }
    std::shared_ptr<IoDevice> iomem() const { return iomem_; }

private:
    struct State {
        std::uint32_t data = 0;
        std::array<std::uint8_t, kIomemSize> iomem{};
        IrqLine irq;
    };
    std::shared_ptr<State> state_;
    std::shared_ptr<IoDevice> ioport_, ioport_byte_, flush_, irq_, iomem_;

    class Ioport;
    class Flush;
    class Irq;
    class Iomem;
};

}  // namespace kvmdbg::hw
