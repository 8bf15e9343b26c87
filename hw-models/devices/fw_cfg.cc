#include "hw-models/devices/fw_cfg.h"

#include "hw-models/devices/register_text.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <utility>

#include "common/byte_order.h"

namespace kvmdbg::hw {

namespace {

// Reverses the low `size` bytes: a big-endian register's value as the guest
// wrote it (the bus hands over little-endian values).
std::uint64_t swap_bytes(std::uint64_t v, unsigned size) {
    std::uint64_t out = 0;
    for (unsigned i = 0; i < size; ++i) {
        out = (out << 8) | ((v >> (8 * i)) & 0xff);
    }
    return out;
}

// QEMU's memory_access_size(): the largest power-of-two piece at `offset`
// no longer than `remaining`, `max` and the offset's natural alignment.
unsigned piece_size(std::uint64_t offset, std::uint64_t remaining, unsigned max) {
    std::uint64_t limit = max;
    if (offset != 0) {
        limit = std::min<std::uint64_t>(limit, offset & (~offset + 1));
    }
    std::uint64_t l = std::min(remaining, limit);
    unsigned p = 1;
    while (p * 2 <= l) {
        p *= 2;
    }
    return p;
}

// Calls fn(offset, size) for each piece QEMU would dispatch of an access of
// `size` bytes at `offset` into a window of `window` bytes.
template <typename Fn>
void for_each_piece(std::uint64_t offset, unsigned size, std::uint64_t window, unsigned max, Fn fn) {
    std::uint64_t end = std::min<std::uint64_t>(offset + size, window);
    for (std::uint64_t pos = offset; pos < end;) {
        unsigned l = piece_size(pos, end - pos, max);
        fn(pos, l);
        pos += l;
    }
}

// Stores the low `size` bytes of `piece` at byte `at` of `value`.
void place(std::uint64_t& value, std::uint64_t at, std::uint64_t piece, unsigned size) {
    std::uint64_t mask = low_bytes_mask(size) << (8 * at);
    value = (value & ~mask) | ((piece << (8 * at)) & mask);
}

constexpr unsigned kIoMaxPiece = 4;   // QEMU's default valid.max_access_size
constexpr unsigned kDmaMaxPiece = 8;  // fw_cfg_dma_mem_ops.valid.max_access_size

}  // namespace

FwCfg::FwCfg(GuestRam& ram) : ram_(ram) {
    (void)items_.set(fw_cfg_key::kSignature, {'Q', 'E', 'M', 'U'});
    (void)items_.set_u32(fw_cfg_key::kId, kIdTraditional | kIdDma);
    (void)items_.set(fw_cfg_key::kUuid, std::vector<std::uint8_t>(16, 0));
}

Status FwCfg::set_machine(const FwCfgMachineInfo& info) {
    std::vector<std::uint8_t> e820(info.e820.size() * kE820EntrySize);
    for (std::size_t i = 0; i < info.e820.size(); ++i) {
        write_e820_entry(e820.data() + i * kE820EntrySize, info.e820[i]);
    }
    if (auto s = items_.add_file("etc/e820", std::move(e820)); !s) {
        return s;
    }
    if (auto s = items_.add_file("etc/boot-fail-wait", {0xff, 0xff, 0xff, 0xff}); !s) {
        return s;
    }
    (void)items_.set_u16(fw_cfg_key::kNbCpus, info.cpus);
    (void)items_.set_u16(fw_cfg_key::kMaxCpus, info.max_cpus);
    (void)items_.set_u64(fw_cfg_key::kRamSize, info.ram_size);
    return ok_status();
}

Status FwCfg::set_kernel(const FwCfgKernelItems& k) {
    constexpr std::size_t kMax = std::numeric_limits<std::uint32_t>::max();
    if (k.setup.size() >= kMax || k.kernel.size() >= kMax || k.initrd.size() >= kMax || k.cmdline.size() >= kMax) {
        return make_error(EINVAL, "fw_cfg: a kernel part of 4 GiB or more");
    }
    namespace key = fw_cfg_key;
    std::vector<std::uint8_t> cmdline(k.cmdline.begin(), k.cmdline.end());
    cmdline.push_back(0);
    (void)items_.set_u32(key::kSetupAddr, k.setup_addr);
    (void)items_.set_u32(key::kSetupSize, static_cast<std::uint32_t>(k.setup.size()));
    (void)items_.set(key::kSetupData, k.setup);
    (void)items_.set_u32(key::kKernelAddr, k.kernel_addr);
    (void)items_.set_u32(key::kKernelSize, static_cast<std::uint32_t>(k.kernel.size()));
    (void)items_.set(key::kKernelData, k.kernel);
    (void)items_.set_u32(key::kInitrdAddr, k.initrd_addr);
    (void)items_.set_u32(key::kInitrdSize, static_cast<std::uint32_t>(k.initrd.size()));
    (void)items_.set(key::kInitrdData, k.initrd);
    (void)items_.set_u32(key::kCmdlineAddr, k.cmdline_addr);
    (void)items_.set_u32(key::kCmdlineSize, static_cast<std::uint32_t>(cmdline.size()));
    (void)items_.set(key::kCmdlineData, std::move(cmdline));
    return ok_status();
}

void FwCfg::select(std::uint16_t key) {
    selected_ = key;
    offset_ = 0;
}

std::uint8_t FwCfg::read_data_byte() {
    auto data = items_.item(selected_);
    if (offset_ >= data.size()) {
        return 0;
    }
    return data[offset_++];
}

void FwCfg::write_dma_address(std::uint64_t offset, std::uint64_t value, unsigned size) {
    if (size == 4 && offset == 0) {
        dma_address_ = (value & 0xffffffff) << 32;
    } else if (size == 4 && offset == 4) {
        dma_address_ |= value & 0xffffffff;
        dma_transfer(std::exchange(dma_address_, 0));
    } else if (size == 8 && offset == 0) {
        dma_address_ = 0;
        dma_transfer(value);
    }
}

void FwCfg::dma_transfer(std::uint64_t descriptor_gpa) {
    std::array<std::uint8_t, kDmaAccessSize> raw{};
    std::uint32_t control = kDmaError;
    if (ram_.read(descriptor_gpa, raw)) {
        Descriptor d{static_cast<std::uint32_t>(load_be(raw.data(), 4)),
                     static_cast<std::uint32_t>(load_be(raw.data() + 4, 4)), load_be(raw.data() + 8, 8)};
        control = run_transfer(d);
    }
    const std::uint8_t out[4] = {static_cast<std::uint8_t>(control >> 24), static_cast<std::uint8_t>(control >> 16),
                                 static_cast<std::uint8_t>(control >> 8), static_cast<std::uint8_t>(control)};
    (void)ram_.write(descriptor_gpa, out);  // a descriptor outside RAM gets no answer
}

std::uint32_t FwCfg::run_transfer(Descriptor d) {
    if ((d.control & kDmaSelect) != 0) {
        select(static_cast<std::uint16_t>(d.control >> 16));
    }
    const bool read = (d.control & kDmaRead) != 0;
    const bool write = !read && (d.control & kDmaWrite) != 0;
    const bool skip = (d.control & kDmaSkip) != 0;
    std::uint64_t length = (read || write || skip) ? d.length : 0;
    std::uint64_t address = d.address;
    auto data = items_.item(selected_);
    std::uint32_t control = 0;
    while (length > 0 && (control & kDmaError) == 0) {
        std::uint64_t len = length;
        const bool past_end = offset_ >= data.size();
        if (!past_end) {
            len = std::min<std::uint64_t>(length, data.size() - offset_);
        }
        if (read) {
            std::uint8_t* dst = ram_.host_ptr(address, len);
            if (dst == nullptr) {
                control |= kDmaError;
            } else if (past_end) {
                std::memset(dst, 0, len);
            } else {
                std::memcpy(dst, data.data() + offset_, len);
            }
        }
        if (write) {
            control |= kDmaError;  // every item is read-only
        }
        if (!past_end) {
            offset_ += len;
        }
        address += len;
        length -= len;
    }
    return control;
}

std::uint64_t FwCfgIoPort::read(std::uint64_t offset, unsigned size) {
    std::uint64_t value = low_bytes_mask(size);  // bytes past the window: 0xff
    for_each_piece(offset, size, FwCfg::kIoPortSize, kIoMaxPiece, [&](std::uint64_t pos, unsigned l) {
        // Only byte reads are valid (QEMU's fw_cfg_comb_valid); others read 0.
        std::uint64_t piece = l == 1 ? fw_cfg_->read_data_byte() : 0;
        place(value, pos - offset, piece, l);
    });
    return value;
}

IoOutcome FwCfgIoPort::write(std::uint64_t offset, std::uint64_t value, unsigned size) {
    for_each_piece(offset, size, FwCfg::kIoPortSize, kIoMaxPiece, [&](std::uint64_t pos, unsigned l) {
        if (l == 2) {
            fw_cfg_->select(static_cast<std::uint16_t>(value >> (8 * (pos - offset))));
        }
        // A byte write is a data write, which QEMU ignores since v2.4.
    });
    return IoOutcome::proceed;
}

std::uint64_t FwCfgDmaPort::read(std::uint64_t offset, unsigned size) {
    std::uint64_t value = low_bytes_mask(size);
    for (unsigned i = 0; i < size && offset + i < FwCfg::kDmaPortSize; ++i) {
        place(value, i, FwCfg::kDmaSignature >> (8 * (7 - (offset + i))), 1);
    }
    return value;
}

IoOutcome FwCfgDmaPort::write(std::uint64_t offset, std::uint64_t value, unsigned size) {
    for_each_piece(offset, size, FwCfg::kDmaPortSize, kDmaMaxPiece, [&](std::uint64_t pos, unsigned l) {
        std::uint64_t piece = (value >> (8 * (pos - offset))) & low_bytes_mask(l);
        fw_cfg_->write_dma_address(pos, swap_bytes(piece, l), l);
    });
    return IoOutcome::proceed;
}

std::string FwCfg::state_text() const {
    return register_line("selector", selected_, 2) + register_line("offset", offset_, 4) +
           register_line("item size", items_.item(selected_).size(), 4) + register_line("DMA address", dma_address_, 8);
}

}  // namespace kvmdbg::hw
