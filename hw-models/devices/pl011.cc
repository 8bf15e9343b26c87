#include "hw-models/devices/pl011.h"

#include "hw-models/devices/register_text.h"

#include <algorithm>
#include <utility>

#include "common/byte_order.h"

namespace kvmdbg::hw {

namespace {

// QEMU's pl011_id_arm: PeriphID0..3 then PCellID0..3.
constexpr std::uint8_t kIds[8] = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

constexpr std::uint32_t kDrOe = 1u << 11;
constexpr std::uint32_t kRsrOe = 1u << 3;

// The `size` bytes at `offset` of a 32-bit register holding `value` (a
// read at offset & 3 == n sees the register shifted right by n bytes).
std::uint64_t lane(std::uint32_t value, std::uint64_t offset, unsigned size) {
    return (value >> ((offset & 3) * 8)) & low_bytes_mask(std::min(size, 4u));
}

}  // namespace

Pl011::Pl011(std::shared_ptr<CharBackend> backend, IrqLine irq) : backend_(std::move(backend)), irq_(std::move(irq)) {}

void Pl011::reset() {
    rsr_ = 0;
    ilpr_ = 0;
    ibrd_ = 0;
    fbrd_ = 0;
    lcr_h_ = 0;
    cr_ = 0x300;
    ifls_ = 0x12;
    imsc_ = 0;
    ris_ = 0;
    dmacr_ = 0;
    rx_head_ = 0;
    rx_count_ = 0;
    overrun_pending_ = false;
    update_irq();
}

std::size_t Pl011::rx_capacity() const { return (lcr_h_ & kLcrFen) ? kFifoSize : 1; }

std::size_t Pl011::rx_trigger() const {
    if (!(lcr_h_ & kLcrFen)) {
        return 1;
    }
    // TRM 3.3.13: 1/8, 1/4, 1/2, 3/4, 7/8 full; 101-111 reserved (taken as 7/8).
    static constexpr std::size_t kLevels[8] = {2, 4, 8, 12, 14, 14, 14, 14};
    return kLevels[(ifls_ >> 3) & 7];
}

std::size_t Pl011::rx_room() const {
    if (cr_ & kCrLbe) {
        return 0;
    }
    return rx_capacity() - rx_count_;
}

std::uint32_t Pl011::flags() const {
    std::uint32_t fr = kFrTxfe | kFrCts | kFrDsr | kFrDcd;
    if (rx_count_ == 0) {
        fr |= kFrRxfe;
    }
    if (rx_count_ >= rx_capacity()) {
        fr |= kFrRxff;
    }
    return fr;
}

void Pl011::update_rx_status() {
    ris_ &= ~(kIntRx | kIntRt);
    if (rx_count_ >= rx_trigger()) {
        ris_ |= kIntRx;
    } else if (rx_count_ > 0) {
        ris_ |= kIntRt;  // idle line: the receive timeout has elapsed
    }
}

void Pl011::receive(std::uint8_t byte) {
    if (rx_count_ >= rx_capacity()) {
        rsr_ |= kRsrOe;
        ris_ |= kIntOe;
        overrun_pending_ = true;
        return;
    }
    // Switching FEN off with bytes queued (TRM: the FIFO is flushed) could
    // leave more than one entry; the capacity check above still holds.
    rx_[(rx_head_ + rx_count_) % kFifoSize] = byte;
    ++rx_count_;
}

std::uint32_t Pl011::pop_rx() {
    if (rx_count_ == 0) {
        return 0;
    }
    std::uint32_t value = rx_[rx_head_];
    rx_head_ = (rx_head_ + 1) % kFifoSize;
    --rx_count_;
    if (overrun_pending_) {
        value |= kDrOe;
        overrun_pending_ = false;
    }
    update_rx_status();
    return value;
}

void Pl011::push_input(std::span<const std::uint8_t> bytes) {
    if (cr_ & kCrLbe) {
        return;
    }
    for (std::uint8_t b : bytes) {
        receive(b);
    }
    update_rx_status();
    update_irq();
}

void Pl011::transmit(std::uint8_t byte) {
    if (cr_ & kCrLbe) {
        receive(byte);
        update_rx_status();
    } else {
        backend_->write(std::span<const std::uint8_t>(&byte, 1));
    }
    ris_ |= kIntTx;
}

std::uint32_t Pl011::read_register(std::uint64_t reg, bool side_effects) {
    switch (reg) {
    case kDr:
        if (!side_effects) {
            return rx_count_ ? rx_[rx_head_] : 0;
        }
        return pop_rx();
    case kRsr: return rsr_;
    case kFr: return flags();
    case kIlpr: return ilpr_;
    case kIbrd: return ibrd_;
    case kFbrd: return fbrd_;
    case kLcrH: return lcr_h_;
    case kCr: return cr_;
    case kIfls: return ifls_;
    case kImsc: return imsc_;
    case kRis: return ris_;
    case kMis: return ris_ & imsc_;
    case kDmacr: return dmacr_;
    default: break;
    }
    if (reg >= kPeriphId0 && reg < kPeriphId0 + 0x20) {
        return kIds[(reg - kPeriphId0) / 4];
    }
    return 0;  // ICR is write-only; reserved offsets read 0
}

void Pl011::write_register(std::uint64_t reg, std::uint32_t value) {
    switch (reg) {
    case kDr: transmit(static_cast<std::uint8_t>(value)); break;
    case kRsr:  // UARTECR: any write clears the error bits
        rsr_ = 0;
        break;
    case kIlpr: ilpr_ = value & 0xff; break;
    case kIbrd: ibrd_ = value & 0xffff; break;
    case kFbrd: fbrd_ = value & 0x3f; break;
    case kLcrH: {
        std::uint32_t old = lcr_h_;
        lcr_h_ = value & 0xff;
        if ((old ^ lcr_h_) & kLcrFen) {
            // TRM 3.3.7: changing FEN flushes the FIFOs.
            rx_head_ = 0;
            rx_count_ = 0;
            overrun_pending_ = false;
        }
        update_rx_status();
        break;
    }
    case kCr:
        cr_ = value & 0xff87;  // bits 6:3 are reserved
        break;
    case kIfls:
        ifls_ = value & 0x3f;
        update_rx_status();
        break;
    case kImsc: imsc_ = value & kIntAll; break;
    case kIcr: ris_ &= ~(value & kIntAll); break;
    case kDmacr: dmacr_ = value & 0x7; break;
    default: break;  // read-only and reserved registers ignore writes
    }
}

std::uint64_t Pl011::read(std::uint64_t offset, unsigned size) {
    // Only a read of the register's first byte has side effects.
    std::uint64_t value = lane(read_register(offset & ~std::uint64_t{3}, (offset & 3) == 0), offset, size);
    update_irq();
    return value;
}

std::optional<std::uint64_t> Pl011::peek(std::uint64_t offset, unsigned size) {
    return lane(read_register(offset & ~std::uint64_t{3}, false), offset, size);
}

IoOutcome Pl011::write(std::uint64_t offset, std::uint64_t value, unsigned size) {
    if ((offset & 3) != 0) {
        return IoOutcome::proceed;
    }
    std::uint64_t mask = size >= 4 ? 0xffffffffull : (1ull << (8 * size)) - 1;
    write_register(offset, static_cast<std::uint32_t>(value & mask));
    update_irq();
    return IoOutcome::proceed;
}

void Pl011::update_irq() {
    bool level = (ris_ & imsc_) != 0;
    if (level != irq_level_) {
        irq_level_ = level;
        if (irq_) {
            irq_(level);
        }
    }
}

std::string Pl011::state_text() const {
    std::string out = register_line("RSR", rsr_, 2) + register_line("FR", flags(), 2);
    out += register_line("ILPR", ilpr_, 2) + register_line("IBRD", ibrd_, 2) + register_line("FBRD", fbrd_, 2);
    out += register_line("LCR_H", lcr_h_, 2) + register_line("CR", cr_, 2) + register_line("IFLS", ifls_, 2);
    out += register_line("IMSC", imsc_, 2) + register_line("RIS", ris_, 2) + register_line("MIS", ris_ & imsc_, 2);
    out += register_line("DMACR", dmacr_, 2) + register_line("rx FIFO", rx_count_, 1);
    return out + register_line("irq", irq_level_ ? 1 : 0, 1);
}

}  // namespace kvmdbg::hw
