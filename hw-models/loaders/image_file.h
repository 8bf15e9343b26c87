// ImageFile: a whole kernel or module file read into memory.
//
// The loaders parse images from memory, never from the file descriptor, so
// every later bounds check is against one known size. Any thread may call
// read_image_file(); the result is a plain value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace kvmdbg::hw {

/// The bytes of one file and the path it was read from (as the user gave it;
/// error messages and the multiboot command line use it verbatim).
struct ImageFile {
    std::string path;
    std::vector<std::uint8_t> bytes;
};

/// Whether an empty file is an error (kernels) or a valid, empty image
/// (multiboot modules may be empty, as with QEMU).
enum class EmptyImage { reject, allow };

/// Largest file read_image_file() accepts: every x86 image it serves must
/// fit in guest RAM anyway, and the cap keeps a device such as /dev/zero
/// from exhausting host memory.
inline constexpr std::uint64_t kMaxImageFileSize = 4ull << 30;

/// Reads the whole file at `path`. Errors, each message starting with the
/// path: ENOENT/EACCES/... "cannot open: <strerror>", EISDIR "is a
/// directory", EINVAL "file is empty" (unless `empty` is allow), EFBIG
/// larger than kMaxImageFileSize, and read errors with their errno.
Result<ImageFile> read_image_file(const std::string& path, EmptyImage empty = EmptyImage::reject);

}  // namespace kvmdbg::hw
