// Parses one packet payload (the bytes between '$' and '#', as the framer
// delivers them) into a Request.
//
//   std::nullopt                 a packet kvmdbg does not implement (or an
//                                unknown Z type): the reply is the empty
//                                packet (gdb manual, "Standard Replies")
//   Request{MalformedPacket}     a known packet with bad syntax: "E22"
//   Request{...}                 the request, syntax checked
//
// The parser is a table of packet-name prefixes, each with one small parser
// per packet family (parse_memory.cc, parse_breakpoint.cc, ...), in the
// spirit of QEMU's GdbCmdParseEntry tables. Query names are matched whole:
// "qC" is not "qCRC". Pure; any thread; never fails on any input.
#pragma once

#include <optional>
#include <string_view>

#include "gdbstub-glue/request.h"

namespace kvmdbg::gdb {

std::optional<Request> parse_request(std::string_view payload);

}  // namespace kvmdbg::gdb
