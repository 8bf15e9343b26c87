// BusyPollPolicy: how long kvmdbg busy-polls after debugger activity (the
// main loop's BusyPollWindow and a vCPU parked for the debugger,
// KVMDBG_OPT_PARK_SPIN_US), decided from how busy the machine is.
//
// Measured on the 2-CPU x86 development machines, whose KVM is the nested
// page-table-based kind of docs/hosts.md (docs/performance.md):
// with the machine otherwise idle, busy-polling for 300 us cut a protocol
// step from 169-200 to 131-143 us and a `g` round trip from 75-84 to 27 us,
// because a wake-up of a thread sleeping on an idle CPU costs 25-50 us
// there. With the CPUs busy with other work (load average 4-7) the same
// made a step 2-3x slower: the spinning threads took the CPU the client
// and the vCPU needed, while wake-ups were cheap anyway. So kvmdbg
// busy-polls only while the CPU time used by everything but kvmdbg itself
// (the debugger client included) leaves at least one CPU free. kvmdbg's
// own time does not count: its spinning must not switch itself off.
//
// The sample: /proc/stat's busy time of all CPUs minus /proc/self/stat's
// utime + stime, over the last second (re-read at most once a second,
// only while a debugger talks); before the first second, the 1-minute load
// average. KVMDBG_SPIN_US fixes the budget (0: never).
//
// Threads: main thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace kvmdbg::system {

/// The budget busy-polling uses when active.
inline constexpr std::chrono::microseconds kBusyPollBudget{300};

/// The budget when `others` CPUs' worth of time goes to everything but
/// kvmdbg, on a machine with `cpus` CPUs; `fixed` (KVMDBG_SPIN_US) wins
/// when given (negative: 0).
std::chrono::microseconds busy_poll_budget(double others, unsigned cpus, std::optional<long> fixed);

/// Busy clock ticks of all CPUs from /proc/stat's first line
/// ("cpu  user nice system idle iowait irq softirq steal ..."): all but
/// idle and iowait. std::nullopt if the line is malformed.
std::optional<std::uint64_t> proc_stat_busy_ticks(std::string_view proc_stat);
/// utime + stime from a /proc/PID/stat line (fields 14 and 15, counted
/// after the ')' that ends the command name, which may hold spaces).
std::optional<std::uint64_t> proc_pid_stat_ticks(std::string_view pid_stat);

class BusyPollPolicy {
public:
    /// Reads KVMDBG_SPIN_US once.
    BusyPollPolicy();
    /// The budget now; the first second is judged by the 1-minute load average.
    std::chrono::microseconds budget_now();

private:
    struct Sample {
        std::chrono::steady_clock::time_point at;
        std::uint64_t busy_ticks = 0;
        std::uint64_t own_ticks = 0;
    };
    static std::optional<Sample> sample();

    std::optional<long> fixed_;
    std::optional<Sample> last_;
    std::chrono::microseconds budget_{0};
};

}  // namespace kvmdbg::system
