#include "hw-models/guest_ram.h"

#include <cstdio>
#include <cstring>
#include <string>

namespace kvmdbg::hw {

namespace {

constexpr std::uint64_t kPageMask = 0xfff;

std::string range_text(std::uint64_t gpa, std::uint64_t len) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "[0x%llx, +0x%llx)", static_cast<unsigned long long>(gpa),
                  static_cast<unsigned long long>(len));
    return buf;
}

}  // namespace

Status GuestRam::add_region(std::uint64_t gpa, std::uint64_t size) {
    if (size == 0 || ((gpa | size) & kPageMask) != 0 || gpa + size < gpa) {
        return make_error(EINVAL, "RAM region " + range_text(gpa, size) + " is not page aligned");
    }
    for (const auto& r : regions_) {
        if (gpa < r.gpa + r.memory.size() && r.gpa < gpa + size) {
            return make_error(EINVAL, "RAM region " + range_text(gpa, size) + " overlaps another");
        }
    }
    auto mem = MappedRegion::anonymous(size);
    if (!mem) {
        return mem.error();
    }
    regions_.push_back(Region{gpa, std::move(mem).value()});
    return ok_status();
}

std::uint64_t GuestRam::total_size() const {
    std::uint64_t total = 0;
    for (const auto& r : regions_) {
        total += r.memory.size();
    }
    return total;
}

std::uint8_t* GuestRam::host_ptr(std::uint64_t gpa, std::uint64_t len) const {
    for (const auto& r : regions_) {
        std::uint64_t size = r.memory.size();
        if (gpa >= r.gpa && gpa - r.gpa <= size && len <= size - (gpa - r.gpa)) {
            if (len == 0 && gpa - r.gpa == size) {
                continue;  // one past the end is not inside RAM
            }
            return r.memory.data() + (gpa - r.gpa);
        }
    }
    return nullptr;
}

Status GuestRam::read(std::uint64_t gpa, std::span<std::uint8_t> out) const {
    const std::uint8_t* p = host_ptr(gpa, out.size());
    if (p == nullptr) {
        return make_error(EFAULT, "guest-physical range " + range_text(gpa, out.size()) + " is outside RAM");
    }
    std::memcpy(out.data(), p, out.size());
    return ok_status();
}

Status GuestRam::write(std::uint64_t gpa, std::span<const std::uint8_t> in) {
    std::uint8_t* p = host_ptr(gpa, in.size());
    if (p == nullptr) {
        return make_error(EFAULT, "guest-physical range " + range_text(gpa, in.size()) + " is outside RAM");
    }
    std::memcpy(p, in.data(), in.size());
    return ok_status();
}

void GuestRam::clear() {
    for (auto& r : regions_) {
        std::memset(r.memory.data(), 0, r.memory.size());
    }
}

}  // namespace kvmdbg::hw
