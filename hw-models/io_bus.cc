#include "hw-models/io_bus.h"

#include <algorithm>
#include <cstring>

namespace kvmdbg::hw {

Status IoBus::map(AddressSpace space, std::uint64_t base, std::uint64_t size, std::string name,
                  std::shared_ptr<IoDevice> device) {
    if (size == 0 || base + size < base) {
        return make_error(EINVAL, "device " + name + ": empty or wrapping range");
    }
    for (const auto& m : mappings_) {
        if (m.space == space && base < m.base + m.size && m.base < base + size) {
            return make_error(EBUSY, "device " + name + " overlaps device " + m.name);
        }
    }
    mappings_.push_back(Mapping{space, base, size, std::move(name), std::move(device)});
    return ok_status();
}

const IoBus::Mapping* IoBus::find(AddressSpace space, std::uint64_t addr) const {
    for (const auto& m : mappings_) {
        if (m.space == space && addr >= m.base && addr - m.base < m.size) {
            return &m;
        }
    }
    return nullptr;
}

IoOutcome IoBus::dispatch(AddressSpace space, std::uint64_t addr, std::uint8_t* data, unsigned size, bool is_write) {
    if (size == 0 || size > 8) {
        return IoOutcome::proceed;
    }
    const Mapping* m = find(space, addr);
    const char* kind = address_space_name(space);
    if (m == nullptr) {
        log_.write(LogCategory::guest_errors, "unassigned %s %s 0x%llx size %u", kind, is_write ? "write" : "read",
                   static_cast<unsigned long long>(addr), size);
        if (!is_write) {
            std::memset(data, 0xff, size);
        }
        return IoOutcome::proceed;
    }
    std::lock_guard lock(mu_);
    std::uint64_t offset = addr - m->base;
    if (is_write) {
        std::uint64_t value = 0;
        std::memcpy(&value, data, size);  // x86 and arm64 hosts are little-endian
        return m->device->write(offset, value, size);
    }
    std::uint64_t value = m->device->read(offset, size);
    std::memcpy(data, &value, size);
    return IoOutcome::proceed;
}

std::vector<IoBus::Range> IoBus::ranges() const {
    std::vector<Range> out;
    for (const auto& m : mappings_) {
        out.push_back(Range{m.space, m.base, m.size, m.name});
    }
    return out;
}

std::string IoBus::name_at(AddressSpace space, std::uint64_t addr) const {
    const Mapping* m = find(space, addr);
    return m != nullptr ? m->name : std::string();
}

std::optional<std::string> IoBus::device_state(const std::string& name) {
    for (const auto& m : mappings_) {
        if (m.name == name) {
            std::lock_guard lock(mu_);
            return m.device->state_text();
        }
    }
    return std::nullopt;
}

std::optional<std::uint64_t> IoBus::peek(AddressSpace space, std::uint64_t addr, unsigned size) {
    const Mapping* m = find(space, addr);
    if (m == nullptr || size == 0 || size > 8 || addr - m->base + size > m->size) {
        return std::nullopt;
    }
    std::lock_guard lock(mu_);
    return m->device->peek(addr - m->base, size);
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> IoBus::mapped_parts(AddressSpace space, std::uint64_t first,
                                                                         std::uint64_t last) const {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> parts;
    for (const auto& m : mappings_) {
        if (m.space != space || m.size == 0) {
            continue;
        }
        std::uint64_t m_last = m.base + (m.size - 1);
        if (m.base > last || m_last < first) {
            continue;
        }
        parts.emplace_back(std::max(first, m.base), std::min(last, m_last));
    }
    std::sort(parts.begin(), parts.end());
    return parts;
}

void IoBus::with_lock(const std::function<void()>& fn) {
    std::lock_guard lock(mu_);
    fn();
}

}  // namespace kvmdbg::hw
