// The summary lines the benchmark programs print for a latency measured
// many times (common/latency_stats.h says what each figure is for):
// "<name>_us <mean>" (what bench/run_bench.py's table shows),
// "<name>_median_us", "<name>_p90_us" and "<name>_max_us".
#pragma once

#include <cstdio>
#include <utility>
#include <vector>

#include "common/latency_stats.h"

namespace kvmdbg::bench {

inline void print_latency_summary(const char* name, std::vector<double> each_us) {
    auto s = summarize_latencies(std::move(each_us));
    if (!s) {
        return;
    }
    std::printf("%s_us %.3f\n%s_median_us %.3f\n%s_p90_us %.3f\n%s_max_us %.3f\n", name, s->mean, name, s->median, name,
                s->p90, name, s->max);
}

}  // namespace kvmdbg::bench
