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
    std::snprintf(buf, sizeof buf, "%s address 0x%" PRIx64 " is not mapped", physical ? "physical" : "virtual",
                  addr);
    return make_error(EFAULT, buf);
}

}  // namespace

GuestMemory::GuestMemory(const KvmVm& vm, const KvmdbgX86State& state)
    : vm_(vm), paging_{state.cr0, state.cr3, state.cr4, state.efer} {}

GuestMemory::GuestMemory(const KvmVm& vm) : vm_(vm), physical_(true) {}

Result<std::span<std::uint8_t>> GuestMemory::map_chunk(std::uint64_t addr, std::uint64_t len) const {
    std::uint64_t gpa = addr;
    if (!physical_) {
        auto reader = [this](std::uint64_t pa, unsigned size) -> std::optional<std::uint64_t> {
            auto bytes = vm_.guest_bytes(pa, size);
            if (bytes.empty()) {
                return std::nullopt;
            }
            std::uint64_t v = 0;
            std::memcpy(&v, bytes.data(), size);
            return v;
        };
        auto t = arch::x86::translate(paging_, addr, reader);
        if (!t) {
            return unmapped(addr, false);
        }
        gpa = t->physical;
    }
    auto bytes = vm_.guest_bytes(gpa, len);
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
        done += c.size();
    }
    return ok_status();
}

}  // namespace kvmdbg::accel::kvm
