// Uart16550: a National Semiconductor PC16550D-compatible UART (QEMU's
// `serial` / `isa-serial`), the PC's COM port.
//
// Reference: National Semiconductor, "PC16550D Universal Asynchronous
// Receiver/Transmitter with FIFOs", June 1995 (section 8, "Registers";
// Table II "Summary of Registers"; Table IV "Interrupt Control Functions").
// QEMU's hw/char/serial.c is the behavioural model for what the datasheet
// leaves to timing.
//
// Register map (8 byte-wide registers from the mapped base, e.g. 0x3f8):
//
//   off  DLAB  read                           write
//   ---  ----  -----------------------------  -----------------------------
//    0    0    RBR receiver buffer            THR transmitter holding
//    0    1    DLL divisor latch, low byte    DLL
//    1    0    IER interrupt enable           IER (bits 3:0 only)
//    1    1    DLM divisor latch, high byte   DLM
//    2    x    IIR interrupt identification   FCR FIFO control
//    3    x    LCR line control               LCR
//    4    x    MCR modem control (bits 4:0)   MCR
//    5    x    LSR line status                (ignored)
//    6    x    MSR modem status               (ignored)
//    7    x    SCR scratch                    SCR
//
// Bit layouts:
//
//   IER  7..4: 0 | 3 EDSSI modem status | 2 ELSI line status
//              | 1 ETBEI THR empty | 0 ERBFI received data
//   IIR  7..6: 11 when FIFOs enabled | 5..4: 0 | 3..1 interrupt id | 0 none pending
//   FCR  7..6 RX trigger (1/4/8/14 bytes) | 3 DMA mode | 2 clear TX FIFO
//        | 1 clear RX FIFO | 0 FIFO enable
//   LCR  7 DLAB | 6 break | 5 stick parity | 4 even parity | 3 parity enable
//        | 2 stop bits | 1..0 word length
//   MCR  4 LOOP | 3 OUT2 | 2 OUT1 | 1 RTS | 0 DTR
//   LSR  7 RX FIFO error | 6 TEMT | 5 THRE | 4 BI | 3 FE | 2 PE | 1 OE | 0 DR
//   MSR  7 DCD | 6 RI | 5 DSR | 4 CTS | 3 DDCD | 2 TERI | 1 DDSR | 0 DCTS
//
// Interrupt priorities (datasheet Table IV), highest first, as IIR reports them:
//
//   IIR   source                         cleared by
//   0x06  receiver line status (OE...)   reading LSR
//   0x04  received data at trigger level reading RBR below the trigger level
//   0x0c  character timeout (FIFO mode)  reading RBR
//   0x02  THR empty                      reading IIR (when it is the source)
//                                        or writing THR
//   0x00  modem status (MSR deltas)      reading MSR
//   0x01  nothing pending
//
// Model choices (where a real chip depends on time):
// - Transmission is instantaneous: a THR write goes straight to the
//   CharBackend, so LSR.THRE and LSR.TEMT always read 1 and the THR-empty
//   interrupt is raised again right after each THR write.
// - Receive: push_input() delivers a burst of bytes; the line is idle after
//   it. In FIFO mode a FIFO holding fewer bytes than the trigger level
//   therefore reports the character timeout (0x0c) at once instead of four
//   character times later. A full 16-byte FIFO drops further bytes and sets
//   LSR.OE; in non-FIFO mode a new byte overwrites an unread one and sets
//   LSR.OE (datasheet LSR bit 1). rx_room() lets the caller throttle instead,
//   as QEMU's serial_can_receive() does.
// - Reading RBR with nothing received returns the last byte received.
// - Modem inputs outside loopback read as a connected modem: DCD, DSR, CTS
//   set, RI clear (as QEMU). In loopback (MCR.LOOP) DTR->DSR, RTS->CTS,
//   OUT1->RI, OUT2->DCD, delta bits track the changes, transmitted bytes are
//   received and push_input() bytes are dropped (SIN is disconnected).
// - The interrupt line is the PC's: the chip's INTR output passes through a
//   buffer enabled by the OUT2 pin, so the line is high only when an enabled
//   interrupt is pending, MCR.OUT2 is 1 and MCR.LOOP is 0 (loopback forces
//   the OUT pins inactive, datasheet MCR bit 4). Reset clears MCR (datasheet
//   Table III), so a guest must set OUT2 to get interrupts; QEMU instead
//   resets MCR to OUT2 and never gates the line.
// - Accesses wider than a byte are split into byte accesses at consecutive
//   offsets, lowest first (QEMU: impl.max_access_size = 1); bytes past
//   offset 7 read 0xff and drop writes.
//
// Threads: every member is called with the bus lock held (IoBus::dispatch on
// vCPU threads, IoBus::with_lock from the main loop), so there is no locking
// here. The interrupt-line callback runs in that context and must not
// re-enter the bus.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "hw-models/char_backend.h"
#include "hw-models/io_device.h"

