#include "hw-models/devices/cmos_rtc.h"

#include "hw-models/devices/register_text.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace kvmdbg::hw {

namespace {

constexpr std::int64_t kSecondsPerDay = 86400;
constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = 1024 * kKiB;

constexpr std::int64_t kNanosecondsPerSecond = 1000000000;

std::chrono::nanoseconds real_time_now() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch());
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

std::int64_t floor_mod(std::int64_t a, std::int64_t b) { return a - floor_div(a, b) * b; }

// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = floor_div(y, 400);
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
    std::int64_t year;
    unsigned month;  // 1-12
    unsigned day;    // 1-31
};

Civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = floor_div(z, 146097);
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return Civil{static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

void put16(std::array<std::uint8_t, CmosRtc::kSize>& cmos, unsigned at, std::uint64_t v) {
    cmos[at] = static_cast<std::uint8_t>(v);
    cmos[at + 1] = static_cast<std::uint8_t>(v >> 8);
}

}  // namespace

CmosRtc::CmosRtc(const CmosConfig& config, Clock now) : now_(now ? std::move(now) : Clock(real_time_now)) {
    cmos_[kRegA] = kRegAInitial;
    cmos_[kRegB] = kRegBInitial;
    cmos_[kRegC] = 0;
    cmos_[kRegD] = kRegDValid;
    fill_nvram(config);
    latch();
}

// QEMU's pc_cmos_init() and x86_rtc_set_cpus_count() for a machine without
// floppy drives or IDE disks, booting "cad".
void CmosRtc::fill_nvram(const CmosConfig& config) {
    const std::uint64_t below_4g = std::min(config.ram_size, kBelow4gLimit);
    const std::uint64_t above_4g = config.ram_size - below_4g;
    put16(cmos_, 0x15, std::min<std::uint64_t>(below_4g / kKiB, 640));
    const std::uint64_t extended = below_4g > kMiB ? std::min<std::uint64_t>((below_4g - kMiB) / kKiB, 0xffff) : 0;
    put16(cmos_, 0x17, extended);
    put16(cmos_, 0x30, extended);
    const std::uint64_t above_16m = below_4g > 16 * kMiB
                                        ? std::min<std::uint64_t>((below_4g - 16 * kMiB) / (64 * kKiB), 0xffff)
                                        : 0;
    put16(cmos_, 0x34, above_16m);
    const std::uint64_t high = above_4g / (64 * kKiB);
    cmos_[0x5b] = static_cast<std::uint8_t>(high);
    cmos_[0x5c] = static_cast<std::uint8_t>(high >> 8);
    cmos_[0x5d] = static_cast<std::uint8_t>(high >> 16);
    // From 256 CPUs on the count does not fit: 0, so that old BIOSes fail
    // predictably (SeaBIOS reads fw_cfg's CPU count first).
    cmos_[0x5f] = config.cpus >= 1 && config.cpus <= 255 ? static_cast<std::uint8_t>(config.cpus - 1) : 0;
    cmos_[kShutdownStatus] = 0;
    cmos_[0x10] = 0;     // no floppy drives
    cmos_[0x14] = 0x06;  // FPU present, PS/2 mouse
    cmos_[0x3d] = 0x12;  // boot: 1st hard disk (2), 2nd floppy (1)
    cmos_[0x38] = 0x30;  // 3rd CD-ROM (3); bit 0 clear: check the floppy boot signature
}

std::int64_t CmosRtc::host_seconds() const { return floor_div(now_().count(), kNanosecondsPerSecond); }

std::int64_t CmosRtc::guest_time() const { return host_seconds() + offset_; }

bool CmosRtc::running() const { return (cmos_[kRegB] & kRegBSet) == 0 && (cmos_[kRegA] & 0x70) <= 0x20; }

// QEMU's update_in_progress(): the last kUipHold of each second of the
// guest's clock, while it runs. The offset is whole seconds, so the guest's
// second ends when the host's does.
bool CmosRtc::update_in_progress() const {
    if (!running()) {
        return false;
    }
    const std::int64_t phase = floor_mod(now_().count(), kNanosecondsPerSecond);
    return phase >= kNanosecondsPerSecond - kUipHold.count();
}

std::uint8_t CmosRtc::to_register(int value) const {
    if ((cmos_[kRegB] & kRegBBinary) != 0) {
        return static_cast<std::uint8_t>(value);
    }
    return static_cast<std::uint8_t>(((value / 10) << 4) | (value % 10));
}

int CmosRtc::from_register(std::uint8_t value) const {
    if ((cmos_[kRegB] & kRegBBinary) != 0) {
        return value;
    }
    return (value >> 4) * 10 + (value & 0x0f);
}

// The guest's time into the clock registers, in register B's format.
void CmosRtc::latch() {
    const std::int64_t t = guest_time();
    const std::int64_t days = floor_div(t, kSecondsPerDay);
    const auto secs = static_cast<int>(floor_mod(t, kSecondsPerDay));
    const Civil date = civil_from_days(days);
    const int hour = secs / 3600;
    cmos_[kSeconds] = to_register(secs % 60);
    cmos_[kMinutes] = to_register(secs / 60 % 60);
    if ((cmos_[kRegB] & kRegB24Hour) != 0) {
        cmos_[kHours] = to_register(hour);
    } else {
        const int h12 = hour % 12 == 0 ? 12 : hour % 12;
        cmos_[kHours] = static_cast<std::uint8_t>(to_register(h12) | (hour >= 12 ? 0x80 : 0));
    }
    cmos_[kDayOfWeek] = to_register(static_cast<int>(floor_mod(days + 4, 7)) + 1);  // 1970-01-01: Thursday
    cmos_[kDayOfMonth] = to_register(static_cast<int>(date.day));
    cmos_[kMonth] = to_register(static_cast<int>(date.month));
    const auto year = static_cast<int>(floor_mod(date.year, 10000));
    cmos_[kYear] = to_register(year % 100);
    cmos_[kCentury] = to_register(year / 100);
}

