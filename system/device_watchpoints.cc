#include "system/device_watchpoints.h"

#include <algorithm>

#include "common/byte_order.h"

namespace kvmdbg::system {

namespace {

constexpr std::uint64_t kPage = 4096;

// Appends a run, merging it into the last one when both are of the same
// kind and contiguous in virtual and in physical addresses.
void append(std::vector<WatchExtent>& out, std::uint64_t va, std::optional<std::uint64_t> gpa, std::uint64_t len,
            bool device) {
    if (!out.empty()) {
        WatchExtent& last = out.back();
        bool physically_next = last.gpa && gpa ? *last.gpa + last.len == *gpa : !last.gpa && !gpa;
        if (last.device == device && last.va + last.len == va && physically_next) {
            last.len += len;
            return;
        }
    }
    out.push_back(WatchExtent{va, gpa, len, device});
}

}  // namespace

DeviceWatchpoints::DeviceWatchpoints(hw::IoBus& bus, DeviceAccessCatches& catches, std::uint32_t cpus)
    : bus_(bus), catches_(catches), stopped_at_(cpus), step_over_pending_(cpus, false) {}

std::vector<WatchExtent> DeviceWatchpoints::plan(std::uint64_t va, std::uint64_t len, const Translate& translate,
                                                 const DeviceParts& device_parts) {
    std::vector<WatchExtent> out;
    // The range ends at the top of the address space rather than wrapping.
    std::uint64_t remaining = std::min(std::max<std::uint64_t>(len, 1) - 1, ~std::uint64_t{0} - va) + 1;
    std::uint64_t pos = va;
    while (remaining != 0) {
        std::uint64_t chunk = std::min(remaining, kPage - pos % kPage);
        std::optional<std::uint64_t> gpa = translate(pos);
        if (!gpa) {
            append(out, pos, std::nullopt, chunk, false);
        } else {
            std::uint64_t cur = *gpa;
            const std::uint64_t last = *gpa + (chunk - 1);
            for (auto [first, part_last] : device_parts(*gpa, last)) {
                if (first > cur) {
                    append(out, pos + (cur - *gpa), cur, first - cur, false);
                }
                append(out, pos + (first - *gpa), first, part_last - first + 1, true);
                cur = part_last + 1;
            }
            if (cur - *gpa < chunk) {  // a memory run after the last device part
                append(out, pos + (cur - *gpa), cur, last - cur + 1, false);
            }
        }
        pos += chunk;
        remaining -= chunk;
    }
    return out;
}

std::vector<WatchExtent> DeviceWatchpoints::plan(std::uint64_t va, std::uint64_t len,
                                                 const Translate& translate) const {
    return plan(va, len, translate, [this](std::uint64_t first, std::uint64_t last) {
        return bus_.mapped_parts(hw::AddressSpace::mmio, first, last);
    });
}

void DeviceWatchpoints::add(int type, std::uint64_t va, std::uint64_t len, AccessDirection direction,
                            const std::vector<WatchExtent>& extents) {
    auto key = std::make_tuple(type, va, len);
    if (auto it = set_.find(key); it != set_.end()) {
        ++it->second.refs;
        return;
    }
    Set set{extents, {}, 1};
    for (const WatchExtent& e : extents) {
        if (e.device) {
            set.catch_ids.push_back(catches_.add_watch(*e.gpa, *e.gpa + (e.len - 1), direction, e.va));
        }
    }
    set_.emplace(key, std::move(set));
}

std::optional<std::vector<WatchExtent>> DeviceWatchpoints::remove(int type, std::uint64_t va, std::uint64_t len) {
    auto it = set_.find(std::make_tuple(type, va, len));
    if (it == set_.end()) {
        return std::nullopt;
    }
    std::vector<WatchExtent> extents = it->second.extents;
    if (--it->second.refs == 0) {
        for (unsigned id : it->second.catch_ids) {
            catches_.remove_watch(id);
        }
        set_.erase(it);
    }
    return extents;
}

void DeviceWatchpoints::clear() {
    for (auto& [key, set] : set_) {
        for (unsigned id : set.catch_ids) {
            catches_.remove_watch(id);
        }
    }
    set_.clear();
    std::lock_guard lock(stopped_mu_);
    std::fill(stopped_at_.begin(), stopped_at_.end(), std::nullopt);
    std::fill(step_over_pending_.begin(), step_over_pending_.end(), false);
}

std::size_t DeviceWatchpoints::read(std::uint32_t cpu, std::uint64_t gpa, std::span<std::uint8_t> out) {
    std::vector<bool> known(out.size(), false);
    const std::size_t n = out.size();
    auto whole = n == 1 || n == 2 || n == 4 || n == 8 ? bus_.peek(hw::AddressSpace::mmio, gpa, static_cast<unsigned>(n))
                                                      : std::nullopt;
    if (whole) {
        store_le(out.data(), *whole, n);
        std::fill(known.begin(), known.end(), true);
    } else {
        for (std::size_t i = 0; i < n; ++i) {
            if (auto byte = bus_.peek(hw::AddressSpace::mmio, gpa + i, 1)) {
                out[i] = static_cast<std::uint8_t>(*byte);
                known[i] = true;
            }
        }
    }
    std::lock_guard lock(stopped_mu_);
    if (cpu < stopped_at_.size() && stopped_at_[cpu]) {
        const DeviceAccess& a = *stopped_at_[cpu];
        for (std::size_t i = 0; i < n; ++i) {
            std::uint64_t addr = gpa + i;
            if (addr >= a.addr && addr - a.addr < a.size) {
                out[i] = static_cast<std::uint8_t>(a.value >> (8 * (addr - a.addr)));
                known[i] = true;
            }
        }
    }
    return static_cast<std::size_t>(std::find(known.begin(), known.end(), false) - known.begin());
}

void DeviceWatchpoints::note_stop(std::uint32_t cpu, const DeviceAccess& access) {
    std::lock_guard lock(stopped_mu_);
    if (cpu < stopped_at_.size() && access.space == hw::AddressSpace::mmio) {
        stopped_at_[cpu] = access;
        step_over_pending_[cpu] = true;
    }
}

void DeviceWatchpoints::note_resume(std::uint32_t cpu) {
    std::lock_guard lock(stopped_mu_);
    if (cpu < stopped_at_.size()) {
        stopped_at_[cpu].reset();
        step_over_pending_[cpu] = false;
    }
}

bool DeviceWatchpoints::take_step_over(std::uint32_t cpu) {
    std::lock_guard lock(stopped_mu_);
    if (cpu >= step_over_pending_.size() || !step_over_pending_[cpu]) {
        return false;
    }
    step_over_pending_[cpu] = false;
    return true;
}

}  // namespace kvmdbg::system
