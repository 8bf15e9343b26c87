// StopAllTimings: how long each all-stop took inside kvmdbg, for
// `monitor info stop-all [N]`. An all-stop is what every stop the debugger
// sees pays before its reply goes out (a Ctrl-C, a breakpoint, a step, a
// device access): every running vCPU is kicked out of KVM_RUN and the stub
// waits until all of them are parked. The time is taken around that wait
// (AccelDebugTarget::stop_all), so it is the figure to hold against a
// plain kick and join of the same vCPU threads (bench/raw_kvm_loop), with
// the gdb connection's own round trip left out. The reported vCPU reads
// its registers for the stop reply once it is parked, while the stub's
// thread wakes up; the reply waits for them, this figure does not.
//
// Threads: main thread only (the session's).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace kvmdbg::system {

class StopAllTimings {
public:
    /// How many of the latest all-stops are kept.
    static constexpr std::size_t kCapacity = 4096;

    void record(std::chrono::nanoseconds took);
    /// All-stops since the start, kept or not.
    std::uint64_t total() const { return total_; }
    /// One line: the summary of the last `last` all-stops kept (all of
    /// them without it), in microseconds, or that there was none yet.
    std::string report(std::optional<std::size_t> last = std::nullopt) const;

private:
    std::deque<double> kept_us_;
    std::uint64_t total_ = 0;
};

}  // namespace kvmdbg::system
