// IoBus's view of its mappings (hw-models/io_bus.h), as address maps and
// device-access catches use it: ranges() lists every mapping in the order
// mapped with its space, base, size and name; name_at() names the device
// at an address, and gives "" outside every range and in the other space.
#include "hw-models/io_bus.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/cunit_main.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::hw;

class NullDevice final : public IoDevice {
public:
    std::uint64_t read(std::uint64_t, unsigned) override { return 0; }
    IoOutcome write(std::uint64_t, std::uint64_t, unsigned) override { return IoOutcome::proceed; }
};

class StatefulDevice final : public IoDevice {
public:
    std::uint64_t read(std::uint64_t, unsigned) override { return 0; }
    IoOutcome write(std::uint64_t, std::uint64_t, unsigned) override { return IoOutcome::proceed; }
    std::string state_text() const override { return "REG = 0x01\n"; }
};

// COM1's ports, an MMIO window, then pci-conf1's ports: out of address
// order, mixing the spaces.
void map_three(IoBus& bus) {
    auto dev = std::make_shared<NullDevice>();
    CU_ASSERT_TRUE_FATAL(bus.map(AddressSpace::pio, 0x3f8, 8, "COM1", dev).ok());
    CU_ASSERT_TRUE_FATAL(bus.map(AddressSpace::mmio, 0xff000000, 0x10000, "iomem", dev).ok());
    CU_ASSERT_TRUE_FATAL(bus.map(AddressSpace::pio, 0xcf8, 8, "pci-conf1", dev).ok());
}

void test_ranges_empty_without_mappings() {
    Log log;
    IoBus bus(log);
    CU_ASSERT_TRUE(bus.ranges().empty());
    CU_ASSERT_EQUAL(bus.name_at(AddressSpace::pio, 0x3f8), "");
}

void test_ranges_in_mapping_order() {
    Log log;
    IoBus bus(log);
    map_three(bus);
    std::vector<IoBus::Range> ranges = bus.ranges();
    CU_ASSERT_EQUAL_FATAL(ranges.size(), 3u);
    CU_ASSERT(ranges[0].space == AddressSpace::pio);
    CU_ASSERT_EQUAL(ranges[0].base, 0x3f8u);
    CU_ASSERT_EQUAL(ranges[0].size, 8u);
    CU_ASSERT_EQUAL(ranges[0].name, "COM1");
    CU_ASSERT(ranges[1].space == AddressSpace::mmio);
    CU_ASSERT_EQUAL(ranges[1].base, 0xff000000u);
    CU_ASSERT_EQUAL(ranges[1].size, 0x10000u);
    CU_ASSERT_EQUAL(ranges[1].name, "iomem");
    CU_ASSERT(ranges[2].space == AddressSpace::pio);
    CU_ASSERT_EQUAL(ranges[2].base, 0xcf8u);
    CU_ASSERT_EQUAL(ranges[2].size, 8u);
    CU_ASSERT_EQUAL(ranges[2].name, "pci-conf1");
}

void test_refused_mapping_is_not_listed() {
    Log log;
    IoBus bus(log);
    map_three(bus);
    CU_ASSERT_FALSE(bus.map(AddressSpace::pio, 0x3fc, 8, "overlap", std::make_shared<NullDevice>()).ok());
    CU_ASSERT_EQUAL(bus.ranges().size(), 3u);
    CU_ASSERT_EQUAL(bus.name_at(AddressSpace::pio, 0x400), "");
}

void test_name_at_inside_a_range() {
    Log log;
    IoBus bus(log);
    map_three(bus);
    CU_ASSERT_EQUAL(bus.name_at(AddressSpace::pio, 0x3f8), "COM1");
    CU_ASSERT_EQUAL(bus.name_at(AddressSpace::pio, 0x3ff), "COM1");
    CU_ASSERT_EQUAL(bus.name_at(AddressSpace::pio, 0xcfc), "pci-conf1");
    CU_ASSERT_EQUAL(bus.name_at(AddressSpace::mmio, 0xff000000), "iomem");
    CU_ASSERT_EQUAL(bus.name_at(AddressSpace::mmio, 0xff00ffff), "iomem");
}

