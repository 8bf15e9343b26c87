// m, M, x, X (gdb manual, "Packets").
#include "gdbstub-glue/binary_escape.h"
#include "gdbstub-glue/hex.h"
#include "gdbstub-glue/parse_util.h"

namespace kvmdbg::gdb::detail {

namespace {

std::optional<Request> parse_read(std::string_view text, bool binary) {
    auto al = parse_addr_length(text);
    if (!al) {
        return malformed("memory read: expected addr,length");
    }
    return Request{ReadMemory{al->first, al->second, binary}};
}

}  // namespace

std::optional<Request> parse_read_memory_hex(std::string_view text) { return parse_read(text, false); }

std::optional<Request> parse_read_memory_bin(std::string_view text) { return parse_read(text, true); }

std::optional<Request> parse_write_memory_hex(std::string_view text) {
    auto parts = split_once(text, ':');
    if (!parts) {
        return malformed("M: missing ':'");
    }
    auto al = parse_addr_length(parts->first);
    auto data = decode_hex(parts->second);
    if (!al || !data || data->size() != al->second) {
        return malformed("M: bad addr,length or data");
    }
    return Request{WriteMemory{al->first, std::move(*data)}};
}

std::optional<Request> parse_write_memory_bin(std::string_view text) {
    auto parts = split_once(text, ':');
    if (!parts) {
        return malformed("X: missing ':'");
    }
    auto al = parse_addr_length(parts->first);
    auto data = unescape_binary(parts->second);
    if (!al || !data || data->size() != al->second) {
        return malformed("X: bad addr,length or data");
    }
    return Request{WriteMemory{al->first, std::move(*data)}};
}

}  // namespace kvmdbg::gdb::detail
