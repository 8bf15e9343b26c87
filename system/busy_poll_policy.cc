#include "system/busy_poll_policy.h"

#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace kvmdbg::system {

namespace {

// The numbers of `text`, separated by spaces, from the start (tpgid in
// /proc/PID/stat is -1 without a terminal).
std::vector<std::int64_t> numbers(std::string_view text, std::size_t at_most) {
    std::vector<std::int64_t> out;
    std::size_t i = 0;
    while (out.size() < at_most) {
        while (i < text.size() && text[i] == ' ') {
            ++i;
        }
        std::int64_t v = 0;
        auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), v);
        if (ec != std::errc{}) {
            break;
        }
        out.push_back(v);
        i = static_cast<std::size_t>(end - text.data());
    }
    return out;
}

std::string read_file(const char* path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

std::chrono::microseconds busy_poll_budget(double others, unsigned cpus, std::optional<long> fixed) {
    if (fixed) {
        return std::chrono::microseconds(*fixed > 0 ? *fixed : 0);
    }
    return cpus >= 2 && others <= static_cast<double>(cpus) - 1.0 ? kBusyPollBudget : std::chrono::microseconds(0);
}

std::optional<std::uint64_t> proc_stat_busy_ticks(std::string_view proc_stat) {
    if (proc_stat.substr(0, 4) != "cpu ") {
        return std::nullopt;
    }
    auto v = numbers(proc_stat.substr(4), 8);  // user nice system idle iowait irq softirq steal
    if (v.size() < 4) {
        return std::nullopt;
    }
    std::uint64_t busy = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        busy += i == 3 || i == 4 || v[i] < 0 ? 0 : static_cast<std::uint64_t>(v[i]);
    }
    return busy;
}

std::optional<std::uint64_t> proc_pid_stat_ticks(std::string_view pid_stat) {
    std::size_t paren = pid_stat.rfind(')');
    if (paren == std::string_view::npos || paren + 2 > pid_stat.size()) {
        return std::nullopt;
    }
    // After ") ": state (field 3), then numbers from field 4; utime is 14.
    std::string_view rest = pid_stat.substr(paren + 2);
    std::size_t space = rest.find(' ');
    if (space == std::string_view::npos) {
        return std::nullopt;
    }
    auto v = numbers(rest.substr(space + 1), 12);  // fields 4..15
    if (v.size() < 12) {
        return std::nullopt;
    }
    if (v[10] < 0 || v[11] < 0) {
        return std::nullopt;
    }
    return static_cast<std::uint64_t>(v[10] + v[11]);
}

BusyPollPolicy::BusyPollPolicy() {
    if (const char* us = std::getenv("KVMDBG_SPIN_US"); us != nullptr && *us != '\0') {
        fixed_ = std::strtol(us, nullptr, 10);
    }
}

std::optional<BusyPollPolicy::Sample> BusyPollPolicy::sample() {
    auto busy = proc_stat_busy_ticks(read_file("/proc/stat"));
    auto own = proc_pid_stat_ticks(read_file("/proc/self/stat"));
    if (!busy || !own) {
        return std::nullopt;
    }
    return Sample{std::chrono::steady_clock::now(), *busy, *own};
}

std::chrono::microseconds BusyPollPolicy::budget_now() {
    if (fixed_) {
        return busy_poll_budget(0, 0, fixed_);
    }
    auto now = std::chrono::steady_clock::now();
    if (last_ && now - last_->at < std::chrono::seconds(1)) {
        return budget_;
    }
    auto current = sample();
    if (!current) {
        budget_ = std::chrono::microseconds(0);  // cannot tell: do not spin
        return budget_;
    }
    if (!last_) {
        // No second sampled yet: the 1-minute load average (kvmdbg has not
        // spun yet, so it is mostly others' load) decides until then.
        double load[1] = {0.0};
        budget_ = getloadavg(load, 1) == 1
                      ? busy_poll_budget(load[0], std::thread::hardware_concurrency(), std::nullopt)
                      : std::chrono::microseconds(0);
    } else {
        double seconds = std::chrono::duration<double>(current->at - last_->at).count();
        double ticks_per_second = static_cast<double>(sysconf(_SC_CLK_TCK));
        double busy = static_cast<double>(current->busy_ticks - last_->busy_ticks);
        double own = static_cast<double>(current->own_ticks - last_->own_ticks);
        double others = (busy - own) / ticks_per_second / seconds;
        budget_ = busy_poll_budget(others, std::thread::hardware_concurrency(), std::nullopt);
    }
    last_ = current;
    return budget_;
}

}  // namespace kvmdbg::system
