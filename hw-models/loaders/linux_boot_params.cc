#include "hw-models/loaders/linux_boot_params.h"

#include <algorithm>
#include <cstring>

#include "common/byte_order.h"
#include "hw-models/loaders/linux_boot_header.h"

namespace kvmdbg::hw {

namespace {

bool covered(std::span<const GpaRange> ranges, std::uint64_t start, std::uint64_t end) {
    return std::any_of(ranges.begin(), ranges.end(),
                       [&](const GpaRange& r) { return r.start <= start && end <= r.end; });
}

void append_merged(std::vector<E820Entry>& map, std::uint64_t start, std::uint64_t end, E820Type type) {
    if (!map.empty() && map.back().type == type && map.back().addr + map.back().size == start) {
        map.back().size += end - start;
        return;
    }
    map.push_back({start, end - start, type});
}

}  // namespace

void write_e820_entry(std::uint8_t* out, const E820Entry& entry) {
    store_le(out, entry.addr, 8);
    store_le(out + 8, entry.size, 8);
    store_le(out + 16, static_cast<std::uint32_t>(entry.type), 4);
}

std::vector<E820Entry> build_e820_map(std::span<const GpaRange> ram, std::span<const GpaRange> reserved) {
    // Every range boundary; each piece between two neighbours is wholly
    // inside or outside each range.
    std::vector<std::uint64_t> bounds;
    for (const auto* list : {&ram, &reserved}) {
        for (const auto& r : *list) {
            if (r.start < r.end) {
                bounds.push_back(r.start);
                bounds.push_back(r.end);
            }
        }
    }
    std::sort(bounds.begin(), bounds.end());
    bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
    std::vector<E820Entry> map;
    for (std::size_t i = 0; i + 1 < bounds.size(); ++i) {
        std::uint64_t start = bounds[i];
        std::uint64_t end = bounds[i + 1];
        if (covered(reserved, start, end)) {
            append_merged(map, start, end, E820Type::reserved);
        } else if (covered(ram, start, end)) {
            append_merged(map, start, end, E820Type::ram);
        }
    }
    return map;
}

Result<std::array<std::uint8_t, kLinuxBootParamsSize>> build_linux_boot_params(const LinuxBootParamsInput& input) {
    if (input.e820.size() > kE820MaxEntries) {
        return make_error(EINVAL, "the e820 map has " + std::to_string(input.e820.size()) +
                                      " entries; boot_params has room for 128");
    }
    std::array<std::uint8_t, kLinuxBootParamsSize> zp{};
    std::size_t header_len = std::min(input.setup_header.size(), kBootParamsSetupHeaderEnd - kLinuxSetupHeaderOffset);
    std::memcpy(zp.data() + kLinuxSetupHeaderOffset, input.setup_header.data(), header_len);
    zp[kBootParamsTypeOfLoader] = kTypeOfLoaderUndefined;
    store_le(&zp[kBootParamsCmdLinePtr], input.cmd_line_ptr & 0xffffffff, 4);
    store_le(&zp[kBootParamsExtCmdLinePtr], input.cmd_line_ptr >> 32, 4);
    store_le(&zp[kBootParamsRamdiskImage], input.ramdisk_image & 0xffffffff, 4);
    store_le(&zp[kBootParamsExtRamdiskImage], input.ramdisk_image >> 32, 4);
    store_le(&zp[kBootParamsRamdiskSize], input.ramdisk_size & 0xffffffff, 4);
    store_le(&zp[kBootParamsExtRamdiskSize], input.ramdisk_size >> 32, 4);
    zp[kBootParamsE820Entries] = static_cast<std::uint8_t>(input.e820.size());
    std::uint8_t* entry = zp.data() + kBootParamsE820Table;
    for (const auto& e : input.e820) {
        write_e820_entry(entry, e);
        entry += kE820EntrySize;
    }
    return zp;
}

}  // namespace kvmdbg::hw
