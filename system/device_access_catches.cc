#include "system/device_access_catches.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <iterator>

namespace kvmdbg::system {

namespace {

const char* direction_name(AccessDirection d) {
    switch (d) {
    case AccessDirection::read: return "r";
    case AccessDirection::write: return "w";
    case AccessDirection::both: return "rw";
    }
    return "?";
}

bool watches(AccessDirection d, bool is_write) {
    return (static_cast<unsigned>(d) &
            static_cast<unsigned>(is_write ? AccessDirection::write : AccessDirection::read)) != 0;
}

}  // namespace

bool access_overlaps(std::uint64_t addr, unsigned size, std::uint64_t first, std::uint64_t last) {
    const std::uint64_t span = (size == 0 ? 1 : size) - 1;
    const std::uint64_t end = addr > ~std::uint64_t{0} - span ? ~std::uint64_t{0} : addr + span;
    return addr <= last && first <= end;
}

unsigned DeviceAccessCatches::add(hw::AddressSpace space, std::uint64_t first, std::uint64_t last,
                                  AccessDirection direction, std::optional<CatchCondition> condition) {
    std::lock_guard lock(mu_);
    unsigned id = next_id_++;
    catches_.push_back(
        DeviceCatch{id, space, std::min(first, last), std::max(first, last), direction, std::move(condition)});
    count_.store(catches_.size(), std::memory_order_relaxed);
    return id;
}

unsigned DeviceAccessCatches::add_watch(std::uint64_t first, std::uint64_t last, AccessDirection direction,
                                        std::uint64_t watch_va) {
    std::lock_guard lock(mu_);
    unsigned id = next_watch_id_++;
    catches_.push_back(DeviceCatch{id, hw::AddressSpace::mmio, first, last, direction, std::nullopt, watch_va});
    count_.store(catches_.size(), std::memory_order_relaxed);
    return id;
}

bool DeviceAccessCatches::remove(unsigned id) { return erase(id, false); }

bool DeviceAccessCatches::remove_watch(unsigned id) { return erase(id, true); }

bool DeviceAccessCatches::erase(unsigned id, bool watch) {
    std::lock_guard lock(mu_);
    auto it = std::find_if(catches_.begin(), catches_.end(),
                           [id, watch](const DeviceCatch& c) { return c.id == id && c.watch_va.has_value() == watch; });
    if (it == catches_.end()) {
        return false;
    }
    catches_.erase(it);
    count_.store(catches_.size(), std::memory_order_relaxed);
    return true;
}

void DeviceAccessCatches::clear() {
    std::lock_guard lock(mu_);
    catches_.clear();
    for (auto& h : hits_) {
        h.reset();
    }
    count_.store(0, std::memory_order_relaxed);
}

std::vector<DeviceCatch> DeviceAccessCatches::list() const {
    std::lock_guard lock(mu_);
    std::vector<DeviceCatch> out;
    std::copy_if(catches_.begin(), catches_.end(), std::back_inserter(out),
                 [](const DeviceCatch& c) { return !c.watch_va; });
    return out;
}

std::optional<unsigned> DeviceAccessCatches::match(hw::AddressSpace space, std::uint64_t addr, unsigned size,
                                                   bool is_write, std::uint64_t value) const {
    std::lock_guard lock(mu_);
    for (const DeviceCatch& c : catches_) {
        if (c.space == space && access_overlaps(addr, size, c.first, c.last) && watches(c.direction, is_write) &&
            (!c.condition || c.condition->holds(value))) {
            return c.id;
        }
    }
    return std::nullopt;
}

void DeviceAccessCatches::record(const DeviceCatchHit& hit) {
    std::lock_guard lock(mu_);
    if (hit.cpu >= hits_.size() || hits_[hit.cpu]) {
        return;
    }
    hits_[hit.cpu] = hit;
    for (const DeviceCatch& c : catches_) {
        if (c.id == hit.catch_id && c.watch_va) {
            hits_[hit.cpu]->watch_addr = *c.watch_va + (std::max(hit.access.addr, c.first) - c.first);
            hits_[hit.cpu]->watch_direction = c.direction;
        }
    }
}

std::optional<DeviceCatchHit> DeviceAccessCatches::take_hit(std::uint32_t cpu) {
    std::lock_guard lock(mu_);
    if (cpu >= hits_.size()) {
        return std::nullopt;
    }
    auto hit = hits_[cpu];
    hits_[cpu].reset();
    return hit;
}

std::string DeviceAccessCatches::describe(const DeviceCatchHit& hit) {
    const DeviceAccess& a = hit.access;
    char buf[256];
    std::snprintf(buf, sizeof buf, "Catch %u: CPU#%u %s 0x%0*" PRIx64 " %s %s 0x%" PRIx64 " (%u byte%s, %s)\n",
                  hit.catch_id, hit.cpu, a.is_write ? "wrote" : "read", static_cast<int>(a.size * 2), a.value,
                  a.is_write ? "to" : "from", a.space == hw::AddressSpace::pio ? "port" : "address", a.addr, a.size,
                  a.size == 1 ? "" : "s", a.device.empty() ? "unassigned" : a.device.c_str());
    return buf;
}

std::string DeviceAccessCatches::format_list(const std::vector<DeviceCatch>& catches) {
    if (catches.empty()) {
        return "No catches.\n";
    }
    std::string out = "Num  Space  Range                                  Stops on\n";
    char buf[128];
    for (const DeviceCatch& c : catches) {
        std::snprintf(buf, sizeof buf, "%-4u %-6s 0x%" PRIx64 "-0x%" PRIx64, c.id, hw::address_space_name(c.space),
                      c.first, c.last);
        std::string line = buf;
        line.resize(std::max<std::size_t>(line.size() + 1, 51), ' ');
        out += line + direction_name(c.direction) + (c.condition ? "  if " + c.condition->text() : "") + "\n";
    }
    return out;
}

}  // namespace kvmdbg::system
