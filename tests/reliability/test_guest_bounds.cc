// Bounds of the two doors from guest-chosen addresses to host memory in
// hw-models (docs/security.md "Review"): GuestRam::host_ptr/read/write and
// IoBus::dispatch. Exact edges, wrap-around at 2^64, the gap between RAM
// regions, access sizes a device must never see.
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "common/log.h"
#include "hw-models/guest_ram.h"
#include "hw-models/io_bus.h"
#include "tests/support/cunit_main.h"

namespace {

using kvmdbg::hw::AddressSpace;
using kvmdbg::hw::GuestRam;
using kvmdbg::hw::IoBus;
using kvmdbg::hw::IoDevice;
using kvmdbg::hw::IoOutcome;

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kHigh = 1ull << 32;

GuestRam two_regions() {
    GuestRam ram;
    CU_ASSERT_FATAL(ram.add_region(0, 4 * kPage).ok());
    CU_ASSERT_FATAL(ram.add_region(kHigh, 2 * kPage).ok());
    return ram;
}

void test_host_ptr_edges() {
    GuestRam ram = two_regions();
    CU_ASSERT_PTR_NOT_NULL(ram.host_ptr(0, 4 * kPage));
    CU_ASSERT_PTR_NOT_NULL(ram.host_ptr(4 * kPage - 1, 1));
    CU_ASSERT_PTR_NULL(ram.host_ptr(4 * kPage - 1, 2));  // one byte past the end
    CU_ASSERT_PTR_NULL(ram.host_ptr(4 * kPage, 0));      // one past the end, empty
    CU_ASSERT_PTR_NULL(ram.host_ptr(4 * kPage, 1));      // the gap
    CU_ASSERT_PTR_NULL(ram.host_ptr(kHigh - 1, 2));      // straddles gap and region
    CU_ASSERT_PTR_NOT_NULL(ram.host_ptr(kHigh, 2 * kPage));
    CU_ASSERT_PTR_NULL(ram.host_ptr(kHigh, 2 * kPage + 1));
    CU_ASSERT_PTR_NULL(ram.host_ptr(kPage, UINT64_MAX));  // len that would wrap gpa + len
    CU_ASSERT_PTR_NULL(ram.host_ptr(UINT64_MAX, 2));      // gpa + len wraps to 1
    CU_ASSERT_PTR_NULL(ram.host_ptr(UINT64_MAX - kPage + 1, kPage));
    // Adjacent regions are not one range: [low end - 1, high start] is refused.
    CU_ASSERT_PTR_NULL(ram.host_ptr(0, kHigh + 1));
}

void test_read_write_refuse_without_touching() {
    GuestRam ram = two_regions();
    std::vector<std::uint8_t> buf(16, 0xab);
    CU_ASSERT(!ram.write(4 * kPage - 8, buf).ok());  // 8 bytes past the end
    std::uint8_t last[8];
    CU_ASSERT(ram.read(4 * kPage - 8, last).ok());
    for (std::uint8_t b : last) {
        CU_ASSERT_EQUAL(b, 0);  // nothing was written
    }
    CU_ASSERT(!ram.read(UINT64_MAX - 3, buf).ok());
    CU_ASSERT(!ram.write(UINT64_MAX - 3, buf).ok());
    CU_ASSERT(ram.write(kHigh + 2 * kPage - 16, buf).ok());  // exactly the last 16 bytes
}

struct RecordingDevice : IoDevice {
    std::vector<std::pair<std::uint64_t, unsigned>> seen;
    std::uint64_t read(std::uint64_t offset, unsigned size) override {
        seen.emplace_back(offset, size);
        return 0x1122334455667788ull;
    }
    IoOutcome write(std::uint64_t offset, std::uint64_t, unsigned size) override {
        seen.emplace_back(offset, size);
        return IoOutcome::proceed;
    }
};

void test_io_bus_sizes_and_ranges() {
    kvmdbg::Log log;
    IoBus bus(log);
    auto dev = std::make_shared<RecordingDevice>();
    CU_ASSERT_FATAL(bus.map(AddressSpace::mmio, 0xfee00000, 0x1000, "dev", dev).ok());
    CU_ASSERT(!bus.map(AddressSpace::mmio, UINT64_MAX - 0xf, 0x20, "wraps", dev).ok());
    CU_ASSERT(!bus.map(AddressSpace::mmio, 0xfee00ff0, 0x20, "overlaps", dev).ok());
    std::uint8_t data[16];
    std::memset(data, 0, sizeof data);
    // Sizes 0 and > 8 never reach a device, and the buffer is not written.
    bus.dispatch(AddressSpace::mmio, 0xfee00000, data, 0, false);
    bus.dispatch(AddressSpace::mmio, 0xfee00000, data, 16, false);
    CU_ASSERT(dev->seen.empty());
    CU_ASSERT_EQUAL(data[0], 0);
    // The device sees an offset inside its own range.
    bus.dispatch(AddressSpace::mmio, 0xfee00ff8, data, 8, false);
    CU_ASSERT_EQUAL(dev->seen.size(), 1u);
    CU_ASSERT_EQUAL(dev->seen[0].first, 0xff8u);
    CU_ASSERT_EQUAL(data[0], 0x88);
    // One past the range: unassigned, reads as all ones, device not called.
    std::memset(data, 0, sizeof data);
    bus.dispatch(AddressSpace::mmio, 0xfee01000, data, 4, false);
    CU_ASSERT_EQUAL(dev->seen.size(), 1u);
    CU_ASSERT_EQUAL(data[0], 0xff);
    CU_ASSERT_EQUAL(data[4], 0);  // only `size` bytes written
    // Port space is separate from MMIO space.
    bus.dispatch(AddressSpace::pio, 0xfee00000 & 0xffff, data, 1, true);
    CU_ASSERT_EQUAL(dev->seen.size(), 1u);
}

const kvmdbg::test::TestCase kCases[] = {
    {"GuestRam::host_ptr exact edges and wrap-around", test_host_ptr_edges},
    {"GuestRam read/write out of range change nothing", test_read_write_refuse_without_touching},
    {"IoBus: sizes, ranges, unassigned accesses", test_io_bus_sizes_and_ranges},
};

const kvmdbg::test::TestSuite kSuites[] = {{"guest_bounds", kCases}};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
