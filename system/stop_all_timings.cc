#include "system/stop_all_timings.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "common/latency_stats.h"

namespace kvmdbg::system {

void StopAllTimings::record(std::chrono::nanoseconds took) {
    if (kept_us_.size() == kCapacity) {
        kept_us_.pop_front();
    }
    kept_us_.push_back(std::chrono::duration<double, std::micro>(took).count());
    ++total_;
}

std::string StopAllTimings::report(std::optional<std::size_t> last) const {
    const std::size_t n = std::min(last.value_or(kept_us_.size()), kept_us_.size());
    auto stats = summarize_latencies(
        std::vector<double>(kept_us_.end() - static_cast<std::ptrdiff_t>(n), kept_us_.end()));
    if (!stats) {
        return "stop-all: no all-stop measured yet\n";
    }
    char line[256];
    std::snprintf(line, sizeof line,
                  "stop-all (kick every vCPU, all parked): last %zu of %llu: mean %.1f us, median %.1f us, "
                  "90th percentile %.1f us, slowest %.1f us\n",
                  stats->count, static_cast<unsigned long long>(total_), stats->mean, stats->median, stats->p90,
                  stats->max);
    return line;
}

}  // namespace kvmdbg::system
