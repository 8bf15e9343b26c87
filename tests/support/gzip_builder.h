// Builds gzip streams (RFC 1952) in memory for the loader unit tests
// (gzip_image, arm64_loader), with GIO's GZlibCompressor, the same zlib the
// decompressor under test uses. Test-only; pure functions, any thread.
#pragma once

#include <cstdint>
#include <vector>

namespace kvmdbg::test {

/// One gzip member holding `data`: a 10-byte header (1f 8b 08 ...), the
/// deflate data, CRC32 and ISIZE. Aborts the test program if GIO fails.
std::vector<std::uint8_t> gzip_bytes(const std::vector<std::uint8_t>& data);

}  // namespace kvmdbg::test
