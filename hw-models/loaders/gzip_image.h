// gzip-compressed kernel images (RFC 1952), decompressed in memory before
// the loader parses them, as QEMU's load_aarch64_image() (hw/arm/boot.c)
// does for an arm64 `Image.gz` with gunzip() of hw/core/loader.c. Linux's
// arch/arm64/boot/Makefile builds `Image.gz`, and some distributions ship it
// as their arm64 vmlinuz.
//
//   off  size  field (RFC 1952 2.3)
//   ---  ----  ---------------------------------------------------
//    0    1    ID1   0x1f
//    1    1    ID2   0x8b
//    2    1    CM    8 (deflate)
//    3    1    FLG   FTEXT FHCRC FEXTRA FNAME FCOMMENT
//    4    4    MTIME, then XFL, OS, the optional fields
//   ...        deflate data (RFC 1951)
//   -8    4    CRC32 of the uncompressed data, LE
//   -4    4    ISIZE: uncompressed size mod 2^32, LE
//
// The stream is inflated with GIO's GZlibDecompressor (zlib), which checks
// the header, the CRC32 and ISIZE. One member is decompressed; bytes after
// its trailer are ignored (as QEMU's gunzip and `gzip -d` do with trailing
// padding). Pure; any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace kvmdbg::hw {

/// True if `data` starts with the gzip magic 1f 8b.
bool has_gzip_magic(std::span<const std::uint8_t> data);

/// Decompresses the gzip stream `data` (the first member), producing at most
/// `max_size` bytes. `name` (the file's path) starts every error message;
/// `limit_what` says what the limit is ("the guest's RAM size").
///
/// Errors (one line each):
///   ENOEXEC "NAME: not a gzip stream (no 1f 8b magic)",
///   ENOEXEC "NAME: corrupt gzip stream: WHY", WHY being GIO's reason
///           ("Invalid compressed data" for a bad header, invalid deflate
///           data, a CRC32 or ISIZE mismatch alike),
///   ENOEXEC "NAME: truncated gzip stream (ends after N compressed bytes,
///           M decompressed)",
///   EFBIG   "NAME: the gzip stream decompresses to more than 0x... bytes
///           (LIMIT_WHAT)".
Result<std::vector<std::uint8_t>> gunzip_image(std::span<const std::uint8_t> data, std::uint64_t max_size,
                                               const std::string& name, const std::string& limit_what);

}  // namespace kvmdbg::hw
