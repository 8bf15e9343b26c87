// LatencyStats: the summary of a latency measured many times, as kvmdbg
// reports it (`monitor info stop-all`) and the benchmark programs print it
// (bench/latency_summary.h): the mean, the median (robust against the few
// very slow rounds a shared or nested host produces), the 90th percentile
// (how slow the slow rounds are) and the slowest round (what moves the mean
// when it is far above the median).
#pragma once

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <optional>
#include <vector>

namespace kvmdbg {

struct LatencyStats {
    std::size_t count = 0;
    double mean = 0;
    double median = 0;
    double p90 = 0;
    double max = 0;
};

/// The summary of `each` (any unit); std::nullopt when it is empty.
inline std::optional<LatencyStats> summarize_latencies(std::vector<double> each) {
    if (each.empty()) {
        return std::nullopt;
    }
    LatencyStats s;
    s.count = each.size();
    s.mean = std::accumulate(each.begin(), each.end(), 0.0) / static_cast<double>(each.size());
    std::sort(each.begin(), each.end());
    s.median = each[each.size() / 2];
    s.p90 = each[each.size() * 9 / 10];
    s.max = each.back();
    return s;
}

}  // namespace kvmdbg
