// libFuzzer target: parse_request() (gdbstub-glue/request_parser and the
// parse_*.cc packet families) on arbitrary payloads, i.e. the bytes between
// '$' and '#' of a packet that framed correctly. The parser must return a
// value or nullopt (unsupported) for every input, never crash or read out
// of bounds; the Request variant is visited so that every field is touched.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gdbstub-glue/request_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view payload(reinterpret_cast<const char*>(data), size);
    auto request = kvmdbg::gdb::parse_request(payload);
    if (request) {
        // Copying the variant touches every member (strings, vectors).
        auto copy = *request;
        volatile std::size_t index = copy.index();
        (void)index;
    }
    return 0;
}
