#include "system/address_map.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <tuple>
#include <vector>

namespace kvmdbg::system {

namespace {

struct Line {
    std::uint64_t first;
    std::uint64_t last;
    std::string kind;
    std::string name;
};

std::string format_space(const char* title, std::vector<Line> lines) {
    std::sort(lines.begin(), lines.end(),
              [](const Line& a, const Line& b) { return std::tie(a.first, a.last) < std::tie(b.first, b.last); });
    std::string out = std::string("address-space: ") + title + "\n";
    char buf[64];
    for (const Line& l : lines) {
        std::snprintf(buf, sizeof buf, "  %016" PRIx64 "-%016" PRIx64 " ", l.first, l.last);
        out += buf + l.kind + (l.name.empty() ? "" : " " + l.name) + "\n";
    }
    return out;
}

}  // namespace

std::string format_address_map(hw::Machine& machine) {
    std::vector<Line> memory;
    std::vector<Line> io;
    for (const auto& region : machine.ram().regions()) {
        memory.push_back({region.gpa, region.gpa + region.memory.size() - 1, "ram", ""});
    }
    for (const auto& region : machine.gdb_memory_map()) {
        if (region.kind == hw::DebugMemoryRegion::Kind::rom) {
            memory.push_back({region.start, region.start + region.length - 1, "rom", ""});
        }
    }
    for (const auto& range : machine.bus().ranges()) {
        Line line{range.base, range.base + range.size - 1, "", range.name};
        if (range.space == hw::AddressSpace::mmio) {
            line.kind = "mmio";
            memory.push_back(line);
        } else {
            line.kind = "i/o";
            io.push_back(line);
        }
    }
    return format_space("memory", memory) + format_space("I/O", io);
}

std::string format_device_list(hw::IoBus& bus) {
    struct Device {
        std::string name;
        std::string ranges;
    };
    std::vector<Device> devices;
    char buf[96];
    for (const auto& r : bus.ranges()) {
        auto it = std::find_if(devices.begin(), devices.end(), [&r](const Device& d) { return d.name == r.name; });
        if (it == devices.end()) {
            devices.push_back({r.name, ""});
            it = devices.end() - 1;
        }
        std::snprintf(buf, sizeof buf, "%s%s 0x%" PRIx64 "-0x%" PRIx64, it->ranges.empty() ? "" : ", ",
                      hw::address_space_name(r.space), r.base, r.base + r.size - 1);
        it->ranges += buf;
    }
    std::string out;
    for (const Device& d : devices) {
        auto state = bus.device_state(d.name);
        std::string line = d.name;
        line.resize(std::max<std::size_t>(line.size() + 1, 24), ' ');
        line += d.ranges;
        if (state && !state->empty()) {
            line.resize(std::max<std::size_t>(line.size() + 2, 64), ' ');
            line += "registers";
        }
        out += line + "\n";
    }
    return out.empty() ? "No devices.\n" : out;
}

}  // namespace kvmdbg::system
