// I8042Reset: the part of the PC keyboard controller (Intel 8042) that
// kernels use to reset the machine, with no keyboard or mouse behind it.
//
// The classic PC reset (IBM PC/AT Technical Reference, "Keyboard
// Controller"; what Linux's reboot=k, Xen's BOOT_KBD and most hobby kernels
// do): wait until the controller's input buffer is empty, then send it the
// command "pulse output port bit 0", which is wired to the CPU's reset line:
//
//   do { status = inb(0x64); } while (status & 0x02);   // input buffer full?
//   outb(0x64, 0xfe);
//
//   status register (read port 0x64):
//     7      6      5      4       3        2       1      0
//   +------+------+------+-------+--------+-------+------+------+
//   | PERR | TOUT | AOBF | INH=1 | CMD=1  | SYS=1 | IBF  | OBF  |
//   +------+------+------+-------+--------+-------+------+------+
//   always 0x1c here, what SeaBIOS leaves on QEMU: keyboard not inhibited,
//   last write was a command, self-test passed, both buffers empty.
//
// Semantics, as QEMU's hw/input/pckbd.c treats them:
// - port 0x64 write of a "pulse output port" command 0xf0..0xff whose bit 0
//   is clear (0xfe is the usual one: pulse bit 0 only) calls the reset
//   callback and returns IoOutcome::stop_machine; every other command is
//   accepted and ignored (no command byte, no self-test replies);
// - port 0x60 (data) reads 0 (there is never a byte to read: OBF stays 0),
//   writes are ignored.
// Only the low byte of an access counts.
//
// Each instance serves one port (Port::data at 0x60, Port::command at 0x64);
// the machine maps both with kPortSize. Port 0x61 (system control port B)
// belongs to the PIT/speaker and is not modelled here.
// Threads: read()/write() and the callback run on vCPU threads under the bus
// lock; the callback must not re-enter the bus.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "hw-models/io_device.h"

namespace kvmdbg::hw {

class I8042Reset final : public IoDevice {
public:
    /// Receives a short description of how the guest asked for the reset.
    using ResetCallback = std::function<void(const std::string& reason)>;

    enum class Port {
        data,     ///< port 0x60
        command,  ///< port 0x64: status on read, command on write
    };

    static constexpr std::uint16_t kDataPort = 0x60;
    static constexpr std::uint16_t kCommandPort = 0x64;
    static constexpr std::uint64_t kPortSize = 1;
    static constexpr std::uint8_t kStatus = 0x1c;
    static constexpr std::uint8_t kPulseResetCommand = 0xfe;

    I8042Reset(Port port, ResetCallback on_reset) : port_(port), on_reset_(std::move(on_reset)) {}

    /// true for the commands that pulse the reset line (see above).
    static bool is_reset_command(std::uint8_t command);

    /// Port::command: kStatus; Port::data: 0.
    std::uint64_t read(std::uint64_t offset, unsigned size) override;
    /// Port::command with is_reset_command(): callback, stop_machine.
    /// Anything else: IoOutcome::proceed.
    IoOutcome write(std::uint64_t offset, std::uint64_t value, unsigned size) override;

private:
    Port port_;
    ResetCallback on_reset_;
};

}  // namespace kvmdbg::hw
