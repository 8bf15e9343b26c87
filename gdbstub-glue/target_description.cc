#include "gdbstub-glue/target_description.h"

namespace kvmdbg::gdb {

TargetDescription::TargetDescription(std::vector<std::uint32_t> register_sizes, std::vector<Annex> annexes,
                                     Expedited expedited, std::endian byte_order)
    : sizes_(std::move(register_sizes)), annexes_(std::move(annexes)), expedited_(expedited), byte_order_(byte_order) {
    offsets_.reserve(sizes_.size() + 1);
    std::size_t offset = 0;
    for (std::uint32_t size : sizes_) {
        offsets_.push_back(offset);
        offset += size;
    }
    offsets_.push_back(offset);
}

std::uint32_t TargetDescription::register_size(std::uint64_t regnum) const {
    return regnum < sizes_.size() ? sizes_[regnum] : 0;
}

std::size_t TargetDescription::register_offset(std::uint64_t regnum) const {
    return regnum < sizes_.size() ? offsets_[regnum] : registers_size();
}

std::optional<std::vector<std::uint8_t>> TargetDescription::register_in(std::span<const std::uint8_t> block,
                                                                        std::uint64_t regnum) const {
    if (regnum >= sizes_.size() || block.size() != registers_size()) {
        return std::nullopt;
    }
    auto first = block.begin() + static_cast<std::ptrdiff_t>(offsets_[regnum]);
    return std::vector<std::uint8_t>(first, first + sizes_[regnum]);
}

const std::string* TargetDescription::annex(std::string_view name) const {
    for (const Annex& a : annexes_) {
        if (a.name == name) {
            return &a.text;
        }
    }
    return nullptr;
}

std::uint64_t register_value(const std::vector<std::uint8_t>& raw, std::endian order) {
    std::size_t n = raw.size() < 8 ? raw.size() : 8;
    std::uint64_t value = 0;
    if (order == std::endian::little) {
        for (std::size_t i = n; i-- > 0;) {
            value = value << 8 | raw[i];
        }
    } else {
        for (std::size_t i = raw.size() - n; i < raw.size(); ++i) {
            value = value << 8 | raw[i];
        }
    }
    return value;
}

}  // namespace kvmdbg::gdb
