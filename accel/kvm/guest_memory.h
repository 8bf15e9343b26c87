// GuestMemory: guest memory as the debugger addresses it: a virtual address
// translated through one vCPU's page tables (arch/x86/page_walk.h), or a
// guest-physical address. Backs the software-breakpoint table and the
// debugger's memory reads and writes. Every access is bounds-checked against
// the VM's memory slots; a range may cross pages, each page is translated.
#pragma once

#include <cstdint>
#include <span>

#include "accel/kvm/sw_breakpoint_table.h"
#include "arch/x86/cpu_state.h"
#include "arch/x86/page_walk.h"

namespace kvmdbg::accel::kvm {

class KvmVm;

class GuestMemory final : public MemoryAccess {
public:
    /// Virtual addresses through the paging state of `state`.
    GuestMemory(const KvmVm& vm, const KvmdbgX86State& state);
    /// Guest-physical addresses.
    explicit GuestMemory(const KvmVm& vm);

    Status read(std::uint64_t addr, std::span<std::uint8_t> out) override;
    Status write(std::uint64_t addr, std::span<const std::uint8_t> in) override;

private:
    /// Host span for [addr, addr+len) within one page, or an EFAULT error.
    Result<std::span<std::uint8_t>> map_chunk(std::uint64_t addr, std::uint64_t len) const;

    const KvmVm& vm_;
    arch::x86::PagingState paging_{};
    bool physical_ = false;
};

}  // namespace kvmdbg::accel::kvm
