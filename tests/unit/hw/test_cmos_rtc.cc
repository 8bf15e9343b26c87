// CmosRtc: the clock registers read from an injected clock in BCD and binary,
// 24- and 12-hour formats; the guest setting the time under SET (and with
// the divider held in reset); register A's update-in-progress bit in the
// last 244 us of each second; the index port dropping the NMI bit; registers
// A-D; the memory-size and CPU-count NVRAM bytes as QEMU's pc_cmos_init
// writes them; accesses wider than a byte; machine reset.
#include "hw-models/devices/cmos_rtc.h"

#include <chrono>
#include <cstdint>

#include "tests/support/cunit_main.h"

using kvmdbg::hw::CmosConfig;
using kvmdbg::hw::CmosRtc;
using kvmdbg::hw::IoOutcome;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kLeapDay = 1709214330;  // 2024-02-29 13:45:30 UTC, a Thursday, seconds
constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kGiB = 1ull << 30;

// A CmosRtc on a clock the test moves.
struct Rig {
    explicit Rig(CmosConfig config = {128 * kMiB, 1}, std::chrono::nanoseconds start = std::chrono::seconds(kLeapDay))
        : now(start), rtc(config, [this] { return now; }) {}
    std::uint8_t get(std::uint8_t index) {
        CU_ASSERT(rtc.write(0, index, 1) == IoOutcome::proceed);
        return static_cast<std::uint8_t>(rtc.read(1, 1));
    }
    void set(std::uint8_t index, std::uint8_t value) {
        CU_ASSERT(rtc.write(0, index, 1) == IoOutcome::proceed);
        CU_ASSERT(rtc.write(1, value, 1) == IoOutcome::proceed);
    }
    std::chrono::nanoseconds now;
    CmosRtc rtc;
};

void test_initial_registers() {
    Rig r;
    CU_ASSERT_EQUAL(CmosRtc::kPort, 0x70);
    CU_ASSERT_EQUAL(CmosRtc::kPortSize, 2u);
    CU_ASSERT_EQUAL(r.get(0x0a), 0x26);
    CU_ASSERT_EQUAL(r.get(0x0b), 0x02);
    CU_ASSERT_EQUAL(r.get(0x0c), 0x00);
    CU_ASSERT_EQUAL(r.get(0x0d), 0x80);
    CU_ASSERT_EQUAL(r.get(0x0f), 0x00);  // shutdown status
    CU_ASSERT_EQUAL(r.get(0x10), 0x00);  // no floppy drives
    CU_ASSERT_EQUAL(r.get(0x14), 0x06);  // FPU, PS/2 mouse
    CU_ASSERT_EQUAL(r.get(0x3d), 0x12);  // boot order "cad"
    CU_ASSERT_EQUAL(r.get(0x38), 0x30);
    CU_ASSERT_EQUAL(r.get(0x01), 0x00);        // alarms
    CU_ASSERT_EQUAL(r.rtc.read(0, 1), 0xffu);  // the index port reads 0xff
}

void test_bcd_24h() {
    Rig r;
    CU_ASSERT_EQUAL(r.get(0x00), 0x30);
    CU_ASSERT_EQUAL(r.get(0x02), 0x45);
    CU_ASSERT_EQUAL(r.get(0x04), 0x13);
    CU_ASSERT_EQUAL(r.get(0x06), 0x05);  // Thursday (Sunday = 1)
    CU_ASSERT_EQUAL(r.get(0x07), 0x29);
    CU_ASSERT_EQUAL(r.get(0x08), 0x02);
    CU_ASSERT_EQUAL(r.get(0x09), 0x24);
    CU_ASSERT_EQUAL(r.get(0x32), 0x20);
    // The clock runs: each read latches the time anew.
    r.now += 5s;
    CU_ASSERT_EQUAL(r.get(0x00), 0x35);
    r.now += 11h;  // 00:45:35 on March 1st, a Friday
    CU_ASSERT_EQUAL(r.get(0x04), 0x00);
    CU_ASSERT_EQUAL(r.get(0x06), 0x06);
    CU_ASSERT_EQUAL(r.get(0x07), 0x01);
    CU_ASSERT_EQUAL(r.get(0x08), 0x03);
    // 0x37 (IBM PS/2 century) is the century, and the index moves to 0x32.
    CU_ASSERT_EQUAL(r.get(0x37), 0x20);
    CU_ASSERT_EQUAL(r.rtc.index(), 0x32);
}

