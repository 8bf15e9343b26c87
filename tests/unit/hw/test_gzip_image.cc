// gzip-compressed images (hw-models/loaders/gzip_image): the magic, streams
// built here with GIO's compressor decompressed byte for byte across the
// decompressor's output steps, the size bound at and one byte past the limit,
// and truncated and corrupt streams (header, deflate data, CRC32, ISIZE),
// each with its one-line error.
#include "hw-models/loaders/gzip_image.h"

#include <string>

#include "tests/support/cunit_main.h"
#include "tests/support/elf_builder.h"
#include "tests/support/gzip_builder.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::hw;
using test::Bytes;
using test::gzip_bytes;
using test::long_pattern;

constexpr std::uint64_t kMiB = 1ull << 20;
const std::string kLimit = "the guest's RAM size";

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void expect_error(const Result<Bytes>& r, int code, const std::string& part) {
    CU_ASSERT_FALSE_FATAL(r.ok());
    CU_ASSERT_EQUAL(r.error().code, code);
    CU_ASSERT_TRUE(has(r.error().message, part));
    CU_ASSERT_FALSE(has(r.error().message, "\n"));  // one line
    if (!has(r.error().message, part)) {
        std::fprintf(stderr, "\n  got: %s\n  want: %s\n", r.error().message.c_str(), part.c_str());
    }
}

void test_magic() {
    CU_ASSERT_TRUE(has_gzip_magic(Bytes{0x1f, 0x8b}));
    CU_ASSERT_TRUE(has_gzip_magic(gzip_bytes(Bytes{1, 2, 3})));
    CU_ASSERT_FALSE(has_gzip_magic(Bytes{0x1f}));
    CU_ASSERT_FALSE(has_gzip_magic(Bytes{}));
    CU_ASSERT_FALSE(has_gzip_magic(Bytes{0x8b, 0x1f}));
    CU_ASSERT_FALSE(has_gzip_magic(Bytes{0x4d, 0x5a, 0, 0}));  // "MZ": an EFI-stub Image
    expect_error(gunzip_image(Bytes{0x4d, 0x5a, 0, 0}, kMiB, "Image", kLimit), ENOEXEC,
                 "Image: not a gzip stream (no 1f 8b magic)");
}

void test_round_trip() {
    // 9 MiB that does not repeat within 64 KiB: crosses two output steps.
    Bytes data = long_pattern(9 * kMiB + 123, 7);
    Bytes gz = gzip_bytes(data);
    CU_ASSERT_TRUE(gz.size() < data.size());
    auto r = gunzip_image(gz, 64 * kMiB, "Image.gz", kLimit);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_EQUAL(r->size(), data.size());
    CU_ASSERT_TRUE(*r == data);

    Bytes small = long_pattern(100, 1);
    auto s = gunzip_image(gzip_bytes(small), kMiB, "x", kLimit);
    CU_ASSERT_FATAL(s.ok());
    CU_ASSERT_TRUE(*s == small);

    auto empty = gunzip_image(gzip_bytes(Bytes{}), kMiB, "empty.gz", kLimit);
    CU_ASSERT_FATAL(empty.ok());
    CU_ASSERT_EQUAL(empty->size(), 0u);
}

void test_trailing_bytes_ignored() {
    Bytes data = long_pattern(5000, 3);
    Bytes gz = gzip_bytes(data);
    gz.insert(gz.end(), 512, 0);  // padding after the member
    auto r = gunzip_image(gz, kMiB, "padded.gz", kLimit);
    CU_ASSERT_FATAL(r.ok());
    CU_ASSERT_TRUE(*r == data);
}

void test_size_limit() {
    Bytes data = long_pattern(6 * kMiB, 9);
    Bytes gz = gzip_bytes(data);
    auto exact = gunzip_image(gz, data.size(), "Image.gz", kLimit);
    CU_ASSERT_FATAL(exact.ok());
    CU_ASSERT_TRUE(*exact == data);
    expect_error(gunzip_image(gz, data.size() - 1, "Image.gz", kLimit), EFBIG,
                 "Image.gz: the gzip stream decompresses to more than 0x5fffff bytes (the guest's RAM size)");
    expect_error(gunzip_image(gz, 0, "Image.gz", kLimit), EFBIG, "more than 0x0 bytes");
    // A small stream that inflates enormously (zeroes) stops at the bound.
    Bytes bomb = gzip_bytes(Bytes(32 * kMiB, 0));
    CU_ASSERT_TRUE(bomb.size() < 64 * 1024);
    expect_error(gunzip_image(bomb, 4 * kMiB, "bomb.gz", kLimit), EFBIG, "more than 0x400000 bytes");
}

void test_truncated() {
    Bytes data = long_pattern(300000, 5);
    Bytes gz = gzip_bytes(data);
    // Cut in the header, in the deflate data, in the CRC32, in ISIZE.
    for (std::size_t keep : {std::size_t{2}, std::size_t{9}, std::size_t{10}, gz.size() / 2, gz.size() - 8,
                             gz.size() - 5, gz.size() - 1}) {
        Bytes cut(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(keep));
        expect_error(gunzip_image(cut, kMiB, "cut.gz", kLimit), ENOEXEC,
                     "cut.gz: truncated gzip stream (ends after " + std::to_string(keep) + " compressed bytes, ");
    }
}

void test_corrupt() {
    Bytes data = long_pattern(300000, 11);
    Bytes gz = gzip_bytes(data);
    {
        Bytes b = gz;
        b[2] = 7;  // CM: not deflate
        expect_error(gunzip_image(b, kMiB, "cm.gz", kLimit), ENOEXEC, "cm.gz: corrupt gzip stream: ");
    }
    {
        Bytes b = gz;
        b[b.size() - 8] ^= 0xff;  // CRC32
        expect_error(gunzip_image(b, kMiB, "crc.gz", kLimit), ENOEXEC, "crc.gz: corrupt gzip stream");
    }
    {
        Bytes b = gz;
        b[b.size() - 4] ^= 0x01;  // ISIZE
        expect_error(gunzip_image(b, kMiB, "isize.gz", kLimit), ENOEXEC, "isize.gz: corrupt gzip stream");
    }
    {
        Bytes b = gz;
        b[10] = 0xff;  // first deflate block header: BTYPE 11 is reserved
        expect_error(gunzip_image(b, kMiB, "data.gz", kLimit), ENOEXEC, "data.gz: corrupt gzip stream");
    }
    {
        Bytes b(64, 0xa5);  // the magic, then garbage
        b[0] = 0x1f;
        b[1] = 0x8b;
        auto r = gunzip_image(b, kMiB, "junk.gz", kLimit);
        CU_ASSERT_FALSE_FATAL(r.ok());
        CU_ASSERT_EQUAL(r.error().code, ENOEXEC);
        CU_ASSERT_TRUE(has(r.error().message, "junk.gz: corrupt gzip stream") ||
                       has(r.error().message, "junk.gz: truncated gzip stream"));
    }
}

constexpr kvmdbg::test::TestCase kCases[] = {
    {"gzip magic", test_magic},
    {"round trip across output steps", test_round_trip},
    {"bytes after the member are ignored", test_trailing_bytes_ignored},
    {"size limit", test_size_limit},
    {"truncated streams", test_truncated},
    {"corrupt streams", test_corrupt},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {
    {"gzip image", kCases},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
