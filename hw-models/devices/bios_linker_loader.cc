#include "hw-models/devices/bios_linker_loader.h"

#include <cerrno>
#include <cstring>

#include "common/byte_order.h"

namespace kvmdbg::hw {

namespace {

constexpr std::uint32_t kAllocate = 1;
constexpr std::uint32_t kAddPointer = 2;
constexpr std::uint32_t kAddChecksum = 3;

Status check_name(const std::string& name) {
    if (name.empty() || name.size() >= BiosLinkerLoader::kMaxName) {
        return make_error(EINVAL, "table-loader: file name '" + name + "' is empty or longer than 55 bytes");
    }
    return ok_status();
}

void put_name(std::uint8_t* p, const std::string& name) { std::memcpy(p, name.data(), name.size()); }

}  // namespace

std::uint8_t* BiosLinkerLoader::next(std::uint32_t command) {
    bytes_.resize(bytes_.size() + kCommandSize, 0);
    std::uint8_t* p = bytes_.data() + bytes_.size() - kCommandSize;
    store_le(p, command, 4);
    return p + 4;
}

Status BiosLinkerLoader::allocate(const std::string& file, std::uint32_t align, Zone zone) {
    if (auto s = check_name(file); !s) {
        return s;
    }
    std::uint8_t* p = next(kAllocate);
    put_name(p, file);
    store_le(p + kMaxName, align, 4);
    p[kMaxName + 4] = static_cast<std::uint8_t>(zone);
    return ok_status();
}

Status BiosLinkerLoader::add_pointer(const std::string& dest_file, const std::string& src_file, std::uint32_t offset,
                                     std::uint8_t size) {
    if (auto s = check_name(dest_file); !s) {
        return s;
    }
    if (auto s = check_name(src_file); !s) {
        return s;
    }
    std::uint8_t* p = next(kAddPointer);
    put_name(p, dest_file);
    put_name(p + kMaxName, src_file);
    store_le(p + 2 * kMaxName, offset, 4);
    p[2 * kMaxName + 4] = size;
    return ok_status();
}

Status BiosLinkerLoader::add_checksum(const std::string& file, std::uint32_t offset, std::uint32_t start,
                                      std::uint32_t length) {
    if (auto s = check_name(file); !s) {
        return s;
    }
    std::uint8_t* p = next(kAddChecksum);
    put_name(p, file);
    store_le(p + kMaxName, offset, 4);
    store_le(p + kMaxName + 4, start, 4);
    store_le(p + kMaxName + 8, length, 4);
    return ok_status();
}

}  // namespace kvmdbg::hw