namespace kvmdbg::hw {

class Uart16550 final : public IoDevice {
public:
    /// Called with the new level whenever the interrupt line changes.
    using IrqLine = std::function<void(bool level)>;

    static constexpr std::uint64_t kRegisterCount = 8;  ///< bytes to map
    static constexpr std::uint64_t kCom1Base = 0x3f8;   ///< PC COM1 port and IRQ
    static constexpr unsigned kCom1Irq = 4;
    static constexpr std::size_t kFifoSize = 16;

    /// `backend` receives transmitted bytes (must not be null); `irq` may be
    /// empty when the machine wires no interrupt. Starts in the reset state
    /// with the line low.
    Uart16550(std::shared_ptr<CharBackend> backend, IrqLine irq);

    std::uint64_t read(std::uint64_t offset, unsigned size) override;
    /// Always returns IoOutcome::proceed.
    IoOutcome write(std::uint64_t offset, std::uint64_t value, unsigned size) override;
    std::string state_text() const override;

    /// Bytes arriving on the serial line (SIN), in order. Bytes that do not
    /// fit overrun as described above; in loopback mode all are dropped.
    void push_input(std::span<const std::uint8_t> bytes);

    /// How many bytes push_input() can take now without an overrun: free
    /// FIFO slots (FIFO mode), 1 or 0 (non-FIFO mode), 0 in loopback mode.
    std::size_t rx_room() const;

    /// Current level of the interrupt line.
    bool irq_level() const { return irq_level_; }

    /// Master reset (datasheet Table III); the divisor is set to 12 (9600
    /// baud from the PC's 1.8432 MHz clock) and SCR to 0 as QEMU does.
    /// Lowers the line through the callback if it was high.
    void reset();

private:
    std::uint8_t read_register(unsigned reg);
    void write_register(unsigned reg, std::uint8_t value);
    void write_fcr(std::uint8_t value);
    void write_mcr(std::uint8_t value);
    void transmit(std::uint8_t byte);
    void receive(std::uint8_t byte);
    std::uint8_t pop_rx();
    void clear_rx();
    bool fifo_enabled() const;
    std::size_t rx_capacity() const;
    std::uint8_t modem_inputs() const;
    void update_modem_status();
    std::uint8_t lsr() const;
    std::uint8_t interrupt_id() const;
    void update_irq();

    std::shared_ptr<CharBackend> backend_;
    IrqLine irq_;

    std::uint8_t ier_ = 0;
    std::uint8_t fcr_ = 0;  // FIFO enable, DMA mode and trigger bits as last programmed
    std::uint8_t lcr_ = 0;
    std::uint8_t mcr_ = 0;
    std::uint8_t lsr_errors_ = 0;   // OE/PE/FE/BI until LSR is read
    std::uint8_t msr_deltas_ = 0;   // MSR bits 3:0 until MSR is read
    std::uint8_t modem_lines_ = 0;  // MSR bits 7:4 at the last update
    std::uint8_t scr_ = 0;
    std::uint16_t divisor_ = 12;
    std::uint8_t rbr_ = 0;  // last byte handed to the guest
    bool thr_ipending_ = false;
    bool irq_level_ = false;

    std::array<std::uint8_t, kFifoSize> rx_{};
    std::size_t rx_head_ = 0;
    std::size_t rx_count_ = 0;
};

}  // namespace kvmdbg::hw