void test_name_at_outside_or_in_the_other_space() {
    Log log;
    IoBus bus(log);
    map_three(bus);
    CU_ASSERT_EQUAL(bus.name_at(AddressSpace::pio, 0x3f7), "");
    CU_ASSERT_EQUAL(bus.name_at(AddressSpace::pio, 0x400), "");
    CU_ASSERT_EQUAL(bus.name_at(AddressSpace::mmio, 0xfeffffff), "");
    CU_ASSERT_EQUAL(bus.name_at(AddressSpace::mmio, 0xff010000), "");
    // The same numbers in the other space are not the device's.
    CU_ASSERT_EQUAL(bus.name_at(AddressSpace::mmio, 0x3f8), "");
    CU_ASSERT_EQUAL(bus.name_at(AddressSpace::mmio, 0xcf8), "");
    CU_ASSERT_EQUAL(bus.name_at(AddressSpace::pio, 0xff000000), "");
}

void test_device_state_by_name() {
    Log log;
    IoBus bus(log);
    CU_ASSERT_TRUE_FATAL(bus.map(AddressSpace::pio, 0x70, 2, "cmos", std::make_shared<StatefulDevice>()).ok());
    CU_ASSERT_TRUE_FATAL(bus.map(AddressSpace::pio, 0xf4, 4, "exit", std::make_shared<NullDevice>()).ok());
    CU_ASSERT_EQUAL(bus.device_state("cmos").value_or("?"), "REG = 0x01\n");
    CU_ASSERT_EQUAL(bus.device_state("exit").value_or("?"), "");
    CU_ASSERT_FALSE(bus.device_state("nope").has_value());
}

class PeekableDevice final : public IoDevice {
public:
    std::uint64_t read(std::uint64_t offset, unsigned) override { return 0x100 + offset; }
    IoOutcome write(std::uint64_t, std::uint64_t, unsigned) override { return IoOutcome::proceed; }
    std::optional<std::uint64_t> peek(std::uint64_t offset, unsigned size) override { return offset * 16 + size; }
};

void test_peek_within_one_mapping() {
    Log log;
    IoBus bus(log);
    CU_ASSERT_TRUE_FATAL(bus.map(AddressSpace::mmio, 0x1000, 8, "peekable", std::make_shared<PeekableDevice>()).ok());
    CU_ASSERT_TRUE_FATAL(bus.map(AddressSpace::mmio, 0x1008, 8, "null", std::make_shared<NullDevice>()).ok());
    CU_ASSERT_EQUAL(bus.peek(AddressSpace::mmio, 0x1004, 4).value_or(0), 0x44u);
    CU_ASSERT_FALSE(bus.peek(AddressSpace::mmio, 0x1006, 4).has_value());  // runs past the mapping
    CU_ASSERT_FALSE(bus.peek(AddressSpace::mmio, 0x1008, 1).has_value());  // no peek: the default
    CU_ASSERT_FALSE(bus.peek(AddressSpace::pio, 0x1000, 1).has_value());   // the other space
    CU_ASSERT_FALSE(bus.peek(AddressSpace::mmio, 0x1000, 0).has_value());
    CU_ASSERT_FALSE(bus.peek(AddressSpace::mmio, 0x1000, 9).has_value());
}

void test_mapped_parts_in_address_order() {
    Log log;
    IoBus bus(log);
    map_three(bus);
    auto dev = std::make_shared<NullDevice>();
    CU_ASSERT_TRUE_FATAL(bus.map(AddressSpace::mmio, 0xfe000000, 0x1000, "low", dev).ok());
    using Parts = std::vector<std::pair<std::uint64_t, std::uint64_t>>;
    CU_ASSERT_TRUE(bus.mapped_parts(AddressSpace::mmio, 0xfe000800, 0xff000003) ==
                   (Parts{{0xfe000800, 0xfe000fff}, {0xff000000, 0xff000003}}));
    CU_ASSERT_TRUE(bus.mapped_parts(AddressSpace::mmio, 0, 0xfdffffff).empty());
    CU_ASSERT_TRUE(bus.mapped_parts(AddressSpace::pio, 0x3f0, 0x3ff) == (Parts{{0x3f8, 0x3ff}}));
}

const kvmdbg::test::TestCase kCases[] = {
    {"peek() within one mapping", test_peek_within_one_mapping},
    {"mapped_parts() in address order", test_mapped_parts_in_address_order},
    {"device_state() by name: text, empty, none", test_device_state_by_name},
    {"no mappings: no ranges", test_ranges_empty_without_mappings},
    {"ranges() in mapping order", test_ranges_in_mapping_order},
    {"a refused mapping is not listed", test_refused_mapping_is_not_listed},
    {"name_at() inside a range", test_name_at_inside_a_range},
    {"name_at() outside or in the other space", test_name_at_outside_or_in_the_other_space},
};
const kvmdbg::test::TestSuite kSuites[] = {{"io bus ranges", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
