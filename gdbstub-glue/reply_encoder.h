// Reply payloads (before framing, see packet_framer.h), byte for byte as
// the gdb manual specifies them: "Standard Replies", "Stop Reply Packets",
// "General Query Packets" (qfThreadInfo, qThreadExtraInfo, qXfer, qRcmd,
// qSupported) and "Packets" (x). Pure functions; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gdbstub-glue/request.h"

namespace kvmdbg::gdb {

/// "E" + the errno in decimal, at least two digits, as QEMU does: EFAULT
/// "E14", EINVAL "E22", ENOSPC "E28". gdb shows the number, it does not
/// interpret it.
std::string error_reply(int errno_code);

/// A register sent with a stop reply: `regnum:value;`.
struct ExpeditedRegister {
    unsigned regnum = 0;
    std::vector<std::uint8_t> value;  ///< raw, target byte order
};

/// A `T` stop reply:
///
///   T AA thread:ID; [rr:VALUE;]... [swbreak:; | hwbreak:; | watch:ADDR; |
///                                   rwatch:ADDR; | awatch:ADDR;]
///
/// AA, ID, rr and ADDR are lower-case hex; AA two digits.
struct StopReply {
    enum class Reason { none, swbreak, hwbreak, watch, rwatch, awatch };
    int signal = 5;
    ThreadId thread = 1;
    std::vector<ExpeditedRegister> registers;
    Reason reason = Reason::none;
    std::uint64_t address = 0;  ///< watch/rwatch/awatch only
};

std::string encode_stop_reply(const StopReply& reply);

/// "W AA": the process (the machine) exited with `code` (low 8 bits).
std::string encode_exit_reply(int code);

/// One qfThreadInfo/qsThreadInfo reply: "m1,2,3" for a non-empty chunk,
/// "l" for the end of the list.
std::string encode_thread_list(std::span<const ThreadId> chunk);

/// "O" + hex of `text`: console output (qRcmd).
std::string encode_console_output(std::string_view text);

/// Splits `text` into O packets of at most `max_chars` characters each.
std::vector<std::string> encode_console_output_packets(std::string_view text, std::size_t max_chars);

/// A qXfer read reply: the part of `document` at [offset, offset+length),
/// binary-escaped, prefixed 'm' if more follows and 'l' if it reaches the
/// end ("l" alone at or past the end).
std::string encode_xfer_chunk(std::string_view document, std::uint64_t offset, std::uint64_t length);

/// The `x` reply: "b" + binary-escaped bytes.
std::string encode_binary_memory(std::span<const std::uint8_t> bytes);

/// The qSupported reply. `packet_size` in bytes (sent in hex).
struct SupportedFeatures {
    std::size_t packet_size = 0x20000;
    bool memory_map = false;  ///< qXfer:memory-map:read+
};
std::string encode_supported(const SupportedFeatures& features);

/// vCont? reply.
inline constexpr std::string_view kVContActions = "vCont;c;C;s;S;r";

}  // namespace kvmdbg::gdb
