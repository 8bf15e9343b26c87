// g, G, p, P (gdb manual, "Packets").
#include "gdbstub-glue/hex.h"
#include "gdbstub-glue/parse_util.h"

namespace kvmdbg::gdb::detail {

std::optional<Request> parse_read_registers(std::string_view text) {
    if (!text.empty()) {
        return malformed("g takes no argument");
    }
    return Request{ReadRegisters{}};
}

std::optional<Request> parse_write_registers(std::string_view text) {
    auto data = decode_hex(text);
    if (!data || data->empty()) {
        return malformed("G: bad register data");
    }
    return Request{WriteRegisters{std::move(*data)}};
}

std::optional<Request> parse_read_register(std::string_view text) {
    auto regnum = parse_hex_u64(text);
    if (!regnum) {
        return malformed("p: bad register number");
    }
    return Request{ReadRegister{*regnum}};
}

std::optional<Request> parse_write_register(std::string_view text) {
    auto parts = split_once(text, '=');
    if (!parts) {
        return malformed("P: missing '='");
    }
    auto regnum = parse_hex_u64(parts->first);
    auto value = decode_hex(parts->second);
    if (!regnum || !value || value->empty()) {
        return malformed("P: bad register number or value");
    }
    return Request{WriteRegister{*regnum, std::move(*value)}};
}

}  // namespace kvmdbg::gdb::detail
