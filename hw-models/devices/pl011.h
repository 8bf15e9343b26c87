// Pl011: an Arm PrimeCell UART (PL011), the `-M virt` serial port, enough
// for Linux's amba-pl011 driver, its earlycon and simple firmware.
//
// Reference: ARM DDI 0183G, "PrimeCell UART (PL011) Technical Reference
// Manual" r1p5, chapter 3 "Programmers Model" (3.2 summary, 3.3 register
// descriptions). QEMU's hw/char/pl011.c is the behavioural model where the
// manual depends on timing; the ID registers are QEMU's `pl011_id_arm`.
//
// Register map (32-bit registers, offsets from the mapped base 0x09000000):
//
//   off    name      reset   access
//   -----  --------  ------  ------------------------------------------------
//   0x000  UARTDR    -       RW  data: write transmits, read pops RX + errors
//   0x004  UARTRSR   0       R   receive status / W UARTECR clears it
//   0x018  UARTFR    0x90    R   flags (TXFE | RXFE after reset)
//   0x020  UARTILPR  0       RW  IrDA low-power counter (stored only)
//   0x024  UARTIBRD  0       RW  integer baud divisor, 16 bits
//   0x028  UARTFBRD  0       RW  fractional baud divisor, 6 bits
//   0x02c  UARTLCR_H 0       RW  line control, 8 bits
//   0x030  UARTCR    0x300   RW  control, 16 bits (TXE | RXE after reset)
//   0x034  UARTIFLS  0x12    RW  FIFO trigger levels, 6 bits
//   0x038  UARTIMSC  0       RW  interrupt mask set/clear, 11 bits
//   0x03c  UARTRIS   0       R   raw interrupt status
//   0x040  UARTMIS   0       R   RIS & IMSC
//   0x044  UARTICR   -       W   write 1s to clear RIS bits
//   0x048  UARTDMACR 0       RW  DMA control, 3 bits (stored only; no DMA)
//   0xfe0  PeriphID0..3 = 0x11 0x10 0x14 0x00  (part 0x011, designer 0x41 'A', rev 1)
//   0xff0  PCellID0..3  = 0x0d 0xf0 0x05 0xb1
//   other offsets read 0 and ignore writes.
//
// Bit layouts:
//
//   DR     11 OE | 10 BE | 9 PE | 8 FE | 7..0 data       (read)
//   RSR     3 OE | 2 BE | 1 PE | 0 FE
//   FR      7 TXFE | 6 RXFF | 5 TXFF | 4 RXFE | 3 BUSY | 2 DCD | 1 DSR | 0 CTS
//   LCR_H   7 SPS | 6..5 WLEN | 4 FEN | 3 STP2 | 2 EPS | 1 PEN | 0 BRK
//   CR     15 CTSEn | 14 RTSEn | 13 Out2 | 12 Out1 | 11 RTS | 10 DTR
//          | 9 RXE | 8 TXE | 7 LBE | 2 SIRLP | 1 SIREN | 0 UARTEN
//   IFLS    5..3 RXIFLSEL | 2..0 TXIFLSEL  (0: 1/8, 1: 1/4, 2: 1/2, 3: 3/4, 4: 7/8)
//   IMSC/RIS/MIS/ICR
//          10 OE | 9 BE | 8 PE | 7 FE | 6 RT | 5 TX | 4 RX | 3 DSR | 2 DCD | 1 CTS | 0 RI
//
// Model choices (where the chip depends on time):
// - Transmission is instantaneous: a DR write goes straight to the
//   CharBackend, so FR.TXFE reads 1, FR.TXFF and FR.BUSY read 0, and the TX
//   FIFO passes its trigger level on every write: RIS.TX is set by each DR
//   write (TRM 3.4.3 "UARTTXINTR") and cleared by ICR.TX. It is not set at
//   reset (the FIFO never crossed the level), as QEMU.
// - Receive: push_input() delivers a burst of bytes into the 16-entry FIFO
//   (a 1-entry holding register when LCR_H.FEN is 0); the line is idle
//   after it. RIS.RX is set while the FIFO holds at least the RX trigger
//   level (IFLS.RXIFLSEL of 16 entries: 2, 4, 8, 12, 14; 1 with FEN 0);
//   below it, while data remain, the receive timeout RIS.RT is set at once
//   (the line is idle, so the 32-bit-period timeout has always elapsed).
//   Reading DR re-evaluates both; an empty FIFO clears both; ICR clears
//   them until the next push or DR read re-asserts them.
// - A byte arriving at a full FIFO is dropped and sets the overrun error
//   (RSR.OE, RIS.OE, and DR.OE on the next byte read); rx_room() lets the
//   caller throttle instead, as QEMU's pl011_can_receive().
// - Reading DR with nothing received returns 0 (FR.RXFE tells firmware).
// - UARTEN/TXE/RXE are stored but not enforced: data written to a disabled
//   UART is still sent and input still received (QEMU only logs these),
//   since earlycon and firmware often skip the enable.
// - Loopback (CR.LBE): transmitted bytes go to the RX FIFO instead of the
//   backend (Linux's old startup provoked a TX interrupt this way, and its
//   byte must not reach the console); push_input() bytes are dropped.
// - Modem inputs read as a connected line: FR.CTS, DSR and DCD set (RI
//   clear); the modem-status interrupts are never raised.
// - Accesses: any width 1..4 (Linux uses 16-bit readw/writew, earlycon 8-
//   or 32-bit). A read returns the 32-bit register at (offset & ~3) shifted
//   right by 8 * (offset & 3) and truncated to `size`; only a read at the
//   register's own offset has side effects (the DR pop). Writes at offsets
//   not 4-aligned are ignored; writes of 8 bytes use the low 32 bits.
// - The interrupt line (UARTINTR, the OR of MIS) is reported through the
//   callback whenever its level changes.
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

