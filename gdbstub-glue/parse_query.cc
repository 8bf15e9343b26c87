// General query packets (gdb manual, "General Query Packets"): qSupported,
// qXfer, qRcmd, qThreadExtraInfo, qAttached; and QEMU's vendor set packets
// Qqemu.sstep= and Qqemu.PhyMemMode: (QEMU gdbstub.c).
#include "gdbstub-glue/hex.h"
#include "gdbstub-glue/parse_util.h"

namespace kvmdbg::gdb::detail {

std::optional<Request> parse_thread_extra_info(std::string_view text) {
    auto thread = parse_thread_id(text);
    if (!thread) {
        return malformed("qThreadExtraInfo: bad thread id");
    }
    return Request{QueryThreadExtraInfo{*thread}};
}

std::optional<Request> parse_attached(std::string_view text) {
    if (!text.empty() && text.front() != ':') {
        return std::nullopt;
    }
    return Request{QueryAttached{}};
}

std::optional<Request> parse_supported(std::string_view text) {
    QuerySupported q;
    if (text.empty()) {
        return Request{q};
    }
    if (text.front() != ':') {
        return std::nullopt;
    }
    text.remove_prefix(1);
    while (!text.empty()) {
        auto end = text.find(';');
        if (end != 0) {
            q.features.emplace_back(text.substr(0, end));
        }
        if (end == std::string_view::npos) {
            break;
        }
        text.remove_prefix(end + 1);
    }
    return Request{std::move(q)};
}

std::optional<Request> parse_xfer(std::string_view text) {
    // object:read:annex:offset,length
    auto object = split_once(text, ':');
    if (!object) {
        return malformed("qXfer: missing operation");
    }
    auto op = split_once(object->second, ':');
    if (!op) {
        return malformed("qXfer: missing annex");
    }
    if (op->first != "read") {
        return std::nullopt;  // writes are not implemented
    }
    auto annex = split_once(op->second, ':');
    if (!annex) {
        return malformed("qXfer: missing offset,length");
    }
    auto range = parse_addr_length(annex->second);
    if (!range) {
        return malformed("qXfer: bad offset,length");
    }
    return Request{XferRead{std::string(object->first), std::string(annex->first), range->first, range->second}};
}

std::optional<Request> parse_rcmd(std::string_view text) {
    auto bytes = decode_hex(text);
    if (!bytes) {
        return malformed("qRcmd: bad hex");
    }
    return Request{MonitorCommand{std::string(bytes->begin(), bytes->end())}};
}

std::optional<Request> parse_qemu_set_sstep(std::string_view text) {
    // QEMU parses the value with strtoul(base 16), which takes a "0x".
    if (text.starts_with("0x") || text.starts_with("0X")) {
        text.remove_prefix(2);
    }
    auto flags = parse_hex_u64(text);
    if (!flags) {
        return malformed("Qqemu.sstep: bad flags");
    }
    return Request{QemuSetStepFlags{*flags}};
}

std::optional<Request> parse_qemu_set_phy_mem_mode(std::string_view text) {
    auto mode = parse_hex_u64(text);
    if (!mode) {
        return malformed("Qqemu.PhyMemMode: bad mode");
    }
    return Request{QemuSetPhysicalMode{*mode != 0}};
}

}  // namespace kvmdbg::gdb::detail
