#include "system/busy_poll_policy.h"

#include <cstdlib>
#include <thread>

namespace kvmdbg::system {

std::chrono::microseconds busy_poll_budget(double load, unsigned cpus, std::optional<long> fixed) {
    if (fixed) {
        return std::chrono::microseconds(*fixed > 0 ? *fixed : 0);
    }
    // At most cpus - 1 CPUs busy on average: one is left for the spinning
    // thread besides the debugger's client.
    return cpus >= 2 && load <= static_cast<double>(cpus) - 1.0 ? kBusyPollBudget : std::chrono::microseconds(0);
}

BusyPollPolicy::BusyPollPolicy() {
    if (const char* us = std::getenv("KVMDBG_SPIN_US"); us != nullptr && *us != '\0') {
        fixed_ = std::strtol(us, nullptr, 10);
    }
}

std::chrono::microseconds BusyPollPolicy::budget_now() {
    auto now = std::chrono::steady_clock::now();
    if (!first_ && now - sampled_ < std::chrono::seconds(1)) {
        return budget_;
    }
    first_ = false;
    sampled_ = now;
    double load[1] = {0.0};
    if (getloadavg(load, 1) != 1) {
        load[0] = 1e9;  // unknown: do not spin
    }
    budget_ = busy_poll_budget(load[0], std::thread::hardware_concurrency(), fixed_);
    return budget_;
}

}  // namespace kvmdbg::system
