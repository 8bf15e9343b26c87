#include "gdbstub-glue/reply_encoder.h"

#include <cstdio>

#include "gdbstub-glue/binary_escape.h"
#include "gdbstub-glue/hex.h"

namespace kvmdbg::gdb {

std::string error_reply(int errno_code) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "E%02d", errno_code < 0 ? -errno_code : errno_code);
    return buf;
}

std::string encode_stop_reply(const StopReply& reply) {
    char sig[4];
    std::snprintf(sig, sizeof sig, "%02x", reply.signal & 0xff);
    std::string out = "T";
    out += sig;
    out += "thread:" + format_hex(static_cast<std::uint64_t>(reply.thread)) + ";";
    for (const ExpeditedRegister& r : reply.registers) {
        out += format_hex(r.regnum) + ":" + encode_hex(r.value) + ";";
    }
    switch (reply.reason) {
    case StopReply::Reason::none: break;
    case StopReply::Reason::swbreak: out += "swbreak:;"; break;
    case StopReply::Reason::hwbreak: out += "hwbreak:;"; break;
    case StopReply::Reason::watch: out += "watch:" + format_hex(reply.address) + ";"; break;
    case StopReply::Reason::rwatch: out += "rwatch:" + format_hex(reply.address) + ";"; break;
    case StopReply::Reason::awatch: out += "awatch:" + format_hex(reply.address) + ";"; break;
    }
    return out;
}

std::string encode_exit_reply(int code) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%02x", code & 0xff);
    return std::string("W") + buf;
}

std::string encode_thread_list(std::span<const ThreadId> chunk) {
    if (chunk.empty()) {
        return "l";
    }
    std::string out = "m";
    for (std::size_t i = 0; i < chunk.size(); ++i) {
        if (i != 0) {
            out += ',';
        }
        out += format_hex(static_cast<std::uint64_t>(chunk[i]));
    }
    return out;
}

std::string encode_console_output(std::string_view text) { return "O" + encode_hex_text(text); }

std::vector<std::string> encode_console_output_packets(std::string_view text, std::size_t max_chars) {
    std::vector<std::string> out;
    if (max_chars == 0) {
        max_chars = 1;
    }
    for (std::size_t pos = 0; pos < text.size(); pos += max_chars) {
        out.push_back(encode_console_output(text.substr(pos, max_chars)));
    }
    return out;
}

std::string encode_xfer_chunk(std::string_view document, std::uint64_t offset, std::uint64_t length) {
    if (offset >= document.size()) {
        return "l";
    }
    std::string_view part = document.substr(offset, length);
    bool last = offset + part.size() >= document.size();
    return (last ? "l" : "m") + escape_binary_text(part);
}

std::string encode_binary_memory(std::span<const std::uint8_t> bytes) {
    std::string out = "b";
    append_escaped_binary(out, bytes);
    return out;
}

std::string encode_supported(const SupportedFeatures& features) {
    std::string out = "PacketSize=" + format_hex(features.packet_size);
    out += ";qXfer:features:read+;qXfer:threads:read+";
    if (features.memory_map) {
        out += ";qXfer:memory-map:read+";
    }
    out += ";QStartNoAckMode+;swbreak+;hwbreak+;vContSupported+;ConditionalBreakpoints+;binary-upload+";
    return out;
}

}  // namespace kvmdbg::gdb