class Pl011 final : public IoDevice {
public:
    /// Called with the new level whenever the interrupt line changes.
    using IrqLine = std::function<void(bool level)>;

    static constexpr std::uint64_t kRegionSize = 0x1000;  ///< bytes to map
    static constexpr std::size_t kFifoSize = 16;

    // Register offsets.
    static constexpr std::uint64_t kDr = 0x000;
    static constexpr std::uint64_t kRsr = 0x004;
    static constexpr std::uint64_t kFr = 0x018;
    static constexpr std::uint64_t kIlpr = 0x020;
    static constexpr std::uint64_t kIbrd = 0x024;
    static constexpr std::uint64_t kFbrd = 0x028;
    static constexpr std::uint64_t kLcrH = 0x02c;
    static constexpr std::uint64_t kCr = 0x030;
    static constexpr std::uint64_t kIfls = 0x034;
    static constexpr std::uint64_t kImsc = 0x038;
    static constexpr std::uint64_t kRis = 0x03c;
    static constexpr std::uint64_t kMis = 0x040;
    static constexpr std::uint64_t kIcr = 0x044;
    static constexpr std::uint64_t kDmacr = 0x048;
    static constexpr std::uint64_t kPeriphId0 = 0xfe0;

    // UARTFR bits.
    static constexpr std::uint32_t kFrCts = 1u << 0;
    static constexpr std::uint32_t kFrDsr = 1u << 1;
    static constexpr std::uint32_t kFrDcd = 1u << 2;
    static constexpr std::uint32_t kFrBusy = 1u << 3;
    static constexpr std::uint32_t kFrRxfe = 1u << 4;
    static constexpr std::uint32_t kFrTxff = 1u << 5;
    static constexpr std::uint32_t kFrRxff = 1u << 6;
    static constexpr std::uint32_t kFrTxfe = 1u << 7;

    // Interrupt bits (IMSC, RIS, MIS, ICR).
    static constexpr std::uint32_t kIntRx = 1u << 4;
    static constexpr std::uint32_t kIntTx = 1u << 5;
    static constexpr std::uint32_t kIntRt = 1u << 6;
    static constexpr std::uint32_t kIntOe = 1u << 10;
    static constexpr std::uint32_t kIntAll = 0x7ff;

    static constexpr std::uint32_t kLcrFen = 1u << 4;
    static constexpr std::uint32_t kCrUarten = 1u << 0;
    static constexpr std::uint32_t kCrLbe = 1u << 7;
    static constexpr std::uint32_t kCrTxe = 1u << 8;
    static constexpr std::uint32_t kCrRxe = 1u << 9;

    /// `backend` receives transmitted bytes (must not be null); `irq` may be
    /// empty when no interrupt is wired. Starts in the reset state, line low.
    Pl011(std::shared_ptr<CharBackend> backend, IrqLine irq);

    std::uint64_t read(std::uint64_t offset, unsigned size) override;
    /// Always returns IoOutcome::proceed.
    IoOutcome write(std::uint64_t offset, std::uint64_t value, unsigned size) override;
    std::string state_text() const override;
    /// A read without its side effects: DR gives the next received byte
    /// without popping it.
    std::optional<std::uint64_t> peek(std::uint64_t offset, unsigned size) override;

    /// Bytes arriving on UARTRXD, in order (see the model choices above).
    void push_input(std::span<const std::uint8_t> bytes);

    /// How many bytes push_input() can take now without an overrun (0 in
    /// loopback mode).
    std::size_t rx_room() const;

    /// Current level of UARTINTR.
    bool irq_level() const { return irq_level_; }

    /// Power-on reset values (table above); lowers the line through the
    /// callback if it was high.
    void reset();

private:
    std::uint32_t read_register(std::uint64_t reg, bool side_effects);
    void write_register(std::uint64_t reg, std::uint32_t value);
    void transmit(std::uint8_t byte);
    void receive(std::uint8_t byte);
    std::uint32_t pop_rx();
    std::size_t rx_capacity() const;
    std::size_t rx_trigger() const;
    void update_rx_status();
    std::uint32_t flags() const;
    void update_irq();

    std::shared_ptr<CharBackend> backend_;
    IrqLine irq_;

    std::uint32_t rsr_ = 0;
    std::uint32_t ilpr_ = 0;
    std::uint32_t ibrd_ = 0;
    std::uint32_t fbrd_ = 0;
    std::uint32_t lcr_h_ = 0;
    std::uint32_t cr_ = 0x300;
    std::uint32_t ifls_ = 0x12;
    std::uint32_t imsc_ = 0;
    std::uint32_t ris_ = 0;
    std::uint32_t dmacr_ = 0;
    bool irq_level_ = false;

    // Each entry: data byte in bits 7:0, its error flags (DR bits 11:8) above.
    std::array<std::uint16_t, kFifoSize> rx_{};
    std::size_t rx_head_ = 0;
    std::size_t rx_count_ = 0;
    bool overrun_pending_ = false;  // OE goes with the next byte that is read
};

}  // namespace kvmdbg::hw
