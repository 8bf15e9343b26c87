// Internal to the request parser: field helpers shared by the per-family
// parsers, and the family parsers the prefix table in request_parser.cc
// dispatches to. Each family parser gets the text after its table prefix.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "gdbstub-glue/request.h"

namespace kvmdbg::gdb::detail {

/// The request for a malformed packet (reply E22).
inline Request malformed(std::string reason) { return MalformedPacket{std::move(reason)}; }

/// Splits at the first `sep`: {before, after}; std::nullopt without `sep`.
std::optional<std::pair<std::string_view, std::string_view>> split_once(std::string_view text, char sep);

/// "addr,length", both hex.
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_addr_length(std::string_view text);

/// A thread id: "-1", "0" or a positive hex number.
std::optional<ThreadId> parse_thread_id(std::string_view text);

/// A signal number: hex, at most 0xff.
std::optional<int> parse_signal(std::string_view text);

// Family parsers (text = what follows the table prefix).
std::optional<Request> parse_read_registers(std::string_view text);         // g
std::optional<Request> parse_write_registers(std::string_view text);        // G
std::optional<Request> parse_read_register(std::string_view text);          // p
std::optional<Request> parse_write_register(std::string_view text);         // P
std::optional<Request> parse_read_memory_hex(std::string_view text);        // m
std::optional<Request> parse_read_memory_bin(std::string_view text);        // x
std::optional<Request> parse_write_memory_hex(std::string_view text);       // M
std::optional<Request> parse_write_memory_bin(std::string_view text);       // X
std::optional<Request> parse_continue(std::string_view text);               // c
std::optional<Request> parse_continue_signal(std::string_view text);        // C
std::optional<Request> parse_step(std::string_view text);                   // s
std::optional<Request> parse_step_signal(std::string_view text);            // S
std::optional<Request> parse_vcont(std::string_view text);                  // vCont
std::optional<Request> parse_insert_breakpoint(std::string_view text);      // Z
std::optional<Request> parse_remove_breakpoint(std::string_view text);      // z
std::optional<Request> parse_set_thread(std::string_view text);             // H
std::optional<Request> parse_thread_alive(std::string_view text);           // T
std::optional<Request> parse_detach(std::string_view text);                 // D
std::optional<Request> parse_thread_extra_info(std::string_view text);      // qThreadExtraInfo,
std::optional<Request> parse_attached(std::string_view text);               // qAttached
std::optional<Request> parse_supported(std::string_view text);              // qSupported
std::optional<Request> parse_xfer(std::string_view text);                   // qXfer:
std::optional<Request> parse_rcmd(std::string_view text);                   // qRcmd,
std::optional<Request> parse_qemu_set_sstep(std::string_view text);         // Qqemu.sstep=
std::optional<Request> parse_qemu_set_phy_mem_mode(std::string_view text);  // Qqemu.PhyMemMode:

}  // namespace kvmdbg::gdb::detail
