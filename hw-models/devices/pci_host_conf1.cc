#include "hw-models/devices/pci_host_conf1.h"

#include <cstdio>

#include "hw-models/devices/register_text.h"

#include <algorithm>
#include <cerrno>
#include <string>

#include "common/byte_order.h"

namespace kvmdbg::hw {

namespace {

constexpr std::uint32_t kEnable = 1u << 31;
constexpr std::uint64_t kDataOffset = 4;

}  // namespace

Status PciHostConf1::attach(std::uint8_t devfn, std::shared_ptr<PciFunction> function) {
    if (!functions_.emplace(devfn, std::move(function)).second) {
        return make_error(EEXIST,
                          "PCI 00:" + std::to_string(devfn >> 3) + "." + std::to_string(devfn & 7) + " is taken");
    }
    return ok_status();
}

PciFunction* PciHostConf1::selected(std::uint8_t& reg) const {
    if ((address_ & kEnable) == 0 || ((address_ >> 16) & 0xff) != 0) {
        return nullptr;
    }
    auto it = functions_.find(static_cast<std::uint8_t>(address_ >> 8));
    if (it == functions_.end()) {
        return nullptr;
    }
    reg = static_cast<std::uint8_t>(address_ & 0xfc);
    return it->second.get();
}

std::uint64_t PciHostConf1::read(std::uint64_t offset, unsigned size) {
    if (offset < kDataOffset) {
        return offset == 0 && size == 4 ? address_ : low_bytes_mask(size);
    }
    std::uint8_t reg = 0;
    PciFunction* f = selected(reg);
    unsigned byte = static_cast<unsigned>(offset - kDataOffset);
    unsigned n = std::min(size, 4 - byte);
    if (f == nullptr) {
        return low_bytes_mask(size);
    }
    std::uint64_t value = f->config_read(static_cast<std::uint8_t>(reg + byte), n);
    return n < size ? value | (low_bytes_mask(size) & ~low_bytes_mask(n)) : value;
}

IoOutcome PciHostConf1::write(std::uint64_t offset, std::uint64_t value, unsigned size) {
    if (offset < kDataOffset) {
        if (offset == 0 && size == 4) {
            address_ = static_cast<std::uint32_t>(value);
        }
        return IoOutcome::proceed;
    }
    std::uint8_t reg = 0;
    if (PciFunction* f = selected(reg)) {
        unsigned byte = static_cast<unsigned>(offset - kDataOffset);
        unsigned n = std::min(size, 4 - byte);
        f->config_write(static_cast<std::uint8_t>(reg + byte), static_cast<std::uint32_t>(value & low_bytes_mask(n)),
                        n);
    }
    return IoOutcome::proceed;
}

// CONFIG_ADDRESS, then each function's vendor/device ID and the first 0x100
// bytes of its configuration space (read through config_read, which has no
// side effects for the functions pc-lite has).
std::string PciHostConf1::state_text() const {
    std::string out = register_line("CONFIG_ADDRESS", address_, 4);
    char buf[64];
    for (const auto& [devfn, function] : functions_) {
        std::snprintf(buf, sizeof buf, "00:%02x.%u %04x:%04x\n", devfn >> 3, devfn & 7, function->config_read(0, 2),
                      function->config_read(2, 2));
        out += buf;
        for (unsigned row = 0; row < 0x100; row += 16) {
            std::snprintf(buf, sizeof buf, "  %02x:", row);
            out += buf;
            for (unsigned i = row; i < row + 16; ++i) {
                std::snprintf(buf, sizeof buf, " %02x", function->config_read(static_cast<std::uint8_t>(i), 1));
                out += buf;
            }
            out += "\n";
        }
    }
    return out;
}

}  // namespace kvmdbg::hw