void test_binary() {
    Rig r;
    r.set(0x0b, 0x06);  // binary, 24-hour
    CU_ASSERT_EQUAL(r.get(0x0b), 0x06);
    CU_ASSERT_EQUAL(r.get(0x00), 30);
    CU_ASSERT_EQUAL(r.get(0x02), 45);
    CU_ASSERT_EQUAL(r.get(0x04), 13);
    CU_ASSERT_EQUAL(r.get(0x06), 5);
    CU_ASSERT_EQUAL(r.get(0x07), 29);
    CU_ASSERT_EQUAL(r.get(0x08), 2);
    CU_ASSERT_EQUAL(r.get(0x09), 24);
    CU_ASSERT_EQUAL(r.get(0x32), 20);
}

void test_12_hour() {
    Rig r;
    r.set(0x0b, 0x00);                                     // BCD, 12-hour
    CU_ASSERT_EQUAL(r.get(0x04), 0x81);                    // 1 PM
    r.now = std::chrono::seconds(kLeapDay) - 13h - 40min;  // 00:05:30: 12 AM
    CU_ASSERT_EQUAL(r.get(0x04), 0x12);
    r.now += 12h;  // 12:05:30: 12 PM
    CU_ASSERT_EQUAL(r.get(0x04), 0x92);
    r.now += 11h;  // 23:05:30: 11 PM
    CU_ASSERT_EQUAL(r.get(0x04), 0x91);
    r.set(0x0b, 0x04);  // binary, 12-hour
    CU_ASSERT_EQUAL(r.get(0x04), 0x8b);
    r.now -= 23h;  // 00:05:30
    CU_ASSERT_EQUAL(r.get(0x04), 12);
    CU_ASSERT_EQUAL(r.get(0x02), 5);
}

void test_guest_sets_time() {
    Rig r;
    // SET freezes the registers and clears UIE.
    r.set(0x0b, 0x92);
    CU_ASSERT_EQUAL(r.get(0x0b), 0x82);
    r.now += 100s;
    CU_ASSERT_EQUAL(r.get(0x00), 0x30);  // frozen at the moment SET was written
    // 2030-12-31 23:59:50, as Linux's mc146818_set_time writes it.
    r.set(0x00, 0x50);
    r.set(0x02, 0x59);
    r.set(0x04, 0x23);
    r.set(0x07, 0x31);
    r.set(0x08, 0x12);
    r.set(0x09, 0x30);
    r.set(0x32, 0x20);
    r.now += 3s;
    CU_ASSERT_EQUAL(r.get(0x00), 0x50);  // stored, not running
    CU_ASSERT_EQUAL(r.get(0x09), 0x30);
    r.set(0x0b, 0x02);  // commit
    CU_ASSERT_EQUAL(r.rtc.guest_time(), 1924991990);
    r.now += 15s;  // 2031-01-01 00:00:05, a Wednesday
    CU_ASSERT_EQUAL(r.get(0x00), 0x05);
    CU_ASSERT_EQUAL(r.get(0x02), 0x00);
    CU_ASSERT_EQUAL(r.get(0x04), 0x00);
    CU_ASSERT_EQUAL(r.get(0x06), 0x04);
    CU_ASSERT_EQUAL(r.get(0x07), 0x01);
    CU_ASSERT_EQUAL(r.get(0x08), 0x01);
    CU_ASSERT_EQUAL(r.get(0x09), 0x31);
    CU_ASSERT_EQUAL(r.get(0x32), 0x20);
}

