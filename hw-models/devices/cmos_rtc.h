// CmosRtc: the PC's MC146818 real-time clock and its 128 bytes of CMOS RAM
// (ports 0x70-0x71), the clock Linux reads at boot (arch/x86/kernel/rtc.c
// mach_get_cmos_time, drivers/rtc/rtc-cmos.c) and the NVRAM SeaBIOS reads
// the machine's memory size and CPU count from.
//
//   port 0x70 (write): index                port 0x71 (read/write): data
//     7              6..0                     the CMOS byte the index selects
//   +-------------+----------------+
//   | NMI disable | CMOS index     |
//   +-------------+----------------+
//
//   index  clock registers              index  NVRAM filled at construction
//   0x00   seconds                      0x0f   shutdown status: 0
//   0x01   seconds alarm (stored)       0x10   floppy drive types: 0 (none)
//   0x02   minutes                      0x14   equipment: 0x06 (FPU, PS/2 mouse)
//   0x03   minutes alarm (stored)       0x15-0x16  base memory, KiB: 640
//   0x04   hours (12h: bit 7 = PM)      0x17-0x18  memory above 1 MiB, KiB,
//   0x05   hours alarm (stored)         0x30-0x31  below 4 GiB, at most 0xffff
//   0x06   day of week (Sunday = 1)     0x34-0x35  memory above 16 MiB below
//   0x07   day of month                            4 GiB, 64 KiB units, <= 0xffff
//   0x08   month                        0x38, 0x3d boot order: 0x30, 0x12
//   0x09   year (00-99)                            (QEMU's default "-boot cad")
//   0x0a   register A                   0x5b-0x5d  memory above 4 GiB, 64 KiB
//   0x0b   register B                              units, 24 bits
//   0x0c   register C                   0x5f   CPU count - 1 (0 from 256 CPUs)
//   0x0d   register D
//   0x32   century (the FADT's CENTURY; 0x37, the IBM PS/2 century byte,
//          is an alias of it)
//
//   register A:   7     6..4          3..0          register B:
//              +-----+-------------+-------------+    7    6    5    4    3     2    1      0
//              | UIP | divider     | rate        |  +----+----+----+----+-----+----+------+-----+
//              +-----+-------------+-------------+  |SET |PIE |AIE |UIE |SQWE | DM |24/12 | DSE |
//   initial 0x26 (32.768 kHz, 1024 Hz rate)         +----+----+----+----+-----+----+------+-----+
//                                                   initial 0x02: 24-hour, BCD
//   register C (read-only): 7 IRQF, 6 PF, 5 AF, 4 UF; always 0 here
//   register D (read-only): 7 VRT (battery good); always 0x80
//
// Semantics, as QEMU's hw/rtc/mc146818rtc.c with the pc machine's
// pc_cmos_init():
// - Index: a write to offset 0 selects byte `value & 0x7f`; bit 7 (NMI
//   disable, a chipset latch on real PCs) is dropped, as with QEMU. A read
//   of offset 0 returns 0xff. Machine reset leaves the index alone.
// - Time: the guest's clock is a host clock (nanoseconds since the Unix
//   epoch, UTC) plus an offset of whole seconds, 0 at first. While the clock runs (SET clear and the
//   divider bits of register A 0x0-0x2), a read of a time register latches
//   the guest's time into the clock registers in register B's format (DM:
//   binary or BCD; bit 1: 24-hour, or 12-hour with bit 7 of the hour set
//   for PM) and returns the byte. The year is split into year (0x09) and
//   century (0x32). Setting SET (or putting the divider in reset) latches
//   the time and freezes the registers: time reads then return the stored
//   bytes, and writes only store them. Clearing SET (or releasing the
//   divider) commits: the registers are read back as a date in the current
//   format and the offset becomes that date minus the host clock. A time
//   register written while the clock runs is committed at once (after the
//   others are latched). The day of week is stored but not read back when
//   committing: it is computed from the date on the next latch. Out-of-range
//   fields count arithmetically (month 13 is January of the next year).
//   The guest's seconds tick when the host clock's do: committing keeps
//   the host's sub-second phase, where QEMU keeps the guest's (and starts
//   half a second later after a divider release).
// - Register A keeps what the guest writes, bit 7 (UIP) aside: UIP is
//   read-only, and reads 1 during the update cycle, as QEMU's
//   update_in_progress(): the last 244 us (8 periods of the 32.768 kHz
//   time base, QEMU's UIP_HOLD_LENGTH, 244140 ns) of each second, while the
//   clock runs (SET clear and divider 0x0-0x2, as above; with SET, or the
//   divider in reset, UIP reads 0). Once UIP falls the seconds have moved
//   on, which is what firmware and kvm-unit-tests wait for: UIP seen set,
//   then clear. The time registers are latched on each read, so no update
//   cycle can tear a reading either way.
// - Register B keeps what the guest writes; setting SET clears UIE, as the
//   data sheet and QEMU. Register C reads 0 (and clears); C and D ignore
//   writes. No interrupt is ever raised: the periodic, alarm and update-ended
//   interrupts on IRQ 8 are not modelled, so PIE/AIE/UIE change nothing
//   and the alarm registers only store their values.
// - Every other byte is NVRAM: the guest reads and writes it freely. No
//   checksum is kept at 0x2e-0x2f (QEMU's pc machine keeps none either).
// - Memory bytes: from CmosConfig::ram_size split as pc-lite lays RAM out:
//   min(ram_size, kBelow4gLimit) below 4 GiB, the rest above 4 GiB.
// - Accesses are taken a byte at a time in address order (QEMU: byte-wide
//   implementation): a 16-bit write at 0x70 writes the index, then the data;
//   a 16-bit read returns 0xff and then the data byte. Bytes past 0x71 read
//   0xff and are dropped, as unassigned ports.
// - reset(), as QEMU's rtc_reset_enter: the shutdown status (0x0f) clears
//   unless it is 0xfe (S3 resume), register B loses PIE, AIE and SQWE,
//   register C clears. The index, the time and the NVRAM stay.
//
// Threads: read()/write() run on vCPU threads under the bus lock; reset()
// on the main thread under the bus lock; the clock is called from those.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>

