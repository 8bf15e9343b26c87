#include "hw-models/devices/pci_host_conf1.h"

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

}  // namespace kvmdbg::hw
