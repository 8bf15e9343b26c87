// The target's memory map for qXfer:memory-map:read (gdb manual, "Memory
// Map Format"):
//
//   <?xml version="1.0"?>
//   <!DOCTYPE memory-map PUBLIC "+//IDN gnu.org//DTD GDB Memory Map V1.0//EN"
//                               "http://sourceware.org/gdb/gdb-memory-map.dtd">
//   <memory-map>
//     <memory type="ram" start="0x0" length="0x9fc00"/>
//     <memory type="rom" start="0xf0000" length="0x10000"/>
//   </memory-map>
//
// gdb treats "rom" as read-only (it refuses to write there and uses hardware
// breakpoints instead of software ones), and by default treats addresses
// outside every region as inaccessible ("mem inaccessible-by-default").
// The map applies to the addresses gdb uses, which are virtual once the
// guest pages: a target whose guest runs with paging should report no map
// (the session then does not advertise qXfer:memory-map:read).
// Pure; any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace kvmdbg::gdb {

struct MemoryRegion {
    enum class Kind { ram, rom };
    Kind kind = Kind::ram;
    std::uint64_t start = 0;
    std::uint64_t length = 0;
};

/// The XML document, regions sorted by start; empty regions are left out.
/// Overlapping regions are the caller's error (gdb rejects the map).
std::string memory_map_xml(std::span<const MemoryRegion> regions);

}  // namespace kvmdbg::gdb
