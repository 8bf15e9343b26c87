#include "gdbstub-glue/memory_map.h"

#include <algorithm>
#include <vector>

#include "gdbstub-glue/hex.h"

namespace kvmdbg::gdb {

std::string memory_map_xml(std::span<const MemoryRegion> regions) {
    std::vector<MemoryRegion> sorted(regions.begin(), regions.end());
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const MemoryRegion& a, const MemoryRegion& b) { return a.start < b.start; });
    std::string xml =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE memory-map PUBLIC \"+//IDN gnu.org//DTD GDB Memory Map V1.0//EN\" "
        "\"http://sourceware.org/gdb/gdb-memory-map.dtd\">\n"
        "<memory-map>\n";
    for (const MemoryRegion& r : sorted) {
        if (r.length == 0) {
            continue;
        }
        xml += "  <memory type=\"";
        xml += r.kind == MemoryRegion::Kind::rom ? "rom" : "ram";
        xml += "\" start=\"0x" + format_hex(r.start) + "\" length=\"0x" + format_hex(r.length) + "\"/>\n";
    }
    xml += "</memory-map>\n";
    return xml;
}

}  // namespace kvmdbg::gdb
