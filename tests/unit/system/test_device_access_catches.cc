// DeviceAccessCatches (system/device_access_catches.h), the catches behind
// `monitor catch io|mmio`: numbering (from 1, never reused), ranges stored
// in order, which accesses a catch matches (overlap at both edges, the
// directions it watches, port and MMIO apart, the first of several), active()
// as catches come and go, the one pending hit per vCPU, and the exact text
// of describe() and format_list(); then match() and record() on several
// threads while catches are added and removed.
#include "system/device_access_catches.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/cunit_main.h"

namespace {

using kvmdbg::hw::AddressSpace;
using kvmdbg::system::AccessDirection;
using kvmdbg::system::DeviceAccess;
using kvmdbg::system::DeviceAccessCatches;
using kvmdbg::system::DeviceCatch;
using kvmdbg::system::DeviceCatchHit;

constexpr bool kRead = false;
constexpr bool kWrite = true;

DeviceCatchHit port_write_hit(unsigned catch_id, std::uint32_t cpu, std::uint64_t value) {
    return DeviceCatchHit{catch_id, cpu, DeviceAccess{AddressSpace::pio, 0xcf8, 4, kWrite, value, "pci-conf1"}};
}

// ------------------------------------------------------------- numbering

void test_ids_start_at_one_and_are_never_reused() {
    DeviceAccessCatches catches(1);
    CU_ASSERT_EQUAL(catches.add(AddressSpace::pio, 0x70, 0x71, AccessDirection::both), 1u);
    CU_ASSERT_EQUAL(catches.add(AddressSpace::pio, 0x80, 0x80, AccessDirection::both), 2u);
    CU_ASSERT_TRUE(catches.remove(2));
    CU_ASSERT_EQUAL(catches.add(AddressSpace::pio, 0x90, 0x90, AccessDirection::both), 3u);
    CU_ASSERT_TRUE(catches.remove(1));
    CU_ASSERT_TRUE(catches.remove(3));
    CU_ASSERT_EQUAL(catches.add(AddressSpace::mmio, 0x1000, 0x1fff, AccessDirection::both), 4u);
    catches.clear();
    CU_ASSERT_EQUAL(catches.add(AddressSpace::mmio, 0x1000, 0x1fff, AccessDirection::both), 5u);
}

void test_remove_of_an_unknown_id_fails() {
    DeviceAccessCatches catches(1);
    CU_ASSERT_FALSE(catches.remove(1));
    unsigned id = catches.add(AddressSpace::pio, 0x70, 0x71, AccessDirection::both);
    CU_ASSERT_FALSE(catches.remove(id + 1));
    CU_ASSERT_TRUE(catches.remove(id));
    CU_ASSERT_FALSE(catches.remove(id));
    CU_ASSERT_TRUE(catches.list().empty());
}

void test_backwards_range_is_stored_first_to_last() {
    DeviceAccessCatches catches(1);
    catches.add(AddressSpace::pio, 0xcff, 0xcf8, AccessDirection::write);
    std::vector<DeviceCatch> list = catches.list();
    CU_ASSERT_EQUAL_FATAL(list.size(), 1u);
    CU_ASSERT_EQUAL(list[0].id, 1u);
    CU_ASSERT(list[0].space == AddressSpace::pio);
    CU_ASSERT_EQUAL(list[0].first, 0xcf8u);
    CU_ASSERT_EQUAL(list[0].last, 0xcffu);
    CU_ASSERT(list[0].direction == AccessDirection::write);
    CU_ASSERT_TRUE(catches.match(AddressSpace::pio, 0xcfc, 1, kWrite) == 1u);
}

// ----------------------------------------------------------------- match

void test_match_overlaps_at_both_edges() {
    DeviceAccessCatches catches(1);
    const std::uint64_t first = 0x1000;
    const std::uint64_t last = 0x10ff;
    unsigned id = catches.add(AddressSpace::mmio, first, last, AccessDirection::both);
    // A 4-byte access overlaps when any of its bytes is inside.
    CU_ASSERT_TRUE(catches.match(AddressSpace::mmio, first - 3, 4, kRead) == id);
    CU_ASSERT_TRUE(catches.match(AddressSpace::mmio, first, 4, kRead) == id);
    CU_ASSERT_TRUE(catches.match(AddressSpace::mmio, last, 4, kRead) == id);
    CU_ASSERT_TRUE(catches.match(AddressSpace::mmio, last - 3, 4, kRead) == id);
    CU_ASSERT_FALSE(catches.match(AddressSpace::mmio, last + 1, 4, kRead).has_value());
    CU_ASSERT_FALSE(catches.match(AddressSpace::mmio, first - 4, 4, kRead).has_value());
    // An 8-byte access around the whole of a one-byte range hits it.
    unsigned single = catches.add(AddressSpace::mmio, 0x2004, 0x2004, AccessDirection::both);
    CU_ASSERT_TRUE(catches.match(AddressSpace::mmio, 0x2000, 8, kWrite) == single);
    CU_ASSERT_FALSE(catches.match(AddressSpace::mmio, 0x2005, 8, kWrite).has_value());
    CU_ASSERT_FALSE(catches.match(AddressSpace::mmio, 0x2003, 1, kWrite).has_value());
}

void test_match_filters_by_direction() {
    DeviceAccessCatches catches(1);
    unsigned r = catches.add(AddressSpace::pio, 0x60, 0x60, AccessDirection::read);
    unsigned w = catches.add(AddressSpace::pio, 0x64, 0x64, AccessDirection::write);
    unsigned rw = catches.add(AddressSpace::pio, 0x70, 0x70, AccessDirection::both);
    CU_ASSERT_TRUE(catches.match(AddressSpace::pio, 0x60, 1, kRead) == r);
    CU_ASSERT_FALSE(catches.match(AddressSpace::pio, 0x60, 1, kWrite).has_value());
    CU_ASSERT_TRUE(catches.match(AddressSpace::pio, 0x64, 1, kWrite) == w);
    CU_ASSERT_FALSE(catches.match(AddressSpace::pio, 0x64, 1, kRead).has_value());
    CU_ASSERT_TRUE(catches.match(AddressSpace::pio, 0x70, 1, kRead) == rw);
    CU_ASSERT_TRUE(catches.match(AddressSpace::pio, 0x70, 1, kWrite) == rw);
}

void test_match_keeps_port_and_mmio_apart() {
    DeviceAccessCatches catches(1);
    unsigned port = catches.add(AddressSpace::pio, 0x3f8, 0x3ff, AccessDirection::both);
    CU_ASSERT_FALSE(catches.match(AddressSpace::mmio, 0x3f8, 1, kWrite).has_value());
    unsigned mmio = catches.add(AddressSpace::mmio, 0x3f8, 0x3ff, AccessDirection::both);
    CU_ASSERT_TRUE(catches.match(AddressSpace::pio, 0x3f8, 1, kWrite) == port);
    CU_ASSERT_TRUE(catches.match(AddressSpace::mmio, 0x3f8, 1, kWrite) == mmio);
    CU_ASSERT_TRUE(catches.remove(port));
    CU_ASSERT_FALSE(catches.match(AddressSpace::pio, 0x3f8, 1, kWrite).has_value());
    CU_ASSERT_TRUE(catches.match(AddressSpace::mmio, 0x3f8, 1, kWrite) == mmio);
}

void test_match_gives_the_first_of_overlapping_catches() {
    DeviceAccessCatches catches(1);
    unsigned wide = catches.add(AddressSpace::pio, 0xcf8, 0xcff, AccessDirection::both);
    unsigned narrow = catches.add(AddressSpace::pio, 0xcfc, 0xcfc, AccessDirection::both);
    CU_ASSERT_TRUE(catches.match(AddressSpace::pio, 0xcfc, 4, kRead) == wide);
    CU_ASSERT_TRUE(catches.remove(wide));
    CU_ASSERT_TRUE(catches.match(AddressSpace::pio, 0xcfc, 4, kRead) == narrow);
    // A read-only catch set first does not hide a later one from writes.
    DeviceAccessCatches directed(1);
    directed.add(AddressSpace::pio, 0xcf8, 0xcff, AccessDirection::read);
    unsigned writes = directed.add(AddressSpace::pio, 0xcf8, 0xcff, AccessDirection::write);
    CU_ASSERT_TRUE(directed.match(AddressSpace::pio, 0xcf8, 4, kWrite) == writes);
}

// ---------------------------------------------------------------- active

void test_active_follows_the_catches() {
    DeviceAccessCatches catches(1);
    CU_ASSERT_FALSE(catches.active());
    unsigned a = catches.add(AddressSpace::pio, 0x80, 0x80, AccessDirection::both);
    CU_ASSERT_TRUE(catches.active());
    unsigned b = catches.add(AddressSpace::mmio, 0xff000000, 0xff00ffff, AccessDirection::both);
    CU_ASSERT_TRUE(catches.remove(a));
    CU_ASSERT_TRUE(catches.active());
    CU_ASSERT_TRUE(catches.remove(b));
    CU_ASSERT_FALSE(catches.active());
    catches.add(AddressSpace::pio, 0x80, 0x80, AccessDirection::both);
    catches.add(AddressSpace::pio, 0x81, 0x81, AccessDirection::both);
    CU_ASSERT_TRUE(catches.active());
    catches.clear();
    CU_ASSERT_FALSE(catches.active());
    CU_ASSERT_TRUE(catches.list().empty());
    CU_ASSERT_FALSE(catches.match(AddressSpace::pio, 0x80, 1, kWrite).has_value());
}

// ------------------------------------------------------------------- hits

void test_hits_are_kept_per_vcpu() {
    DeviceAccessCatches catches(2);
    catches.record(port_write_hit(1, 0, 0x80000000));
    catches.record(port_write_hit(2, 1, 0x80000004));
    auto hit1 = catches.take_hit(1);
    CU_ASSERT_TRUE_FATAL(hit1.has_value());
    CU_ASSERT_EQUAL(hit1->catch_id, 2u);
    CU_ASSERT_EQUAL(hit1->access.value, 0x80000004u);
    auto hit0 = catches.take_hit(0);
    CU_ASSERT_TRUE_FATAL(hit0.has_value());
    CU_ASSERT_EQUAL(hit0->catch_id, 1u);
    CU_ASSERT_EQUAL(hit0->cpu, 0u);
    CU_ASSERT_EQUAL(hit0->access.addr, 0xcf8u);
    CU_ASSERT_EQUAL(hit0->access.value, 0x80000000u);
    CU_ASSERT_TRUE(hit0->access.device == "pci-conf1");
}

void test_second_record_before_take_keeps_the_first() {
    DeviceAccessCatches catches(1);
    catches.record(port_write_hit(1, 0, 0x11));
    catches.record(port_write_hit(2, 0, 0x22));
    auto hit = catches.take_hit(0);
    CU_ASSERT_TRUE_FATAL(hit.has_value());
    CU_ASSERT_EQUAL(hit->catch_id, 1u);
    CU_ASSERT_EQUAL(hit->access.value, 0x11u);
    // Taken: the next record is kept.
    catches.record(port_write_hit(2, 0, 0x22));
    hit = catches.take_hit(0);
    CU_ASSERT_TRUE_FATAL(hit.has_value());
    CU_ASSERT_EQUAL(hit->catch_id, 2u);
}

void test_take_hit_twice_gives_nothing_the_second_time() {
    DeviceAccessCatches catches(1);
    CU_ASSERT_FALSE(catches.take_hit(0).has_value());
    catches.record(port_write_hit(1, 0, 0x80000000));
    CU_ASSERT_TRUE(catches.take_hit(0).has_value());
    CU_ASSERT_FALSE(catches.take_hit(0).has_value());
}

void test_out_of_range_cpu_is_ignored() {
    DeviceAccessCatches catches(2);
    catches.record(port_write_hit(1, 2, 0x80000000));
    catches.record(port_write_hit(1, 0xffffffffu, 0x80000000));
    CU_ASSERT_FALSE(catches.take_hit(2).has_value());
    CU_ASSERT_FALSE(catches.take_hit(0xffffffffu).has_value());
    CU_ASSERT_FALSE(catches.take_hit(0).has_value());
    CU_ASSERT_FALSE(catches.take_hit(1).has_value());
}

void test_clear_forgets_pending_hits() {
    DeviceAccessCatches catches(2);
    catches.add(AddressSpace::pio, 0xcf8, 0xcff, AccessDirection::both);
    catches.record(port_write_hit(1, 0, 0x80000000));
    catches.record(port_write_hit(1, 1, 0x80000000));
    catches.clear();
    CU_ASSERT_FALSE(catches.take_hit(0).has_value());
    CU_ASSERT_FALSE(catches.take_hit(1).has_value());
}

void test_remove_keeps_pending_hits() {
    // A vCPU that already stopped on a catch reports it even if the catch
    // went meanwhile (only clear(), the debugger leaving, forgets hits).
    DeviceAccessCatches catches(1);
    unsigned id = catches.add(AddressSpace::pio, 0xcf8, 0xcff, AccessDirection::both);
    catches.record(port_write_hit(id, 0, 0x80000000));
    CU_ASSERT_TRUE(catches.remove(id));
    CU_ASSERT_TRUE(catches.take_hit(0).has_value());
}

// ------------------------------------------------------------------- text

void test_describe_port_write() {
    CU_ASSERT_EQUAL(DeviceAccessCatches::describe(port_write_hit(1, 0, 0x80000000)),
                    "Catch 1: CPU#0 wrote 0x80000000 to port 0xcf8 (4 bytes, pci-conf1)\n");
}

void test_describe_one_byte_read() {
    DeviceCatchHit hit{3, 1, DeviceAccess{AddressSpace::pio, 0x3fd, 1, kRead, 0x6, "COM1"}};
    CU_ASSERT_EQUAL(DeviceAccessCatches::describe(hit), "Catch 3: CPU#1 read 0x06 from port 0x3fd (1 byte, COM1)\n");
}

void test_describe_mmio_access() {
    DeviceCatchHit read{2, 0,
                        DeviceAccess{AddressSpace::mmio, 0xff000010, 8, kRead, 0x1122334455667788, "pc-testdev-iomem"}};
    CU_ASSERT_EQUAL(DeviceAccessCatches::describe(read),
                    "Catch 2: CPU#0 read 0x1122334455667788 from address 0xff000010 (8 bytes, pc-testdev-iomem)\n");
    DeviceCatchHit write{2, 3, DeviceAccess{AddressSpace::mmio, 0xff000002, 2, kWrite, 0xab, "pc-testdev-iomem"}};
    CU_ASSERT_EQUAL(DeviceAccessCatches::describe(write),
                    "Catch 2: CPU#3 wrote 0x00ab to address 0xff000002 (2 bytes, pc-testdev-iomem)\n");
}

void test_describe_unassigned_access() {
    DeviceCatchHit port{4, 0, DeviceAccess{AddressSpace::pio, 0x80, 1, kWrite, 0x2a, ""}};
    CU_ASSERT_EQUAL(DeviceAccessCatches::describe(port),
                    "Catch 4: CPU#0 wrote 0x2a to port 0x80 (1 byte, unassigned)\n");
    DeviceCatchHit mmio{5, 0, DeviceAccess{AddressSpace::mmio, 0xfed00000, 4, kRead, 0xffffffff, ""}};
    CU_ASSERT_EQUAL(DeviceAccessCatches::describe(mmio),
                    "Catch 5: CPU#0 read 0xffffffff from address 0xfed00000 (4 bytes, unassigned)\n");
}

void test_format_list_without_catches() {
    CU_ASSERT_EQUAL(DeviceAccessCatches::format_list({}), "No catches.\n");
    DeviceAccessCatches catches(1);
    CU_ASSERT_EQUAL(DeviceAccessCatches::format_list(catches.list()), "No catches.\n");
}

void test_format_list_with_two_catches() {
    DeviceAccessCatches catches(1);
    catches.add(AddressSpace::pio, 0xcf8, 0xcff, AccessDirection::write);
    catches.add(AddressSpace::mmio, 0xff000000, 0xff00ffff, AccessDirection::both);
    CU_ASSERT_EQUAL(DeviceAccessCatches::format_list(catches.list()),
                    "Num  Space  Range                                  Stops on\n"
                    "1    port   0xcf8-0xcff                            w\n"
                    "2    mmio   0xff000000-0xff00ffff                  rw\n");
}

// ------------------------------------------------------------ concurrency

// vCPU threads match and record while the main thread adds and removes
// catches and takes hits: nothing crashes (and under TSan, nothing races),
// and every hit taken names a catch that was added.
void test_match_and_record_race_with_add_and_remove() {
    constexpr std::uint32_t kThreads = 4;
    constexpr unsigned kRounds = 2000;
    constexpr AccessDirection kDirections[] = {AccessDirection::both, AccessDirection::read, AccessDirection::write};
    DeviceAccessCatches catches(kThreads);
    std::atomic<bool> stop{false};
    std::atomic<unsigned> matched{0};
    std::vector<std::thread> vcpus;
    for (std::uint32_t cpu = 0; cpu < kThreads; ++cpu) {
        vcpus.emplace_back([&catches, &stop, &matched, cpu] {
            std::uint64_t port = 0xcf8;
            while (!stop.load(std::memory_order_relaxed)) {
                if (!catches.active()) {
                    std::this_thread::yield();
                    continue;
                }
                if (auto id = catches.match(AddressSpace::pio, port, 4, cpu % 2 == 0)) {
                    catches.record(port_write_hit(*id, cpu, port));
                    matched.fetch_add(1, std::memory_order_relaxed);
                }
                port = port == 0xcf8 ? 0xcfc : 0xcf8;
            }
        });
    }
    unsigned last_id = 0;
    for (unsigned round = 0; round < kRounds; ++round) {
        unsigned id = catches.add(AddressSpace::pio, 0xcf8, 0xcff, kDirections[round % 3]);
        CU_ASSERT_EQUAL(id, last_id + 1);
        last_id = id;
        (void)catches.list();
        for (std::uint32_t cpu = 0; cpu < kThreads; ++cpu) {
            if (auto hit = catches.take_hit(cpu)) {
                CU_ASSERT_TRUE(hit->catch_id >= 1 && hit->catch_id <= last_id);
                CU_ASSERT_EQUAL(hit->cpu, cpu);
            }
        }
        CU_ASSERT_TRUE(catches.remove(id));
        if (round % 100 == 99) {
            catches.clear();
        }
    }
    // The vCPU threads did run into catches: one left set is matched soon.
    catches.add(AddressSpace::pio, 0xcf8, 0xcff, AccessDirection::both);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (matched.load(std::memory_order_relaxed) == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
    }
    CU_ASSERT_TRUE(matched.load(std::memory_order_relaxed) > 0);
    catches.clear();
    stop.store(true, std::memory_order_relaxed);
    for (auto& t : vcpus) {
        t.join();
    }
    CU_ASSERT_FALSE(catches.active());
    CU_ASSERT_TRUE(catches.list().empty());
}

const kvmdbg::test::TestCase kNumbering[] = {
    {"ids start at 1 and are never reused", test_ids_start_at_one_and_are_never_reused},
    {"remove of an unknown id fails", test_remove_of_an_unknown_id_fails},
    {"a backwards range is stored first to last", test_backwards_range_is_stored_first_to_last},
};
const kvmdbg::test::TestCase kMatch[] = {
    {"overlap at both edges of the range", test_match_overlaps_at_both_edges},
    {"only the directions a catch watches", test_match_filters_by_direction},
    {"port and mmio spaces kept apart", test_match_keeps_port_and_mmio_apart},
    {"the first of overlapping catches", test_match_gives_the_first_of_overlapping_catches},
    {"active() follows the catches", test_active_follows_the_catches},
};
const kvmdbg::test::TestCase kHits[] = {
    {"one hit kept per vCPU", test_hits_are_kept_per_vcpu},
    {"a second record before take keeps the first", test_second_record_before_take_keeps_the_first},
    {"take_hit twice gives nothing the second time", test_take_hit_twice_gives_nothing_the_second_time},
    {"an out-of-range cpu is ignored", test_out_of_range_cpu_is_ignored},
    {"clear() forgets pending hits", test_clear_forgets_pending_hits},
    {"remove() keeps pending hits", test_remove_keeps_pending_hits},
};
const kvmdbg::test::TestCase kText[] = {
    {"describe a 4-byte port write", test_describe_port_write},
    {"describe a 1-byte read", test_describe_one_byte_read},
    {"describe mmio accesses", test_describe_mmio_access},
    {"describe unassigned accesses", test_describe_unassigned_access},
    {"format_list without catches", test_format_list_without_catches},
    {"format_list with two catches", test_format_list_with_two_catches},
};
const kvmdbg::test::TestCase kConcurrency[] = {
    {"match/record race with add/remove", test_match_and_record_race_with_add_and_remove},
};
const kvmdbg::test::TestSuite kSuites[] = {
    {"catch numbering", kNumbering}, {"catch matching", kMatch},      {"catch hits", kHits},
    {"catch text", kText},           {"catch threads", kConcurrency},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
