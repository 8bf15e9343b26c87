#include "hw-models/devices/i440fx_host_bridge.h"

#include "common/byte_order.h"

namespace kvmdbg::hw {

namespace {

constexpr std::uint8_t kCommand = 0x04;

}  // namespace

I440fxHostBridge::I440fxHostBridge() { reset(); }

void I440fxHostBridge::reset() {
    config_.fill(0);
    store_le(&config_[0x00], 0x8086, 2);
    store_le(&config_[0x02], 0x1237, 2);
    store_le(&config_[kCommand], 0x0006, 2);
    store_le(&config_[0x06], 0x0280, 2);
    config_[0x08] = 0x02;
    store_le(&config_[0x09], 0x060000, 3);
    store_le(&config_[0x2c], 0x1af4, 2);
    store_le(&config_[0x2e], 0x1100, 2);
    config_[kSmram] = 0x02;
}

bool I440fxHostBridge::writable(std::uint8_t offset) const {
    return offset == kCommand || offset == kCommand + 1 || (offset >= kPam0 && offset < kPam0 + kPamCount) ||
           offset == kSmram;
}

std::uint32_t I440fxHostBridge::config_read(std::uint8_t offset, unsigned size) {
    return static_cast<std::uint32_t>(load_le(&config_[offset], size));
}

void I440fxHostBridge::config_write(std::uint8_t offset, std::uint32_t value, unsigned size) {
    for (unsigned i = 0; i < size; ++i) {
        auto at = static_cast<std::uint8_t>(offset + i);
        if (writable(at)) {
            config_[at] = static_cast<std::uint8_t>(value >> (8 * i));
        }
    }
}

}  // namespace kvmdbg::hw