// The clock registers, read as a date, become the guest's time.
void CmosRtc::commit() {
    const std::int64_t sec = from_register(cmos_[kSeconds]);
    const std::int64_t min = from_register(cmos_[kMinutes]);
    std::int64_t hour = from_register(cmos_[kHours] & 0x7f);
    if ((cmos_[kRegB] & kRegB24Hour) == 0) {
        hour = hour % 12 + ((cmos_[kHours] & 0x80) != 0 ? 12 : 0);
    }
    const std::int64_t mday = from_register(cmos_[kDayOfMonth]);
    const std::int64_t month0 = from_register(cmos_[kMonth]) - 1;
    const std::int64_t year = from_register(cmos_[kYear]) + 100 * std::int64_t{from_register(cmos_[kCentury])} +
                              floor_div(month0, 12);
    const std::int64_t days = days_from_civil(year, static_cast<unsigned>(floor_mod(month0, 12)) + 1, 1) + mday - 1;
    offset_ = days * kSecondsPerDay + hour * 3600 + min * 60 + sec - host_seconds();
}

namespace {

bool is_time_register(std::uint8_t index) {
    switch (index) {
    case CmosRtc::kSeconds:
    case CmosRtc::kMinutes:
    case CmosRtc::kHours:
    case CmosRtc::kDayOfWeek:
    case CmosRtc::kDayOfMonth:
    case CmosRtc::kMonth:
    case CmosRtc::kYear:
    case CmosRtc::kCentury: return true;
    default: return false;
    }
}

}  // namespace

std::uint8_t CmosRtc::read_data() {
    if (index_ == kPs2Century) {
        index_ = kCentury;
    }
    if (is_time_register(index_)) {
        if (running()) {
            latch();
        }
        return cmos_[index_];
    }
    switch (index_) {
    case kRegA: return static_cast<std::uint8_t>(cmos_[kRegA] | (update_in_progress() ? kRegAUip : 0));
    case kRegC: {
        const std::uint8_t value = cmos_[kRegC];
        cmos_[kRegC] = 0;
        return value;
    }
    default: return cmos_[index_];
    }
}

void CmosRtc::write_data(std::uint8_t value) {
    if (index_ == kPs2Century) {
        index_ = kCentury;
    }
    if (is_time_register(index_)) {
        if (running()) {
            latch();
            cmos_[index_] = value;
            commit();
        } else {
            cmos_[index_] = value;
        }
        return;
    }
    switch (index_) {
    case kRegA:
    case kRegB: {
        const bool was_running = running();
        if (was_running) {
            latch();
        }
        if (index_ == kRegA) {
            cmos_[kRegA] = static_cast<std::uint8_t>(value & ~kRegAUip);
        } else {
            cmos_[kRegB] = (value & kRegBSet) != 0 ? static_cast<std::uint8_t>(value & ~kRegBUie) : value;
        }
        if (!was_running && running()) {
            commit();
        }
        return;
    }
    case kRegC:
    case kRegD: return;
    default: cmos_[index_] = value; return;
    }
}

std::uint64_t CmosRtc::read(std::uint64_t offset, unsigned size) {
    std::uint64_t value = 0;
    for (unsigned i = 0; i < size && i < 8; ++i) {
        const std::uint64_t pos = offset + i;
        const std::uint64_t byte = pos == 1 ? read_data() : 0xff;  // index (0) and past the window: 0xff
        value |= byte << (8 * i);
    }
    return value;
}

IoOutcome CmosRtc::write(std::uint64_t offset, std::uint64_t value, unsigned size) {
    for (unsigned i = 0; i < size && i < 8; ++i) {
        const std::uint64_t pos = offset + i;
        const auto byte = static_cast<std::uint8_t>(value >> (8 * i));
        if (pos == 0) {
            index_ = byte & 0x7f;
        } else if (pos == 1) {
            write_data(byte);
        }
    }
    return IoOutcome::proceed;
}

void CmosRtc::reset() {
    if (cmos_[kShutdownStatus] != 0xfe) {
        cmos_[kShutdownStatus] = 0;
    }
    cmos_[kRegB] &= static_cast<std::uint8_t>(~(kRegBPie | kRegBAie | kRegBSqwe));
    cmos_[kRegC] = 0;
}

// The index register and the 128 bytes as stored (the clock bytes as last
// latched: a guest read latches them first).
std::string CmosRtc::state_text() const {
    std::string out = register_line("index", index_, 1);
    char buf[64];
    for (unsigned row = 0; row < kSize; row += 16) {
        std::snprintf(buf, sizeof buf, "%02x:", row);
        out += buf;
        for (unsigned i = row; i < row + 16; ++i) {
            std::snprintf(buf, sizeof buf, " %02x", cmos_[i]);
            out += buf;
        }
        out += "\n";
    }
    return out;
}

}  // namespace kvmdbg::hw
