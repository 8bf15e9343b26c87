#include "hw-models/devices/pc_testdev.h"

#include <algorithm>

#include "common/byte_order.h"

namespace kvmdbg::hw {

// 0xe0 and 0xe8: bytes [offset, offset + size) of the data register.
class PcTestdev::Ioport final : public IoDevice {
public:
    explicit Ioport(std::shared_ptr<State> s) : s_(std::move(s)) {}
    std::uint64_t read(std::uint64_t offset, unsigned size) override {
        std::uint64_t value = 0;
        for (unsigned i = 0; i < size && offset + i < kRegisterSize; ++i) {
            value |= std::uint64_t{(s_->data >> (8 * (offset + i))) & 0xff} << (8 * i);
        }
        return value;
    }
    IoOutcome write(std::uint64_t offset, std::uint64_t value, unsigned size) override {
        for (unsigned i = 0; i < size && offset + i < kRegisterSize; ++i) {
            unsigned shift = 8 * static_cast<unsigned>(offset + i);
            s_->data = (s_->data & ~(0xffu << shift)) |
                       static_cast<std::uint32_t>(((value >> (8 * i)) & 0xff) << shift);
        }
        return IoOutcome::proceed;
    }

private:
    std::shared_ptr<State> s_;
};

class PcTestdev::Flush final : public IoDevice {
public:
    std::uint64_t read(std::uint64_t, unsigned) override { return 0; }
    IoOutcome write(std::uint64_t, std::uint64_t, unsigned) override { return IoOutcome::proceed; }
};

// 0x2000: one interrupt line per port. QEMU takes a wider access as byte
// accesses at consecutive ports (valid.max_access_size 1), in address order.
class PcTestdev::Irq final : public IoDevice {
public:
    explicit Irq(std::shared_ptr<State> s) : s_(std::move(s)) {}
    std::uint64_t read(std::uint64_t offset, unsigned size) override {
        std::uint64_t value = 0;
        for (unsigned i = 0; i < size; ++i) {
            if (offset + i >= kIrqCount) {  // past the lines: an unassigned port reads 0xff
                value |= std::uint64_t{0xff} << (8 * i);
            }
        }
        return value;
    }
    IoOutcome write(std::uint64_t offset, std::uint64_t value, unsigned size) override {
        for (unsigned i = 0; i < size && offset + i < kIrqCount; ++i) {
            if (s_->irq) {
                s_->irq(static_cast<std::uint32_t>(offset + i), ((value >> (8 * i)) & 0xff) != 0);
            }
        }
        return IoOutcome::proceed;
    }

private:
    std::shared_ptr<State> s_;
};

class PcTestdev::Iomem final : public IoDevice {
public:
    explicit Iomem(std::shared_ptr<State> s) : s_(std::move(s)) {}
    std::uint64_t read(std::uint64_t offset, unsigned size) override {
        if (offset >= kIomemSize) {
            return 0;
        }
        std::size_t n = std::min<std::size_t>(size, kIomemSize - offset);
        return load_le(s_->iomem.data() + offset, n);
    }
    IoOutcome write(std::uint64_t offset, std::uint64_t value, unsigned size) override {
        if (offset < kIomemSize) {
            store_le(s_->iomem.data() + offset, value, std::min<std::size_t>(size, kIomemSize - offset));
        }
        return IoOutcome::proceed;
    }
    std::optional<std::uint64_t> peek(std::uint64_t offset, unsigned size) override { return read(offset, size); }

private:
    std::shared_ptr<State> s_;
};

PcTestdev::PcTestdev(IrqLine irq) : state_(std::make_shared<State>()) {
    state_->irq = std::move(irq);
    ioport_ = std::make_shared<Ioport>(state_);
    ioport_byte_ = std::make_shared<Ioport>(state_);
    flush_ = std::make_shared<Flush>();
    irq_ = std::make_shared<Irq>(state_);
    iomem_ = std::make_shared<Iomem>(state_);
}

}  // namespace kvmdbg::hw
