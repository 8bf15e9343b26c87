#include "hw-models/devices/uart16550.h"

#include "hw-models/devices/register_text.h"

#include <utility>

namespace kvmdbg::hw {

namespace {

enum Reg : unsigned { kRbrThr = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7 };

constexpr std::uint8_t kIerRx = 0x01;
constexpr std::uint8_t kIerThre = 0x02;
constexpr std::uint8_t kIerLineStatus = 0x04;
constexpr std::uint8_t kIerModemStatus = 0x08;

constexpr std::uint8_t kIirNone = 0x01;
constexpr std::uint8_t kIirModemStatus = 0x00;
constexpr std::uint8_t kIirThre = 0x02;
constexpr std::uint8_t kIirRxData = 0x04;
constexpr std::uint8_t kIirLineStatus = 0x06;
constexpr std::uint8_t kIirTimeout = 0x0c;
constexpr std::uint8_t kIirFifoEnabled = 0xc0;

constexpr std::uint8_t kFcrEnable = 0x01;
constexpr std::uint8_t kFcrClearRx = 0x02;
constexpr std::uint8_t kFcrKeptBits = 0xc9;  // trigger level, DMA mode, enable

constexpr std::uint8_t kLcrDlab = 0x80;

constexpr std::uint8_t kMcrDtr = 0x01;
constexpr std::uint8_t kMcrRts = 0x02;
constexpr std::uint8_t kMcrOut1 = 0x04;
constexpr std::uint8_t kMcrOut2 = 0x08;
constexpr std::uint8_t kMcrLoop = 0x10;
constexpr std::uint8_t kMcrBits = 0x1f;

constexpr std::uint8_t kLsrDr = 0x01;
constexpr std::uint8_t kLsrOe = 0x02;
constexpr std::uint8_t kLsrThre = 0x20;
constexpr std::uint8_t kLsrTemt = 0x40;

constexpr std::uint8_t kMsrCts = 0x10;
constexpr std::uint8_t kMsrDsr = 0x20;
constexpr std::uint8_t kMsrRi = 0x40;
constexpr std::uint8_t kMsrDcd = 0x80;
constexpr std::uint8_t kMsrTeri = 0x04;

}  // namespace

Uart16550::Uart16550(std::shared_ptr<CharBackend> backend, IrqLine irq)
    : backend_(std::move(backend)), irq_(std::move(irq)) {
    reset();
}

void Uart16550::reset() {
    ier_ = 0;
    fcr_ = 0;
    lcr_ = 0;
    mcr_ = 0;
    lsr_errors_ = 0;
    msr_deltas_ = 0;
    modem_lines_ = modem_inputs();
    scr_ = 0;
    divisor_ = 12;
    rbr_ = 0;
    thr_ipending_ = false;
    clear_rx();
    update_irq();
}

std::uint64_t Uart16550::read(std::uint64_t offset, unsigned size) {
    std::uint64_t value = 0;
    for (unsigned i = 0; i < size && i < 8; ++i) {
        std::uint8_t byte = 0xff;
        if (offset < kRegisterCount && i < kRegisterCount - offset) {
            byte = read_register(static_cast<unsigned>(offset + i));
        }
        value |= static_cast<std::uint64_t>(byte) << (8 * i);
    }
    return value;
}

IoOutcome Uart16550::write(std::uint64_t offset, std::uint64_t value, unsigned size) {
    for (unsigned i = 0; i < size && i < 8; ++i) {
        if (offset < kRegisterCount && i < kRegisterCount - offset) {
            write_register(static_cast<unsigned>(offset + i), static_cast<std::uint8_t>(value >> (8 * i)));
        }
    }
    return IoOutcome::proceed;
}

std::uint8_t Uart16550::read_register(unsigned reg) {
    switch (reg) {
    case kRbrThr:
        if (lcr_ & kLcrDlab) {
            return static_cast<std::uint8_t>(divisor_);
        }
        if (rx_count_ > 0) {
            rbr_ = pop_rx();
            update_irq();
        }
        return rbr_;
    case kIer:
        if (lcr_ & kLcrDlab) {
            return static_cast<std::uint8_t>(divisor_ >> 8);
        }
        return ier_;
    case kIirFcr: {
        std::uint8_t id = interrupt_id();
        if (id == kIirThre) {
            thr_ipending_ = false;
            update_irq();
        }
        return static_cast<std::uint8_t>(id | (fifo_enabled() ? kIirFifoEnabled : 0));
    }
    case kLcr: return lcr_;
    case kMcr: return mcr_;
    case kLsr: {
        std::uint8_t value = lsr();
        if (lsr_errors_ != 0) {
            lsr_errors_ = 0;
            update_irq();
        }
        return value;
    }
    case kMsr: {
        std::uint8_t value = static_cast<std::uint8_t>(modem_lines_ | msr_deltas_);
        if (msr_deltas_ != 0) {
            msr_deltas_ = 0;
            update_irq();
        }
        return value;
    }
    default: return scr_;
    }
}

void Uart16550::write_register(unsigned reg, std::uint8_t value) {
    switch (reg) {
    case kRbrThr:
        if (lcr_ & kLcrDlab) {
            divisor_ = static_cast<std::uint16_t>((divisor_ & 0xff00) | value);
            return;
        }
        // Drop the THR-empty interrupt, then raise it again once the byte is
        // gone: the 8259 is edge-triggered, so the guest must see a new edge.
        thr_ipending_ = false;
        update_irq();
        transmit(value);
        thr_ipending_ = true;
        update_irq();
        return;
    case kIer:
        if (lcr_ & kLcrDlab) {
            divisor_ = static_cast<std::uint16_t>((divisor_ & 0x00ff) | (value << 8));
            return;
        }
        ier_ = value & 0x0f;
        // THR is always empty: enabling ETBEI interrupts at once (as QEMU).
        thr_ipending_ = true;
        update_irq();
        return;
    case kIirFcr: write_fcr(value); return;
    case kLcr: lcr_ = value; return;
    case kMcr: write_mcr(value); return;
    case kLsr:
    case kMsr: return;  // status registers; writes are for factory test only
    default: scr_ = value; return;
    }
}

void Uart16550::write_fcr(std::uint8_t value) {
    if (!(value & kFcrEnable)) {
        // Clearing FCR0 empties the FIFOs; the other bits are not programmed.
        if (fifo_enabled()) {
            clear_rx();
        }
        fcr_ = static_cast<std::uint8_t>(fcr_ & ~kFcrEnable);
    } else {
        if (!fifo_enabled() || (value & kFcrClearRx)) {
            clear_rx();  // a mode change starts with empty FIFOs (as QEMU)
        }
        fcr_ = value & kFcrKeptBits;
    }
    update_irq();
}

void Uart16550::write_mcr(std::uint8_t value) {
    mcr_ = value & kMcrBits;
    update_modem_status();
    update_irq();
}

void Uart16550::push_input(std::span<const std::uint8_t> bytes) {
    if (mcr_ & kMcrLoop) {
        return;
    }
    for (std::uint8_t b : bytes) {
        receive(b);
    }
    update_irq();
}

std::size_t Uart16550::rx_room() const {
    if (mcr_ & kMcrLoop) {
        return 0;
    }
    return rx_capacity() - rx_count_;
}

void Uart16550::transmit(std::uint8_t byte) {
    if (mcr_ & kMcrLoop) {
        receive(byte);
        return;
    }
    backend_->write(std::span<const std::uint8_t>(&byte, 1));
}

void Uart16550::receive(std::uint8_t byte) {
    if (rx_count_ == rx_capacity()) {
        lsr_errors_ |= kLsrOe;
        if (!fifo_enabled()) {
            rx_[rx_head_] = byte;  // 16450 mode: the new byte replaces the unread one
        }
        return;
    }
    rx_[(rx_head_ + rx_count_) % kFifoSize] = byte;
    ++rx_count_;
}

std::uint8_t Uart16550::pop_rx() {
    std::uint8_t b = rx_[rx_head_];
    rx_head_ = (rx_head_ + 1) % kFifoSize;
    --rx_count_;
    return b;
}

void Uart16550::clear_rx() {
    rx_head_ = 0;
    rx_count_ = 0;
}

bool Uart16550::fifo_enabled() const { return (fcr_ & kFcrEnable) != 0; }

std::size_t Uart16550::rx_capacity() const { return fifo_enabled() ? kFifoSize : 1; }

std::uint8_t Uart16550::modem_inputs() const {
    if (!(mcr_ & kMcrLoop)) {
        return kMsrDcd | kMsrDsr | kMsrCts;
    }
    std::uint8_t lines = 0;
    lines |= (mcr_ & kMcrDtr) ? kMsrDsr : 0;
    lines |= (mcr_ & kMcrRts) ? kMsrCts : 0;
    lines |= (mcr_ & kMcrOut1) ? kMsrRi : 0;
    lines |= (mcr_ & kMcrOut2) ? kMsrDcd : 0;
    return lines;
}

void Uart16550::update_modem_status() {
    std::uint8_t lines = modem_inputs();
    std::uint8_t changed = lines ^ modem_lines_;
    // DCTS, DDSR, DDCD flag any change; TERI only RI going from 1 to 0.
    msr_deltas_ |= static_cast<std::uint8_t>((changed >> 4) & 0x0b);
    if ((modem_lines_ & kMsrRi) && !(lines & kMsrRi)) {
        msr_deltas_ |= kMsrTeri;
    }
    modem_lines_ = lines;
}

std::uint8_t Uart16550::lsr() const {
    return static_cast<std::uint8_t>((rx_count_ > 0 ? kLsrDr : 0) | lsr_errors_ | kLsrThre | kLsrTemt);
}

std::uint8_t Uart16550::interrupt_id() const {
    static constexpr std::size_t kTrigger[4] = {1, 4, 8, 14};
    if ((ier_ & kIerLineStatus) && lsr_errors_ != 0) {
        return kIirLineStatus;
    }
    if ((ier_ & kIerRx) && rx_count_ > 0) {
        if (fifo_enabled() && rx_count_ < kTrigger[fcr_ >> 6]) {
            return kIirTimeout;
        }
        return kIirRxData;
    }
    if ((ier_ & kIerThre) && thr_ipending_) {
        return kIirThre;
    }
    if ((ier_ & kIerModemStatus) && msr_deltas_ != 0) {
        return kIirModemStatus;
    }
    return kIirNone;
}

void Uart16550::update_irq() {
    bool level = interrupt_id() != kIirNone && (mcr_ & kMcrOut2) && !(mcr_ & kMcrLoop);
    if (level != irq_level_) {
        irq_level_ = level;
        if (irq_) {
            irq_(level);
        }
    }
}

std::string Uart16550::state_text() const {
    std::string out = register_line("RBR", rbr_, 1) + register_line("IER", ier_, 1);
    out += register_line("IIR", interrupt_id() | (fifo_enabled() ? kIirFifoEnabled : 0), 1);
    out += register_line("FCR", fcr_, 1) + register_line("LCR", lcr_, 1) + register_line("MCR", mcr_, 1);
    out += register_line("LSR", lsr(), 1) + register_line("MSR", modem_inputs() | msr_deltas_, 1);
    out += register_line("SCR", scr_, 1) + register_line("divisor", divisor_, 2);
    out += register_line("rx FIFO", rx_count_, 1) + register_line("irq", irq_level_ ? 1 : 0, 1);
    return out;
}

}  // namespace kvmdbg::hw