void test_guest_sets_time_binary_12h() {
    Rig r;
    r.set(0x0b, 0x04);  // binary, 12-hour
    r.set(0x0b, 0x84);  // SET: the registers are latched in that format
    CU_ASSERT_EQUAL(r.get(0x04), 0x81);
    r.set(0x04, 0x80 | 11);  // 11 PM
    r.set(0x02, 0);
    r.set(0x00, 0);
    r.set(0x0b, 0x04);
    CU_ASSERT_EQUAL(r.get(0x04), 0x8b);
    r.set(0x0b, 0x02);  // back to BCD, 24-hour
    CU_ASSERT_EQUAL(r.get(0x04), 0x23);
    CU_ASSERT_EQUAL(r.get(0x02), 0x00);
    CU_ASSERT_EQUAL(r.get(0x07), 0x29);  // the date stayed
    CU_ASSERT_EQUAL(r.get(0x09), 0x24);
}

void test_write_while_running() {
    Rig r;
    r.set(0x02, 0x00);  // minutes to 0: 13:00:30, committed at once
    r.now += 10s;
    CU_ASSERT_EQUAL(r.get(0x00), 0x40);
    CU_ASSERT_EQUAL(r.get(0x02), 0x00);
    CU_ASSERT_EQUAL(r.get(0x04), 0x13);
    CU_ASSERT_EQUAL(r.rtc.guest_time(), kLeapDay - 45 * 60 + 10);
    // Out-of-range fields count arithmetically: month 13 of 2024 is January 2025.
    r.set(0x08, 0x13);
    CU_ASSERT_EQUAL(r.get(0x08), 0x01);
    CU_ASSERT_EQUAL(r.get(0x09), 0x25);
}

void test_divider_reset_freezes() {
    Rig r;
    r.set(0x0a, 0x70);  // divider held in reset
    CU_ASSERT_EQUAL(r.get(0x0a), 0x70);
    r.now += 20s;
    CU_ASSERT_EQUAL(r.get(0x00), 0x30);
    r.set(0x0a, 0x26);  // released: runs on from 13:45:30
    r.now += 2s;
    CU_ASSERT_EQUAL(r.get(0x00), 0x32);
    // UIP is read-only: at a second boundary, no update cycle, it reads 0.
    r.set(0x0a, 0xa6);
    CU_ASSERT_EQUAL(r.get(0x0a), 0x26);
}

// QEMU's update_in_progress(): UIP reads 1 for the last 8/32768 s (244140
// ns) of each second while the clock runs.
constexpr std::chrono::seconds kSecond{kLeapDay + 1};  // 13:45:31, the next second boundary

void test_uip_in_the_last_244us_of_a_second() {
    Rig r;
    r.now = kSecond - 100us;
    CU_ASSERT_EQUAL(r.get(0x0a), 0xa6);
    r.now = kSecond - 300us;
    CU_ASSERT_EQUAL(r.get(0x0a), 0x26);
    r.now = kSecond - 244140ns;  // the first nanosecond of the hold
    CU_ASSERT_EQUAL(r.get(0x0a), 0xa6);
    r.now = kSecond - 244141ns;
    CU_ASSERT_EQUAL(r.get(0x0a), 0x26);
    r.now = kSecond - 1ns;
    CU_ASSERT_EQUAL(r.get(0x0a), 0xa6);
    r.now = kSecond;  // the update is done
    CU_ASSERT_EQUAL(r.get(0x0a), 0x26);
    r.now = kSecond + 500ms;
    CU_ASSERT_EQUAL(r.get(0x0a), 0x26);
    CU_ASSERT_EQUAL(CmosRtc::kUipHold.count(), 244140);
}

