// GuestMemory: guest memory as the debugger addresses it: a virtual address
// translated through one vCPU's page tables (the ISA's page walker:
// arch/x86/page_walk.h, arch/arm64/page_walk.h, wrapped by the backend in a
// VirtualTranslator), or a guest-physical address. Backs the software-breakpoint table and the
// debugger's memory reads and writes. Every access is bounds-checked against
// the VM's memory slots; a range may cross pages, each page is translated.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "accel/kvm/sw_breakpoint_table.h"

namespace kvmdbg::accel::kvm {

class KvmVm;

/// Translates one guest-virtual address to guest-physical (nullopt: not
/// mapped). Built by the ISA backend from a vCPU's state.
using VirtualTranslator = std::function<std::optional<std::uint64_t>(std::uint64_t va)>;

class GuestMemory final : public MemoryAccess {
public:
    /// Virtual addresses through `translate`.
    GuestMemory(const KvmVm& vm, VirtualTranslator translate);
    /// Guest-physical addresses.
    explicit GuestMemory(const KvmVm& vm);

    Status read(std::uint64_t addr, std::span<std::uint8_t> out) override;
    /// The guest-physical address of `addr` (itself for physical memory),
    /// whether or not RAM backs it; nullopt: not mapped by the paging.
    std::optional<std::uint64_t> translate(std::uint64_t addr) const;
    Status write(std::uint64_t addr, std::span<const std::uint8_t> in) override;

    /// A little-endian load of `size` (1..8) bytes at guest-physical `gpa`,
    /// or nullopt outside RAM: the page walkers' table reader.
    static std::optional<std::uint64_t> read_physical(const KvmVm& vm, std::uint64_t gpa, unsigned size);

private:
    /// Host span for [addr, addr+len) within one page, or an EFAULT error.
    Result<std::span<std::uint8_t>> map_chunk(std::uint64_t addr, std::uint64_t len) const;

    const KvmVm& vm_;
    VirtualTranslator translate_;
    bool physical_ = false;
};

}  // namespace kvmdbg::accel::kvm
