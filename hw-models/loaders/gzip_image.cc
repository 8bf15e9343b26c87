#include "hw-models/loaders/gzip_image.h"

#include <gio/gio.h>

#include <algorithm>

#include "hw-models/loaders/load_messages.h"

namespace kvmdbg::hw {

namespace {

// Output grows in steps of this size (and never past max_size + 1 bytes:
// the one extra byte tells "exactly max_size" from "more").
constexpr std::size_t kChunk = 4u << 20;

Error truncated(const std::string& name, std::size_t read, std::size_t written) {
    return file_error(ENOEXEC, name,
                      "truncated gzip stream (ends after " + std::to_string(read) + " compressed bytes, " +
                          std::to_string(written) + " decompressed)");
}

Error too_big(const std::string& name, std::uint64_t max_size, const std::string& limit_what) {
    return file_error(EFBIG, name,
                      "the gzip stream decompresses to more than " + hex_text(max_size) + " bytes (" + limit_what +
                          ")");
}

}  // namespace

bool has_gzip_magic(std::span<const std::uint8_t> data) {
    return data.size() >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

Result<std::vector<std::uint8_t>> gunzip_image(std::span<const std::uint8_t> data, std::uint64_t max_size,
                                               const std::string& name, const std::string& limit_what) {
    if (!has_gzip_magic(data)) {
        return file_error(ENOEXEC, name, "not a gzip stream (no 1f 8b magic)");
    }
    g_autoptr(GZlibDecompressor) decompressor = g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP);
    std::vector<std::uint8_t> out;
    std::size_t read_total = 0;
    std::size_t written = 0;
    for (;;) {
        if (written > max_size) {
            return too_big(name, max_size, limit_what);
        }
        if (out.size() == written) {
            std::uint64_t cap = std::min<std::uint64_t>(max_size + 1, out.size() + kChunk);
            out.resize(static_cast<std::size_t>(cap));
        }
        gsize in_used = 0;
        gsize out_used = 0;
        g_autoptr(GError) error = nullptr;
        GConverterResult r = g_converter_convert(G_CONVERTER(decompressor), data.data() + read_total,
                                                 data.size() - read_total, out.data() + written, out.size() - written,
                                                 G_CONVERTER_INPUT_AT_END, &in_used, &out_used, &error);
        read_total += in_used;
        written += out_used;
        if (r == G_CONVERTER_FINISHED) {
            break;
        }
        if (r == G_CONVERTER_ERROR) {
            if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT)) {
                return truncated(name, read_total, written);
            }
            // GIO reports no position with an error: zlib's reason is all there is.
            return file_error(ENOEXEC, name,
                              std::string("corrupt gzip stream: ") +
                                  (error != nullptr ? error->message : "unknown error"));
        }
        if (in_used == 0 && out_used == 0) {
            // No progress with room to write: zlib wants input there is not.
            return truncated(name, read_total, written);
        }
    }
    if (written > max_size) {
        return too_big(name, max_size, limit_what);
    }
    out.resize(written);
    return out;
}

}  // namespace kvmdbg::hw
