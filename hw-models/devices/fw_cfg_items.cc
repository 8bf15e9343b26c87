#include "hw-models/devices/fw_cfg_items.h"

#include <algorithm>
#include <utility>

#include "common/byte_order.h"
#include "common/hex_string.h"

namespace kvmdbg::hw {

namespace {

std::vector<std::uint8_t> le_bytes(std::uint64_t value, std::size_t size) {
    std::vector<std::uint8_t> out(size);
    store_le(out.data(), value, size);
    return out;
}

constexpr std::size_t kSlots = fw_cfg_key::kFileFirst + FwCfgItems::kFileSlots;

}  // namespace

FwCfgItems::FwCfgItems() : generic_(kSlots), arch_(kSlots) { rebuild_file_dir(); }

Status FwCfgItems::set(std::uint16_t key, std::vector<std::uint8_t> bytes) {
    std::uint16_t index = key & fw_cfg_key::kEntryMask;
    if ((key & fw_cfg_key::kWriteChannel) != 0 || index >= fw_cfg_key::kFileFirst || index == fw_cfg_key::kFileDir) {
        return make_error(EINVAL, "fw_cfg: " + hex_string(key) + " is not a fixed item");
    }
    if (bytes.size() >= kMaxItemSize) {
        return make_error(EINVAL, "fw_cfg: item " + hex_string(key) + " of 4 GiB or more");
    }
    auto& table = (key & fw_cfg_key::kArchLocal) != 0 ? arch_ : generic_;
    table[index] = std::move(bytes);
    return ok_status();
}

Status FwCfgItems::set_u16(std::uint16_t key, std::uint16_t value) { return set(key, le_bytes(value, 2)); }
Status FwCfgItems::set_u32(std::uint16_t key, std::uint32_t value) { return set(key, le_bytes(value, 4)); }
Status FwCfgItems::set_u64(std::uint16_t key, std::uint64_t value) { return set(key, le_bytes(value, 8)); }

Status FwCfgItems::add_file(const std::string& name, std::vector<std::uint8_t> bytes) {
    if (name.empty() || name.size() >= kMaxFileName || name.find('\0') != std::string::npos) {
        return make_error(EINVAL, "fw_cfg: bad file name \"" + name + "\" (1 to 55 bytes)");
    }
    if (bytes.size() >= kMaxItemSize) {
        return make_error(EINVAL, "fw_cfg: file \"" + name + "\" of 4 GiB or more");
    }
    auto pos = std::lower_bound(files_.begin(), files_.end(), name,
                                [](const File& f, const std::string& n) { return f.name < n; });
    if (pos != files_.end() && pos->name == name) {
        return make_error(EEXIST, "fw_cfg: duplicate file name \"" + name + "\"");
    }
    if (files_.size() >= kFileSlots) {
        return make_error(ENOSPC, "fw_cfg: no slot left for file \"" + name + "\"");
    }
    files_.insert(pos, File{name, std::move(bytes)});
    rebuild_file_dir();
    return ok_status();
}

std::uint16_t FwCfgItems::file_selector(const std::string& name) const {
    for (std::size_t i = 0; i < files_.size(); ++i) {
        if (files_[i].name == name) {
            return static_cast<std::uint16_t>(fw_cfg_key::kFileFirst + i);
        }
    }
    return 0;
}

std::span<const std::uint8_t> FwCfgItems::item(std::uint16_t key) const {
    if (!valid_key(key)) {
        return {};
    }
    std::uint16_t index = key & fw_cfg_key::kEntryMask;
    if ((key & fw_cfg_key::kArchLocal) != 0) {
        return arch_[index];
    }
    if (index >= fw_cfg_key::kFileFirst) {
        std::size_t file = index - fw_cfg_key::kFileFirst;
        return file < files_.size() ? std::span<const std::uint8_t>(files_[file].bytes)
                                    : std::span<const std::uint8_t>();
    }
    return generic_[index];
}

void FwCfgItems::rebuild_file_dir() {
    std::vector<std::uint8_t> dir(4 + files_.size() * kFileDirEntrySize, 0);
    store_be(dir.data(), files_.size(), 4);
    for (std::size_t i = 0; i < files_.size(); ++i) {
        std::uint8_t* e = dir.data() + 4 + i * kFileDirEntrySize;
        store_be(e, files_[i].bytes.size(), 4);
        store_be(e + 4, fw_cfg_key::kFileFirst + i, 2);
        std::copy(files_[i].name.begin(), files_[i].name.end(), e + 8);
    }
    generic_[fw_cfg_key::kFileDir] = std::move(dir);
}

}  // namespace kvmdbg::hw
