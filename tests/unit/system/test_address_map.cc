// format_address_map (system/address_map.h), `monitor info mtree`, on a
// real pc-lite built through the machine registry: the memory address space
// (RAM, the firmware ROM, pc-testdev's MMIO with -device pc-testdev) and the
// I/O port space (COM1, pci-conf1, ...), each line an inclusive range, each
// space sorted by address; RAM above 3 GiB shows as a second RAM line.
#include "system/address_map.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "hw-models/machine_registry.h"
#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::hw;

class QuietHost final : public MachineHost {
public:
    void request_exit(int, const std::string&) override {}
    void request_reset(const std::string&) override {}
    void request_poweroff(const std::string&) override {}
    void set_irq_line(std::uint32_t, bool) override {}
};

// The address map of pc-lite with `ram_size` bytes of RAM and `request`'s
// -device list, no kernel loaded.
std::string pc_lite_address_map(std::uint64_t ram_size, const MachineRequest& request) {
    Log log;
    QuietHost host;
    MachineOptions options;
    options.ram_size = ram_size;
    options.serial = "none";
    const MachineType* type = find_machine_type("pc-lite");
    CU_ASSERT_PTR_NOT_NULL_FATAL(type);
    auto machine = create_machine(*type, request, options, log, host);
    CU_ASSERT_TRUE_FATAL(static_cast<bool>(machine));
    return system::format_address_map(**machine);
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

bool has_line(const std::vector<std::string>& lines, const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
}

// The lines of address space `title` (between its header and the next).
std::vector<std::string> space_lines(const std::vector<std::string>& lines, const std::string& title) {
    std::vector<std::string> out;
    auto it = std::find(lines.begin(), lines.end(), "address-space: " + title);
    if (it == lines.end()) {
        return out;
    }
    for (++it; it != lines.end() && !it->starts_with("address-space: "); ++it) {
        out.push_back(*it);
    }
    return out;
}

// Each line "  FIRST-LAST KIND[ NAME]" starts at or after the one before.
bool sorted_by_address(const std::vector<std::string>& lines) {
    std::uint64_t previous = 0;
    for (const std::string& line : lines) {
        if (line.size() < 2 + 16 || !line.starts_with("  ")) {
            return false;
        }
        std::uint64_t first = std::stoull(line.substr(2, 16), nullptr, 16);
        if (first < previous) {
            return false;
        }
        previous = first;
    }
    return true;
}

void test_pc_lite_map_lists_ram_rom_and_ports() {
    auto lines = lines_of(pc_lite_address_map(128ull << 20, MachineRequest{}));
    CU_ASSERT_FATAL(!lines.empty());
    CU_ASSERT_EQUAL(lines[0], "address-space: memory");
    auto memory = space_lines(lines, "memory");
    auto io = space_lines(lines, "I/O");
    CU_ASSERT_TRUE(memory == (std::vector<std::string>{"  0000000000000000-0000000007ffffff ram",
                                                       "  00000000ffff0000-00000000ffffffff rom"}));
    CU_ASSERT_TRUE(has_line(io, "  00000000000003f8-00000000000003ff i/o COM1"));
    CU_ASSERT_TRUE(has_line(io, "  0000000000000cf8-0000000000000cff i/o pci-conf1"));
    CU_ASSERT_TRUE(has_line(io, "  0000000000000070-0000000000000071 i/o cmos-rtc"));
    CU_ASSERT_TRUE(has_line(io, "  0000000000000510-0000000000000511 i/o fw_cfg"));
    CU_ASSERT_TRUE(sorted_by_address(memory));
    CU_ASSERT_TRUE(sorted_by_address(io));
    // Every line is in one of the two spaces: no port shows as memory.
    CU_ASSERT_EQUAL(lines.size(), 2 + memory.size() + io.size());
    CU_ASSERT_TRUE(std::none_of(io.begin(), io.end(), [](const std::string& l) { return l.ends_with(" ram"); }));
}

void test_pc_testdev_adds_its_mmio_range() {
    MachineRequest request;
    request.devices = {{"pc-testdev", {}}};
    auto lines = lines_of(pc_lite_address_map(128ull << 20, request));
    auto memory = space_lines(lines, "memory");
    CU_ASSERT_TRUE(memory == (std::vector<std::string>{"  0000000000000000-0000000007ffffff ram",
                                                       "  00000000ff000000-00000000ff00ffff mmio pc-testdev-iomem",
                                                       "  00000000ffff0000-00000000ffffffff rom"}));
    auto io = space_lines(lines, "I/O");
    CU_ASSERT_TRUE(has_line(io, "  00000000000000e0-00000000000000e3 i/o pc-testdev-ioport"));
    CU_ASSERT_TRUE(sorted_by_address(io));
}

void test_ram_above_3gib_shows_two_ram_lines() {
    auto lines = lines_of(pc_lite_address_map((3ull << 30) + (16ull << 20), MachineRequest{}));
    auto memory = space_lines(lines, "memory");
    CU_ASSERT_TRUE(memory == (std::vector<std::string>{"  0000000000000000-00000000bfffffff ram",
                                                       "  00000000ffff0000-00000000ffffffff rom",
                                                       "  0000000100000000-0000000100ffffff ram"}));
}

const kvmdbg::test::TestCase kCases[] = {
    {"pc-lite: RAM, ROM and ports, sorted", test_pc_lite_map_lists_ram_rom_and_ports},
    {"-device pc-testdev adds its MMIO range", test_pc_testdev_adds_its_mmio_range},
    {"RAM above 3 GiB shows two RAM lines", test_ram_above_3gib_shows_two_ram_lines},
};
const kvmdbg::test::TestSuite kSuites[] = {{"address map", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