// What firmware and kvm-unit-tests do: poll register A until UIP is seen set,
// then until it is clear; the seconds have moved on by then.
void test_uip_falls_as_the_seconds_move() {
    Rig r;
    r.now = kSecond - 1ms;
    CU_ASSERT_EQUAL(r.get(0x00), 0x30);
    unsigned polls = 0;
    while ((r.get(0x0a) & 0x80) == 0 && polls < 100) {
        r.now += 10us;
        ++polls;
    }
    CU_ASSERT_EQUAL(polls, 76u);  // 1000 - 244.14 us: set at the 76th 10 us step
    CU_ASSERT_EQUAL(r.get(0x00), 0x30);
    while ((r.get(0x0a) & 0x80) != 0 && polls < 200) {
        r.now += 10us;
        ++polls;
    }
    CU_ASSERT(r.now == kSecond);
    CU_ASSERT_EQUAL(r.get(0x00), 0x31);
}

void test_uip_reads_0_with_set() {
    Rig r;
    r.set(0x0b, 0x82);  // SET: the clock is stopped, no update cycle
    r.now = kSecond - 100us;
    CU_ASSERT_EQUAL(r.get(0x0a), 0x26);
    r.set(0x0b, 0x02);  // running again
    CU_ASSERT_EQUAL(r.get(0x0a), 0xa6);
}

// The clock runs for divider values 0x0-0x2 (QEMU's rtc_running()); in reset
// (0x6, 0x7) or any other value it does not, and UIP reads 0.
void test_uip_follows_the_divider() {
    Rig r;
    r.now = kSecond - 100us;
    r.set(0x0a, 0x06);
    CU_ASSERT_EQUAL(r.get(0x0a), 0x86);
    r.set(0x0a, 0x36);
    CU_ASSERT_EQUAL(r.get(0x0a), 0x36);
    r.set(0x0a, 0x66);
    CU_ASSERT_EQUAL(r.get(0x0a), 0x66);
    r.set(0x0a, 0xa6);  // back to 32.768 kHz; the UIP bit written is not stored
    CU_ASSERT_EQUAL(r.get(0x0a), 0xa6);
    r.now = kSecond;
    CU_ASSERT_EQUAL(r.get(0x0a), 0x26);
}

// The guest's seconds tick with the host clock's, also after the guest sets
// the time mid-second.
void test_uip_after_the_guest_sets_the_time() {
    Rig r;
    r.now = std::chrono::seconds(kLeapDay) + 500ms;
    r.set(0x0b, 0x82);
    r.set(0x00, 0x10);
    r.set(0x0b, 0x02);
    r.now = kSecond - 100us;
    CU_ASSERT_EQUAL(r.get(0x0a), 0xa6);
    CU_ASSERT_EQUAL(r.get(0x00), 0x10);
    r.now = kSecond;
    CU_ASSERT_EQUAL(r.get(0x0a), 0x26);
    CU_ASSERT_EQUAL(r.get(0x00), 0x11);
}

void test_nmi_bit_ignored() {
    Rig r;
    CU_ASSERT(r.rtc.write(0, 0x80 | 0x0d, 1) == IoOutcome::proceed);
    CU_ASSERT_EQUAL(r.rtc.index(), 0x0d);
    CU_ASSERT_EQUAL(r.rtc.read(1, 1), 0x80u);
    CU_ASSERT(r.rtc.write(0, 0x80 | 0x00, 1) == IoOutcome::proceed);
    CU_ASSERT_EQUAL(r.rtc.index(), 0x00);
    CU_ASSERT_EQUAL(r.rtc.read(1, 1), 0x30u);
    // NVRAM through an index with the NMI bit: the same byte.
    r.set(0x80 | 0x40, 0xa5);
    CU_ASSERT_EQUAL(r.get(0x40), 0xa5);
}

