#include "system/device_access_trace.h"

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>

#include "system/monitor_numbers.h"

namespace kvmdbg::system {

namespace {

std::uint64_t steady_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
}

}  // namespace

bool TraceFilter::matches(const DeviceAccess& a) const {
    if (space && (a.space != *space || !access_overlaps(a.addr, a.size, first, last))) {
        return false;
    }
    return device.empty() || a.device == device;
}

Result<TraceFilter> TraceFilter::parse(const std::vector<std::string>& words) {
    TraceFilter f;
    if (words.empty()) {
        return f;
    }
    if (words.size() == 1) {
        f.device = words[0];
        return f;
    }
    if (words.size() == 2 && (words[0] == "io" || words[0] == "mmio")) {
        auto range = parse_monitor_range(words[1]);
        if (!range) {
            return make_error(EINVAL, "bad range '" + words[1] + "'");
        }
        f.space = words[0] == "io" ? hw::AddressSpace::pio : hw::AddressSpace::mmio;
        f.first = range->first;
        f.last = range->second;
        return f;
    }
    return make_error(EINVAL, "filter: io FIRST[-LAST], mmio FIRST[-LAST] or a device name");
}

DeviceAccessTrace::DeviceAccessTrace() : start_ns_(steady_ns()) {}

std::uint64_t DeviceAccessTrace::now_ns() const { return steady_ns() - start_ns_; }

void DeviceAccessTrace::record(const TracedAccess& entry) {
    std::lock_guard lock(mu_);
    if (ring_.size() == kCapacity) {
        ring_.pop_front();
    }
    ring_.push_back(entry);
    ++total_;
}

std::vector<TracedAccess> DeviceAccessTrace::last(std::size_t n, const TraceFilter& filter) const {
    std::lock_guard lock(mu_);
    std::vector<TracedAccess> out;
    for (auto it = ring_.rbegin(); it != ring_.rend() && out.size() < n; ++it) {
        if (filter.matches(it->access)) {
            out.push_back(*it);
        }
    }
    return {out.rbegin(), out.rend()};
}

std::uint64_t DeviceAccessTrace::total() const {
    std::lock_guard lock(mu_);
    return total_;
}

std::string DeviceAccessTrace::format(const TracedAccess& e) {
    const DeviceAccess& a = e.access;
    char pc[32] = "pc=?";
    if (e.pc) {
        std::snprintf(pc, sizeof pc, "pc=0x%" PRIx64, *e.pc);
    }
    char buf[256];
    std::snprintf(buf, sizeof buf, "%4" PRIu64 ".%06" PRIu64 " CPU#%u %s %s %s 0x%" PRIx64 " %u 0x%0*" PRIx64 " %s",
                  e.ns / 1000000000, (e.ns / 1000) % 1000000, e.cpu, pc, a.is_write ? "write" : "read ",
                  hw::address_space_name(a.space), a.addr, a.size, static_cast<int>(a.size * 2), a.value,
                  a.device.empty() ? "unassigned" : a.device.c_str());
    return buf;
}

}  // namespace kvmdbg::system
