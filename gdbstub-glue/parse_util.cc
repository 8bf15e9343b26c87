#include "gdbstub-glue/parse_util.h"

#include "gdbstub-glue/hex.h"

namespace kvmdbg::gdb::detail {

std::optional<std::pair<std::string_view, std::string_view>> split_once(std::string_view text, char sep) {
    auto pos = text.find(sep);
    if (pos == std::string_view::npos) {
        return std::nullopt;
    }
    return std::pair{text.substr(0, pos), text.substr(pos + 1)};
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_addr_length(std::string_view text) {
    auto parts = split_once(text, ',');
    if (!parts) {
        return std::nullopt;
    }
    auto addr = parse_hex_u64(parts->first);
    auto length = parse_hex_u64(parts->second);
    if (!addr || !length) {
        return std::nullopt;
    }
    return std::pair{*addr, *length};
}

std::optional<ThreadId> parse_thread_id(std::string_view text) {
    if (text == "-1") {
        return kAllThreads;
    }
    auto id = parse_hex_u64(text);
    if (!id || *id > 0x7fffffffu) {
        return std::nullopt;
    }
    return static_cast<ThreadId>(*id);
}

std::optional<int> parse_signal(std::string_view text) {
    auto sig = parse_hex_u64(text);
    if (!sig || *sig > 0xff) {
        return std::nullopt;
    }
    return static_cast<int>(*sig);
}

}  // namespace kvmdbg::gdb::detail