void test_registers_c_d() {
    Rig r;
    r.set(0x0c, 0xff);  // read-only
    CU_ASSERT_EQUAL(r.get(0x0c), 0x00);
    CU_ASSERT_EQUAL(r.get(0x0c), 0x00);
    r.set(0x0d, 0x00);  // read-only
    CU_ASSERT_EQUAL(r.get(0x0d), 0x80);
    // Interrupt enables are stored, and nothing is raised.
    r.set(0x0b, 0x72);
    r.now += 1h;
    CU_ASSERT_EQUAL(r.get(0x0b), 0x72);
    CU_ASSERT_EQUAL(r.get(0x0c), 0x00);
    // Alarm registers keep their values.
    r.set(0x01, 0x15);
    r.set(0x03, 0xc0);
    r.set(0x05, 0x07);
    CU_ASSERT_EQUAL(r.get(0x01), 0x15);
    CU_ASSERT_EQUAL(r.get(0x03), 0xc0);
    CU_ASSERT_EQUAL(r.get(0x05), 0x07);
}

void check_memory(std::uint64_t ram, std::uint16_t ext_kib, std::uint16_t above_16m, std::uint32_t above_4g) {
    Rig r({ram, 1});
    CU_ASSERT_EQUAL(r.get(0x15), 0x80);  // 640 KiB
    CU_ASSERT_EQUAL(r.get(0x16), 0x02);
    CU_ASSERT_EQUAL(r.get(0x17), ext_kib & 0xff);
    CU_ASSERT_EQUAL(r.get(0x18), ext_kib >> 8);
    CU_ASSERT_EQUAL(r.get(0x30), ext_kib & 0xff);
    CU_ASSERT_EQUAL(r.get(0x31), ext_kib >> 8);
    CU_ASSERT_EQUAL(r.get(0x34), above_16m & 0xff);
    CU_ASSERT_EQUAL(r.get(0x35), above_16m >> 8);
    CU_ASSERT_EQUAL(r.get(0x5b), above_4g & 0xff);
    CU_ASSERT_EQUAL(r.get(0x5c), (above_4g >> 8) & 0xff);
    CU_ASSERT_EQUAL(r.get(0x5d), above_4g >> 16);
}

void test_memory_bytes() {
    check_memory(8 * kMiB, 7 * 1024, 0, 0);  // extended memory below the cap
    check_memory(16 * kMiB, 15 * 1024, 0, 0);
    check_memory(128 * kMiB, 0xffff, 112 * 16, 0);              // 0x0700
    check_memory(3 * kGiB + kGiB / 2, 0xffff, 0xbf00, 0x2000);  // 3 GiB low, 512 MiB high
    check_memory(8 * kGiB, 0xffff, 0xbf00, 0x14000);            // 3 GiB low, 5 GiB high
}

void test_cpu_count() {
    const std::uint32_t cpus[] = {1, 2, 4, 255, 256, 300};
    const std::uint8_t want[] = {0, 1, 3, 254, 0, 0};
    for (unsigned i = 0; i < sizeof cpus / sizeof cpus[0]; ++i) {
        Rig r({128 * kMiB, cpus[i]});
        CU_ASSERT_EQUAL(r.get(0x5f), want[i]);
    }
}

void test_nvram_kept() {
    Rig r;
    for (unsigned i = 0x0e; i < 0x80; ++i) {
        if (i != 0x32 && i != 0x37) {
            r.set(static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i ^ 0x5a));
        }
    }
    for (unsigned i = 0x0e; i < 0x80; ++i) {
        if (i != 0x32 && i != 0x37) {
            CU_ASSERT_EQUAL(r.get(static_cast<std::uint8_t>(i)), i ^ 0x5a);
        }
    }
    CU_ASSERT_EQUAL(r.get(0x00), 0x30);  // the clock did not move
}

