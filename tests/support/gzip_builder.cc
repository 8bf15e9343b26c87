#include "tests/support/gzip_builder.h"

#include <gio/gio.h>

#include <cstdio>
#include <cstdlib>

namespace kvmdbg::test {

std::vector<std::uint8_t> gzip_bytes(const std::vector<std::uint8_t>& data) {
    g_autoptr(GZlibCompressor) compressor = g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP, 6);
    std::vector<std::uint8_t> out(data.size() + data.size() / 8 + 256);
    std::size_t in_pos = 0;
    std::size_t out_pos = 0;
    for (;;) {
        if (out_pos == out.size()) {
            out.resize(out.size() * 2);
        }
        gsize read = 0;
        gsize written = 0;
        g_autoptr(GError) error = nullptr;
        GConverterResult r = g_converter_convert(G_CONVERTER(compressor), data.data() + in_pos, data.size() - in_pos,
                                                 out.data() + out_pos, out.size() - out_pos, G_CONVERTER_INPUT_AT_END,
                                                 &read, &written, &error);
        in_pos += read;
        out_pos += written;
        if (r == G_CONVERTER_FINISHED) {
            break;
        }
        if (r == G_CONVERTER_ERROR) {
            if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE)) {
                out.resize(out.size() * 2);
                continue;
            }
            std::fprintf(stderr, "gzip_bytes: %s\n", error->message);
            std::abort();
        }
    }
    out.resize(out_pos);
    return out;
}

}  // namespace kvmdbg::test
