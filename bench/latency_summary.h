// The summary lines the benchmark programs print for a latency measured
// many times: "<name>_us <mean>" (what bench/run_bench.py's table shows),
// "<name>_median_us <median>" (robust against the few very slow rounds a
// shared, nested host produces; for comparing two builds) and
// "<name>_p90_us <90th percentile>" (how slow the slow rounds are) and
// "<name>_max_us <slowest round>" (what moves the mean when it is far
// above the median).
#pragma once

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <vector>

namespace kvmdbg::bench {

inline void print_latency_summary(const char* name, std::vector<double> each_us) {
    if (each_us.empty()) {
        return;
    }
    const double mean = std::accumulate(each_us.begin(), each_us.end(), 0.0) / static_cast<double>(each_us.size());
    std::sort(each_us.begin(), each_us.end());
    const double median = each_us[each_us.size() / 2];
    const double p90 = each_us[each_us.size() * 9 / 10];
    std::printf("%s_us %.3f\n%s_median_us %.3f\n%s_p90_us %.3f\n%s_max_us %.3f\n", name, mean, name, median, name, p90,
                name, each_us.back());
}

}  // namespace kvmdbg::bench
