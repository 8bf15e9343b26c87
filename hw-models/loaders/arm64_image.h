// The Linux arm64 `Image` header (Documentation/arch/arm64/booting.rst,
// "4. Call the kernel image" / "The decompressed kernel image contains a
// 64-byte header"), parsed from memory. Pure; any thread.
//
//   off  size  field
//   ---  ----  -----------------------------------------------------------
//    0    4    code0        executable code (a branch, or an EFI "MZ")
//    4    4    code1        executable code
//    8    8    text_offset  image load offset from a 2 MiB aligned base, LE
//   16    8    image_size   effective image size (incl. BSS), LE; 0 on
//                           kernels before v3.17 (then text_offset is
//                           0x80000 and the size is unknown)
//   24    8    flags        kernel flags, LE
//   32    8    res2
//   40    8    res3
//   48    8    res4
//   56    4    magic        "ARM\x64" (0x644d5241 LE)
//   60    4    res5         PE header offset (EFI stub), else 0
//
//   flags
//    63           4   3          2..1          0
//   +--------------+-----------+-------------+--------+
//   |    RES0      | placement | page size   | BE     |
//   +--------------+-----------+-------------+--------+
//   BE 0: little-endian kernel (the only kind kvmdbg boots: KVM's vCPUs
//   start little-endian); page size 0 unspecified, 1 4K, 2 16K, 3 64K;
//   placement 0: base as close as possible to the base of DRAM, 1: anywhere.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"

namespace kvmdbg::hw {

struct Arm64ImageHeader {
    static constexpr std::size_t kSize = 64;
    static constexpr std::uint32_t kMagic = 0x644d5241;  ///< "ARM\x64" little-endian
    /// text_offset assumed when image_size is 0 (booting.rst).
    static constexpr std::uint64_t kLegacyTextOffset = 0x80000;
    /// Kernel load bases are 2 MiB aligned (booting.rst, arch/arm64/include/asm/boot.h
    /// MIN_KIMG_ALIGN).
    static constexpr std::uint64_t kBaseAlign = 2ull << 20;

    std::uint64_t text_offset = 0;
    std::uint64_t image_size = 0;  ///< as in the header (0 on old kernels)
    std::uint64_t flags = 0;

    bool big_endian() const { return (flags & 1) != 0; }
    unsigned page_size_code() const { return static_cast<unsigned>((flags >> 1) & 3); }
    bool anywhere_placement() const { return ((flags >> 3) & 1) != 0; }
};

/// True if `file` is at least 64 bytes and has "ARM\x64" at offset 56.
bool has_arm64_image_magic(std::span<const std::uint8_t> file);

/// Parses the header of `file`; `name` starts every error message.
/// Errors (ENOEXEC): "not an arm64 Image (no ARM\x64 magic at offset 56)",
/// "truncated arm64 Image header", "big-endian arm64 kernels are not
/// supported", "image_size 0x... is smaller than the file (0x... bytes)".
/// text_offset is taken as written (booting.rst puts no bound on it; the
/// loader checks that the image fits in RAM).
/// With image_size 0 the result has text_offset 0x80000 and image_size the
/// file size (what booting.rst tells loaders of old kernels to assume).
Result<Arm64ImageHeader> parse_arm64_image_header(std::span<const std::uint8_t> file, const std::string& name);

}  // namespace kvmdbg::hw
