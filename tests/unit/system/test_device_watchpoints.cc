// DeviceWatchpoints (system/device_watchpoints.h), gdb's watchpoints on
// emulated device memory: how a watched virtual range is split (pages,
// device and memory runs, unmapped pages, a range that straddles RAM and
// a device, the top of the address space), how its device parts become
// catches whose hits carry gdb's data address and direction, reference
// counts and removal, and what the debugger reads there (the device's
// side-effect-free peek, the value of the access a vCPU stopped at, bytes
// nothing backs).
#include "system/device_watchpoints.h"

#include <array>
#include <memory>
#include <optional>
#include <vector>

#include "common/byte_order.h"
#include "common/log.h"
#include "hw-models/io_bus.h"
#include "tests/support/cunit_main.h"

namespace {

using kvmdbg::Log;
using kvmdbg::hw::AddressSpace;
using kvmdbg::hw::IoBus;
using kvmdbg::hw::IoDevice;
using kvmdbg::hw::IoOutcome;
using kvmdbg::system::AccessDirection;
using kvmdbg::system::DeviceAccess;
using kvmdbg::system::DeviceAccessCatches;
using kvmdbg::system::DeviceCatchHit;
using kvmdbg::system::DeviceWatchpoints;
using kvmdbg::system::WatchExtent;

using Parts = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

// Identity paging; devices at [0x1000, 0x1fff] and [0x3000, 0x3003].
std::optional<std::uint64_t> identity(std::uint64_t va) { return va; }
Parts two_devices(std::uint64_t first, std::uint64_t last) {
    Parts out;
    for (auto [f, l] : Parts{{0x1000, 0x1fff}, {0x3000, 0x3003}}) {
        if (f <= last && l >= first) {
            out.emplace_back(std::max(f, first), std::min(l, last));
        }
    }
    return out;
}

// Memory-like device (pc-testdev's buffer) and one that cannot be peeked.
class Buffer final : public IoDevice {
public:
    std::uint64_t read(std::uint64_t offset, unsigned size) override { return kvmdbg::load_le(&bytes[offset], size); }
    IoOutcome write(std::uint64_t offset, std::uint64_t value, unsigned size) override {
        kvmdbg::store_le(&bytes[offset], value, size);
        return IoOutcome::proceed;
    }
    std::optional<std::uint64_t> peek(std::uint64_t offset, unsigned size) override { return read(offset, size); }
    std::array<std::uint8_t, 16> bytes{};
};
class Opaque final : public IoDevice {
public:
    std::uint64_t read(std::uint64_t, unsigned) override { return 0x55; }
    IoOutcome write(std::uint64_t, std::uint64_t, unsigned) override { return IoOutcome::proceed; }
};

struct Rig {
    Log log;
    IoBus bus{log};
    std::shared_ptr<Buffer> buffer = std::make_shared<Buffer>();
    DeviceAccessCatches catches{2};
    DeviceWatchpoints watchpoints{bus, catches, 2};
    Rig() {
        CU_ASSERT_TRUE(bus.map(AddressSpace::mmio, 0xff000000, 16, "buffer", buffer).ok());
        CU_ASSERT_TRUE(bus.map(AddressSpace::mmio, 0xff000010, 16, "opaque", std::make_shared<Opaque>()).ok());
    }
};

// ------------------------------------------------------------- planning

void test_plan_all_memory_or_all_device() {
    auto ram = DeviceWatchpoints::plan(0x500, 8, identity, two_devices);
    CU_ASSERT_TRUE(ram == (std::vector<WatchExtent>{{0x500, 0x500, 8, false}}));
    auto dev = DeviceWatchpoints::plan(0x1ff8, 8, identity, two_devices);
    CU_ASSERT_TRUE(dev == (std::vector<WatchExtent>{{0x1ff8, 0x1ff8, 8, true}}));
}

void test_plan_splits_a_range_that_straddles_memory_and_a_device() {
    // 0xffc..0x1003: 4 bytes of memory, then 4 of the device.
    auto e = DeviceWatchpoints::plan(0xffc, 8, identity, two_devices);
    CU_ASSERT_TRUE(e == (std::vector<WatchExtent>{{0xffc, 0xffc, 4, false}, {0x1000, 0x1000, 4, true}}));
    // 0x2ffe..0x3005: memory, the 4-byte device, memory.
    e = DeviceWatchpoints::plan(0x2ffe, 8, identity, two_devices);
    CU_ASSERT_TRUE(
        e ==
        (std::vector<WatchExtent>{{0x2ffe, 0x2ffe, 2, false}, {0x3000, 0x3000, 4, true}, {0x3004, 0x3004, 2, false}}));
}

void test_plan_follows_the_paging_per_page() {
    // Virtual page 0x7000 maps the device page 0x1000, page 0x8000 maps RAM
    // at 0x9000, page 0x9000 is not mapped.
    auto paging = [](std::uint64_t va) -> std::optional<std::uint64_t> {
        if (va >= 0x7000 && va < 0x8000) {
            return va - 0x6000;
        }
        if (va >= 0x8000 && va < 0x9000) {
            return va + 0x1000;
        }
        return std::nullopt;
    };
    auto e = DeviceWatchpoints::plan(0x7ffe, 0x1004, paging, two_devices);
    CU_ASSERT_TRUE(e == (std::vector<WatchExtent>{{0x7ffe, 0x1ffe, 2, true},
                                                  {0x8000, 0x9000, 0x1000, false},
                                                  {0x9000, std::nullopt, 2, false}}));
}

void test_plan_merges_physically_contiguous_pages_only() {
    // Two virtual pages over two consecutive device pages: one run. The
    // same pages in the other order: two runs.
    auto forward = [](std::uint64_t va) -> std::optional<std::uint64_t> { return va - 0x4000 + 0x1000; };
    auto parts = [](std::uint64_t first, std::uint64_t last) { return Parts{{first, last}}; };
    auto e = DeviceWatchpoints::plan(0x4ffc, 8, forward, parts);
    CU_ASSERT_TRUE(e == (std::vector<WatchExtent>{{0x4ffc, 0x1ffc, 8, true}}));
    auto swapped = [](std::uint64_t va) -> std::optional<std::uint64_t> {
        return va < 0x5000 ? va - 0x4000 + 0x2000 : va - 0x5000 + 0x1000;
    };
    e = DeviceWatchpoints::plan(0x4ffc, 8, swapped, parts);
    CU_ASSERT_TRUE(e == (std::vector<WatchExtent>{{0x4ffc, 0x2ffc, 4, true}, {0x5000, 0x1000, 4, true}}));
}

void test_plan_length_zero_and_the_top_of_the_address_space() {
    auto e = DeviceWatchpoints::plan(0x1000, 0, identity, two_devices);
    CU_ASSERT_TRUE(e == (std::vector<WatchExtent>{{0x1000, 0x1000, 1, true}}));
    const std::uint64_t top = ~std::uint64_t{0};
    e = DeviceWatchpoints::plan(top - 1, 8, identity, two_devices);
    CU_ASSERT_TRUE(e == (std::vector<WatchExtent>{{top - 1, top - 1, 2, false}}));
    e = DeviceWatchpoints::plan(0, 4, identity, two_devices);
    CU_ASSERT_TRUE(e == (std::vector<WatchExtent>{{0, 0, 4, false}}));
}

void test_plan_against_the_bus() {
    Rig rig;
    auto e = rig.watchpoints.plan(0xfefffffe, 0x14, identity);
    CU_ASSERT_TRUE(
        e == (std::vector<WatchExtent>{{0xfefffffe, 0xfefffffe, 2, false}, {0xff000000, 0xff000000, 0x12, true}}));
}

// ------------------------------------------------------------- catches

void test_device_parts_become_watch_catches() {
    Rig rig;
    auto extents = DeviceWatchpoints::plan(
        0xffffffff80000ffc, 8,
        [](std::uint64_t va) -> std::optional<std::uint64_t> { return va - 0xffffffff80000000 + 0xff000000 - 0x1000; },
        [](std::uint64_t first, std::uint64_t last) {
            return last < 0xff000000 ? Parts{} : Parts{{std::max<std::uint64_t>(first, 0xff000000), last}};
        });
    // gpa 0xfefffffc..0xff000003: memory 4, device 4.
    CU_ASSERT_EQUAL_FATAL(extents.size(), 2u);
    rig.watchpoints.add(2, 0xffffffff80000ffc, 8, AccessDirection::write, extents);
    CU_ASSERT_TRUE(rig.catches.active());
    CU_ASSERT_TRUE(rig.catches.list().empty());  // not the debugger's catches
    auto id = rig.catches.match(AddressSpace::mmio, 0xff000002, 2, true);
    CU_ASSERT_TRUE_FATAL(id.has_value());
    CU_ASSERT_FALSE(rig.catches.match(AddressSpace::mmio, 0xff000002, 2, false).has_value());  // a read
    CU_ASSERT_FALSE(rig.catches.remove(*id));  // `delete catch` cannot take it
    rig.catches.record(DeviceCatchHit{*id, 1, DeviceAccess{AddressSpace::mmio, 0xff000002, 2, true, 0xbeef, "b"}});
    auto hit = rig.catches.take_hit(1);
    CU_ASSERT_TRUE_FATAL(hit.has_value());
    CU_ASSERT_TRUE(hit->watch_addr == std::optional<std::uint64_t>(0xffffffff80001002));
    CU_ASSERT_TRUE(hit->watch_direction == AccessDirection::write);
    // An access that starts below the watched part reports its first byte.
    rig.catches.record(DeviceCatchHit{*id, 0, DeviceAccess{AddressSpace::mmio, 0xfefffffe, 4, true, 1, "b"}});
    CU_ASSERT_TRUE(rig.catches.take_hit(0)->watch_addr == std::optional<std::uint64_t>(0xffffffff80001000));
}

void test_references_and_removal() {
    Rig rig;
    auto extents = rig.watchpoints.plan(0xff000000, 4, identity);
    rig.watchpoints.add(4, 0xff000000, 4, AccessDirection::both, extents);
    rig.watchpoints.add(4, 0xff000000, 4, AccessDirection::both, extents);
    CU_ASSERT_TRUE(rig.watchpoints.remove(4, 0xff000000, 4).has_value());
    CU_ASSERT_TRUE(rig.catches.active());                                   // one reference left
    CU_ASSERT_FALSE(rig.watchpoints.remove(3, 0xff000000, 4).has_value());  // another type: not set here
    auto removed = rig.watchpoints.remove(4, 0xff000000, 4);
    CU_ASSERT_TRUE(removed.has_value() && *removed == extents);
    CU_ASSERT_FALSE(rig.catches.active());
    CU_ASSERT_FALSE(rig.watchpoints.remove(4, 0xff000000, 4).has_value());
}

void test_clear_removes_every_watch_and_keeps_the_debuggers_catches() {
    Rig rig;
    unsigned mine = rig.catches.add(AddressSpace::pio, 0x3f8, 0x3f8, AccessDirection::write);
    rig.watchpoints.add(2, 0xff000000, 4, AccessDirection::write, rig.watchpoints.plan(0xff000000, 4, identity));
    rig.watchpoints.add(3, 0xff000008, 8, AccessDirection::read, rig.watchpoints.plan(0xff000008, 8, identity));
    rig.watchpoints.clear();
    CU_ASSERT_EQUAL(rig.catches.list().size(), 1u);
    CU_ASSERT_FALSE(rig.catches.match(AddressSpace::mmio, 0xff000000, 4, true).has_value());
    CU_ASSERT_TRUE(rig.catches.remove(mine));
    CU_ASSERT_FALSE(rig.catches.active());
}

// ------------------------------------------------------------- reads

void test_read_peeks_the_device() {
    Rig rig;
    rig.buffer->write(0, 0x12345678, 4);
    std::array<std::uint8_t, 4> out{};
    CU_ASSERT_EQUAL(rig.watchpoints.read(0, 0xff000000, out), 4u);
    CU_ASSERT_EQUAL(kvmdbg::load_le(out.data(), 4), 0x12345678u);
    std::array<std::uint8_t, 3> odd{};
    CU_ASSERT_EQUAL(rig.watchpoints.read(0, 0xff000001, odd), 3u);  // byte by byte
    CU_ASSERT_EQUAL(kvmdbg::load_le(odd.data(), 3), 0x123456u);
}

void test_read_stops_where_nothing_answers() {
    Rig rig;
    std::array<std::uint8_t, 8> out{};
    CU_ASSERT_EQUAL(rig.watchpoints.read(0, 0xff000010, out), 0u);  // a device without peek
    std::array<std::uint8_t, 20> across{};
    CU_ASSERT_EQUAL(rig.watchpoints.read(0, 0xff000000, across), 16u);  // the buffer, then the opaque device
    CU_ASSERT_EQUAL(rig.watchpoints.read(0, 0xfe000000, out), 0u);      // nothing mapped
}

void test_read_at_a_watch_stop_gives_the_accessed_value() {
    Rig rig;
    // The opaque device took a write of 0xab; vCPU 1 stopped on it.
    rig.watchpoints.note_stop(1, DeviceAccess{AddressSpace::mmio, 0xff000010, 1, true, 0xab, "opaque"});
    std::array<std::uint8_t, 1> out{};
    CU_ASSERT_EQUAL(rig.watchpoints.read(1, 0xff000010, out), 1u);
    CU_ASSERT_EQUAL(out[0], 0xab);
    CU_ASSERT_EQUAL(rig.watchpoints.read(0, 0xff000010, out), 0u);  // vCPU 0 did not stop there
    // The buffer's bytes the access covered read its value, the others the buffer's.
    rig.buffer->write(0, 0x11111111, 4);
    rig.watchpoints.note_stop(0, DeviceAccess{AddressSpace::mmio, 0xff000001, 2, true, 0xbbaa, "buffer"});
    std::array<std::uint8_t, 4> word{};
    CU_ASSERT_EQUAL(rig.watchpoints.read(0, 0xff000000, word), 4u);
    CU_ASSERT_EQUAL(kvmdbg::load_le(word.data(), 4), 0x11bbaa11u);
    rig.watchpoints.note_resume(0);
    CU_ASSERT_EQUAL(rig.watchpoints.read(0, 0xff000000, word), 4u);
    CU_ASSERT_EQUAL(kvmdbg::load_le(word.data(), 4), 0x11111111u);
    // A port access is not device memory.
    rig.watchpoints.note_stop(0, DeviceAccess{AddressSpace::pio, 0xff000010, 1, true, 0xcd, "port"});
    CU_ASSERT_EQUAL(rig.watchpoints.read(0, 0xff000010, out), 0u);
}

void test_step_over_is_taken_once_per_hit() {
    Rig rig;
    CU_ASSERT_FALSE(rig.watchpoints.take_step_over(0));
    rig.watchpoints.note_stop(0, DeviceAccess{AddressSpace::mmio, 0xff000000, 4, true, 7, "buffer"});
    CU_ASSERT_FALSE(rig.watchpoints.take_step_over(1));
    CU_ASSERT_TRUE(rig.watchpoints.take_step_over(0));
    CU_ASSERT_FALSE(rig.watchpoints.take_step_over(0));  // a second stepi really steps
    std::array<std::uint8_t, 4> out{};
    CU_ASSERT_EQUAL(rig.watchpoints.read(0, 0xff000000, out), 4u);  // the value is still the access's
    CU_ASSERT_EQUAL(kvmdbg::load_le(out.data(), 4), 7u);
    rig.watchpoints.note_stop(0, DeviceAccess{AddressSpace::mmio, 0xff000000, 4, true, 8, "buffer"});
    rig.watchpoints.note_resume(0);
    CU_ASSERT_FALSE(rig.watchpoints.take_step_over(0));  // resumed: no pending step-over
}

const kvmdbg::test::TestCase kPlan[] = {
    {"all memory or all device", test_plan_all_memory_or_all_device},
    {"a range straddling memory and a device is split", test_plan_splits_a_range_that_straddles_memory_and_a_device},
    {"the paging is followed per page", test_plan_follows_the_paging_per_page},
    {"only physically contiguous pages merge", test_plan_merges_physically_contiguous_pages_only},
    {"length 0 and the top of the address space", test_plan_length_zero_and_the_top_of_the_address_space},
    {"against the bus's MMIO map", test_plan_against_the_bus},
};
const kvmdbg::test::TestCase kCatches[] = {
    {"device parts become watch catches", test_device_parts_become_watch_catches},
    {"references and removal", test_references_and_removal},
    {"clear() keeps the debugger's catches", test_clear_removes_every_watch_and_keeps_the_debuggers_catches},
};
const kvmdbg::test::TestCase kReads[] = {
    {"reads peek the device", test_read_peeks_the_device},
    {"reads stop where nothing answers", test_read_stops_where_nothing_answers},
    {"at a watch stop the access's value", test_read_at_a_watch_stop_gives_the_accessed_value},
    {"the step-over is taken once per hit", test_step_over_is_taken_once_per_hit},
};
const kvmdbg::test::TestSuite kSuites[] = {
    {"watch planning", kPlan},
    {"watch catches", kCatches},
    {"device memory reads", kReads},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