void test_wide_accesses() {
    Rig r;
    // 16-bit write at 0x70: index 0x40, then data 0x55.
    CU_ASSERT(r.rtc.write(0, 0x5540, 2) == IoOutcome::proceed);
    CU_ASSERT_EQUAL(r.rtc.index(), 0x40);
    CU_ASSERT_EQUAL(r.get(0x40), 0x55);
    // 16-bit read at 0x70: 0xff from the index port, then the data.
    CU_ASSERT_EQUAL(r.rtc.read(0, 2), 0x55ffu);
    // At 0x71: the data, then 0xff past the window.
    CU_ASSERT_EQUAL(r.rtc.read(1, 2), 0xff55u);
    // 32-bit write: index and data; the bytes past 0x71 are dropped.
    CU_ASSERT(r.rtc.write(0, 0xffff6641, 4) == IoOutcome::proceed);
    CU_ASSERT_EQUAL(r.rtc.index(), 0x41);
    CU_ASSERT_EQUAL(r.rtc.read(0, 4), 0xffff66ffu);
    CU_ASSERT_EQUAL(r.get(0x40), 0x55);
    // A 16-bit index write with the NMI bit: index 0x0b, register B set to binary.
    CU_ASSERT(r.rtc.write(0, 0x068b, 2) == IoOutcome::proceed);
    CU_ASSERT_EQUAL(r.get(0x00), 30);
}

void test_reset() {
    Rig r;
    r.set(0x0f, 0x05);
    r.set(0x0b, 0x7e);  // PIE, AIE, UIE, SQWE, binary, 24-hour
    r.set(0x40, 0x99);
    r.set(0x02, 0x00);  // the guest's time: 13:00:30
    r.set(0x21, 0x00);  // index left at 0x21
    r.rtc.reset();
    CU_ASSERT_EQUAL(r.rtc.index(), 0x21);
    CU_ASSERT_EQUAL(r.get(0x0f), 0x00);
    CU_ASSERT_EQUAL(r.get(0x0b), 0x16);
    CU_ASSERT_EQUAL(r.get(0x0c), 0x00);
    CU_ASSERT_EQUAL(r.get(0x40), 0x99);
    CU_ASSERT_EQUAL(r.get(0x02), 0);
    CU_ASSERT_EQUAL(r.get(0x04), 13);
    // 0xfe (S3 resume) survives reset.
    r.set(0x0f, 0xfe);
    r.rtc.reset();
    CU_ASSERT_EQUAL(r.get(0x0f), 0xfe);
}

void test_real_clock_default() {
    CmosRtc rtc({128 * kMiB, 1});
    const std::int64_t t = rtc.guest_time();
    CU_ASSERT(t > 1700000000);  // after November 2023
}

constexpr kvmdbg::test::TestCase kClockCases[] = {
    {"initial registers", test_initial_registers},
    {"BCD, 24-hour", test_bcd_24h},
    {"binary", test_binary},
    {"12-hour", test_12_hour},
    {"guest sets the time under SET", test_guest_sets_time},
    {"guest sets the time in binary 12-hour", test_guest_sets_time_binary_12h},
    {"time write while running", test_write_while_running},
    {"divider reset freezes", test_divider_reset_freezes},
    {"real clock by default", test_real_clock_default},
};
constexpr kvmdbg::test::TestCase kUpdateCases[] = {
    {"UIP in the last 244 us of a second", test_uip_in_the_last_244us_of_a_second},
    {"UIP falls as the seconds move", test_uip_falls_as_the_seconds_move},
    {"UIP reads 0 with SET", test_uip_reads_0_with_set},
    {"UIP follows the divider", test_uip_follows_the_divider},
    {"UIP after the guest sets the time", test_uip_after_the_guest_sets_the_time},
};
constexpr kvmdbg::test::TestCase kRegisterCases[] = {
    {"NMI bit ignored in the index", test_nmi_bit_ignored},
    {"registers C and D, alarms", test_registers_c_d},
    {"wide accesses", test_wide_accesses},
    {"reset", test_reset},
};
constexpr kvmdbg::test::TestCase kNvramCases[] = {
    {"memory size bytes", test_memory_bytes},
    {"CPU count", test_cpu_count},
    {"other bytes kept", test_nvram_kept},
};
constexpr kvmdbg::test::TestSuite kSuites[] = {
    {"cmos rtc clock", kClockCases},
    {"cmos rtc update in progress", kUpdateCases},
    {"cmos rtc registers", kRegisterCases},
    {"cmos nvram", kNvramCases},
};

}  // namespace

KVMDBG_CUNIT_MAIN(kSuites)
