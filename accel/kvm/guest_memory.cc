#include "accel/kvm/guest_memory.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

#include "accel/kvm/kvm_vm.h"

namespace kvmdbg::accel::kvm {

namespace {

constexpr std::uint64_t kPage = 4096;

Error unmapped(std::uint64_t addr, bool physical) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s address 0x%" PRIx64 " is not mapped", physical ? "physical" : "virtual", addr);
    return make_error(EFAULT, buf);
}

}  // namespace

GuestMemory::GuestMemory(const KvmVm& vm, VirtualTranslator translate) : vm_(vm), translate_(std::move(translate)) {}

std::optional<std::uint64_t> GuestMemory::read_physical(const KvmVm& vm, std::uint64_t gpa, unsigned size) {
    auto bytes = vm.guest_bytes(gpa, size);
    if (bytes.empty() || size > 8) {
        return std::nullopt;
    }
    std::uint64_t v = 0;
    std::memcpy(&v, bytes.data(), size);
    return v;
}

GuestMemory::GuestMemory(const KvmVm& vm) : vm_(vm), physical_(true) {}

std::optional<std::uint64_t> GuestMemory::translate(std::uint64_t addr) const {
    if (physical_) {
        return addr;
    }
    return translate_ ? translate_(addr) : std::nullopt;
}

Result<std::span<std::uint8_t>> GuestMemory::map_chunk(std::uint64_t addr, std::uint64_t len) const {
    auto gpa = translate(addr);
    if (!gpa) {
        return unmapped(addr, false);
    }
    auto bytes = vm_.guest_bytes(*gpa, len);
    if (bytes.empty()) {
        return unmapped(addr, physical_);
    }
    return bytes;
}

Status GuestMemory::read(std::uint64_t addr, std::span<std::uint8_t> out) {
    std::size_t done = 0;
    while (done < out.size()) {
        std::uint64_t a = addr + done;
        std::uint64_t chunk = std::min<std::uint64_t>(out.size() - done, kPage - (a % kPage));
        auto host = map_chunk(a, chunk);
        if (!host) {
            return host.error();
        }
        std::memcpy(out.data() + done, host->data(), chunk);
        done += chunk;
    }
    return ok_status();
}

Status GuestMemory::write(std::uint64_t addr, std::span<const std::uint8_t> in) {
    // Map every page first: a write to a range with an unmapped page changes nothing.
    std::vector<std::span<std::uint8_t>> chunks;
    std::size_t done = 0;
    while (done < in.size()) {
        std::uint64_t a = addr + done;
        std::uint64_t chunk = std::min<std::uint64_t>(in.size() - done, kPage - (a % kPage));
        auto host = map_chunk(a, chunk);
        if (!host) {
            return host.error();
        }
        chunks.push_back(*host);
        done += chunk;
    }
    done = 0;
    for (auto c : chunks) {
        std::memcpy(c.data(), in.data() + done, c.size());
        // A breakpoint instruction written into guest code must be what the
        // guest fetches next: clean the data cache and invalidate the
        // instruction cache for it (a no-op on x86, DC CVAU + IC IVAU on arm64).
        __builtin___clear_cache(reinterpret_cast<char*>(c.data()), reinterpret_cast<char*>(c.data() + c.size()));
        done += c.size();
    }
    return ok_status();
}

}  // namespace kvmdbg::accel::kvm
