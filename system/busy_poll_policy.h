// BusyPollPolicy: how long kvmdbg busy-polls after debugger activity (the
// main loop's BusyPollWindow and a vCPU parked for the debugger,
// KVMDBG_OPT_PARK_SPIN_US), decided from how busy the machine is.
//
// Measured on the 2-CPU nested development hosts (docs/performance.md):
// with the machine idle, busy-polling for 300 us cut a protocol step from
// 169-200 to 131-143 us and a `g` round trip from 75-84 to 27 us, because
// a wake-up of a thread sleeping on an idle CPU costs 25-50 us there. With
// the CPUs busy (load average 4-7) the same made a step 2-3x slower: the
// spinning threads took the CPU the client and the vCPU needed, while
// wake-ups were cheap anyway. So: busy-poll only while the 1-minute load
// average leaves a CPU idle besides the one the debugger's client uses.
//
// KVMDBG_SPIN_US fixes the budget (0: never) whatever the load.
// Pure apart from budget_now(); main thread.
#pragma once

#include <chrono>
#include <optional>

namespace kvmdbg::system {

/// The budget when the machine has `cpus` CPUs with a 1-minute load
/// average of `load`; `fixed` (KVMDBG_SPIN_US) wins when given.
std::chrono::microseconds busy_poll_budget(double load, unsigned cpus, std::optional<long> fixed);

/// The budget busy-polling uses when active.
inline constexpr std::chrono::microseconds kBusyPollBudget{300};

class BusyPollPolicy {
public:
    /// Reads KVMDBG_SPIN_US once.
    BusyPollPolicy();
    /// The budget now: the load average is read again at most once a second.
    std::chrono::microseconds budget_now();

private:
    std::optional<long> fixed_;
    std::chrono::steady_clock::time_point sampled_{};
    std::chrono::microseconds budget_{0};
    bool first_ = true;
};

}  // namespace kvmdbg::system
