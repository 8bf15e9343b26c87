#include "hw-models/loaders/arm64_image.h"

#include "common/byte_order.h"
#include "hw-models/loaders/load_messages.h"

namespace kvmdbg::hw {

namespace {

std::uint64_t le64(std::span<const std::uint8_t> b, std::size_t off) { return load_le(b.data() + off, 8); }

std::uint32_t le32(std::span<const std::uint8_t> b, std::size_t off) {
    return static_cast<std::uint32_t>(load_le(b.data() + off, 4));
}

}  // namespace

bool has_arm64_image_magic(std::span<const std::uint8_t> file) {
    return file.size() >= Arm64ImageHeader::kSize && le32(file, 56) == Arm64ImageHeader::kMagic;
}

Result<Arm64ImageHeader> parse_arm64_image_header(std::span<const std::uint8_t> file, const std::string& name) {
    if (file.size() < Arm64ImageHeader::kSize) {
        if (file.size() >= 60 && le32(file, 56) == Arm64ImageHeader::kMagic) {
            return file_error(ENOEXEC, name, "truncated arm64 Image header");
        }
        return file_error(ENOEXEC, name,
                          file.size() < 60 ? "truncated arm64 Image header (file has " + std::to_string(file.size()) +
                                                 " bytes, the header 64)"
                                           : "not an arm64 Image (no ARM\\x64 magic at offset 56)");
    }
    if (!has_arm64_image_magic(file)) {
        return file_error(ENOEXEC, name, "not an arm64 Image (no ARM\\x64 magic at offset 56)");
    }
    Arm64ImageHeader h;
    h.text_offset = le64(file, 8);
    h.image_size = le64(file, 16);
    h.flags = le64(file, 24);
    if (h.image_size == 0) {
        // booting.rst: before v3.17 image_size is 0 and text_offset 0x80000.
        h.text_offset = Arm64ImageHeader::kLegacyTextOffset;
        h.image_size = file.size();
    }
    if (h.big_endian()) {
        return file_error(ENOEXEC, name, "big-endian arm64 kernels are not supported");
    }
    if (h.image_size < file.size()) {
        return file_error(ENOEXEC, name,
                          "image_size " + hex_text(h.image_size) + " is smaller than the file (" +
                              hex_text(file.size()) + " bytes)");
    }
    return h;
}

}  // namespace kvmdbg::hw
