#include "hw-models/devices/acpi_pm_timer.h"

#include "common/byte_order.h"

namespace kvmdbg::hw {

namespace {

std::chrono::nanoseconds monotonic_now() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch());
}

}  // namespace

AcpiPmTimer::AcpiPmTimer(Clock now) : now_(now ? std::move(now) : Clock(monotonic_now)), start_(now_()) {}

std::uint32_t AcpiPmTimer::counter() const {
    const auto elapsed = static_cast<unsigned __int128>((now_() - start_).count());
    return static_cast<std::uint32_t>(elapsed * kFrequencyHz / 1'000'000'000u) & kMask;
}

std::uint64_t AcpiPmTimer::read(std::uint64_t offset, unsigned size) {
    if (offset >= 4) {
        return 0;
    }
    return (counter() >> (8 * offset)) & low_bytes_mask(size);
}

IoOutcome AcpiPmTimer::write(std::uint64_t, std::uint64_t, unsigned) { return IoOutcome::proceed; }

}  // namespace kvmdbg::hw