#include "hw-models/io_device.h"

namespace kvmdbg::hw {

/// What the NVRAM bytes describe.
struct CmosConfig {
    std::uint64_t ram_size = 0;  ///< all guest RAM, bytes
    std::uint32_t cpus = 1;
};

class CmosRtc final : public IoDevice {
public:
    /// Time since the Unix epoch, UTC.
    using Clock = std::function<std::chrono::nanoseconds()>;

    static constexpr std::uint16_t kPort = 0x70;
    static constexpr std::uint64_t kPortSize = 2;
    static constexpr unsigned kSize = 128;
    /// RAM below 4 GiB is min(ram_size, this): pc-lite's PcLite::kLowRamLimit.
    static constexpr std::uint64_t kBelow4gLimit = 3ull << 30;

    static constexpr std::uint8_t kSeconds = 0x00;
    static constexpr std::uint8_t kSecondsAlarm = 0x01;
    static constexpr std::uint8_t kMinutes = 0x02;
    static constexpr std::uint8_t kMinutesAlarm = 0x03;
    static constexpr std::uint8_t kHours = 0x04;
    static constexpr std::uint8_t kHoursAlarm = 0x05;
    static constexpr std::uint8_t kDayOfWeek = 0x06;
    static constexpr std::uint8_t kDayOfMonth = 0x07;
    static constexpr std::uint8_t kMonth = 0x08;
    static constexpr std::uint8_t kYear = 0x09;
    static constexpr std::uint8_t kRegA = 0x0a;
    static constexpr std::uint8_t kRegB = 0x0b;
    static constexpr std::uint8_t kRegC = 0x0c;
    static constexpr std::uint8_t kRegD = 0x0d;
    static constexpr std::uint8_t kShutdownStatus = 0x0f;
    static constexpr std::uint8_t kCentury = 0x32;
    static constexpr std::uint8_t kPs2Century = 0x37;

    static constexpr std::uint8_t kRegAUip = 0x80;
    /// How long UIP reads 1 before each second: 8 / 32768 s, truncated to
    /// nanoseconds as QEMU's UIP_HOLD_LENGTH.
    static constexpr std::chrono::nanoseconds kUipHold{8 * 1000000000ll / 32768};
    static constexpr std::uint8_t kRegAInitial = 0x26;
    static constexpr std::uint8_t kRegBSet = 0x80;
    static constexpr std::uint8_t kRegBPie = 0x40;
    static constexpr std::uint8_t kRegBAie = 0x20;
    static constexpr std::uint8_t kRegBUie = 0x10;
    static constexpr std::uint8_t kRegBSqwe = 0x08;
    static constexpr std::uint8_t kRegBBinary = 0x04;  ///< DM
    static constexpr std::uint8_t kRegB24Hour = 0x02;
    static constexpr std::uint8_t kRegBInitial = 0x02;
    static constexpr std::uint8_t kRegDValid = 0x80;  ///< VRT

    /// Fills the NVRAM from `config`; `now` is the host clock (default: the
    /// real time). The guest's clock starts at the host clock.
    explicit CmosRtc(const CmosConfig& config, Clock now = {});

    std::uint64_t read(std::uint64_t offset, unsigned size) override;
    IoOutcome write(std::uint64_t offset, std::uint64_t value, unsigned size) override;
    std::string state_text() const override;

    /// Machine reset (see above).
    void reset();

    /// The selected index (0-0x7f).
    std::uint8_t index() const { return index_; }
    /// The stored byte at `index` (time registers: as last latched), without
    /// the side effects of a guest read.
    std::uint8_t byte(std::uint8_t index) const { return cmos_[index & 0x7f]; }
    /// The host clock plus the guest's offset, seconds since the Unix epoch:
    /// the guest's time while the clock runs (frozen registers count only
    /// once committed).
    std::int64_t guest_time() const;

private:
    std::int64_t host_seconds() const;
    bool running() const;
    bool update_in_progress() const;
    std::uint8_t to_register(int value) const;
    int from_register(std::uint8_t value) const;
    void latch();
    void commit();
    std::uint8_t read_data();
    void write_data(std::uint8_t value);
    void fill_nvram(const CmosConfig& config);

    Clock now_;
    std::int64_t offset_ = 0;  // seconds
    std::uint8_t index_ = 0;
    std::array<std::uint8_t, kSize> cmos_{};
};

}  // namespace kvmdbg::hw
