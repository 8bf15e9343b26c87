// libFuzzer target: the arm64 stage-1 page walker (arch/arm64/page_walk)
// over fuzzer-controlled translation tables, as a hostile guest controls
// its own TTBRs, TCR_EL1 and tables (ARM ARM DDI 0487, D8 "The AArch64
// Virtual Memory System Architecture": granules, descriptors, FEAT_LPA,
// FEAT_LPA2).
//
// Input layout (little-endian):
//   [0, 8) SCTLR_EL1  [8, 16) TCR_EL1  [16, 24) TTBR0_EL1  [24, 32) TTBR1_EL1
//   [32, 40) virtual address
//   [40]     memory mode: bit 0 = 0: guest RAM is the bytes after the
//            header at GPA 0, reads past it fail; = 1: those bytes repeat
//            over the whole physical address space (every read succeeds)
//   [41, ..) guest RAM
// Checks: at most five descriptor reads per walk (the walker's contract);
// with the MMU on, a translation's page size is a power of two of at least
// 4 KiB and the VA's offset within that page is kept.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

#include "arch/arm64/page_walk.h"

namespace {

std::uint64_t le64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, 8);  // little-endian host
    return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    constexpr std::size_t kHeader = 41;
    if (size < kHeader) {
        return 0;
    }
    using namespace kvmdbg::arch::arm64;
    PagingState paging;
    paging.sctlr_el1 = le64(data);
    paging.tcr_el1 = le64(data + 8);
    paging.ttbr0_el1 = le64(data + 16);
    paging.ttbr1_el1 = le64(data + 24);
    std::uint64_t va = le64(data + 32);
    bool aliased = (data[40] & 1) != 0;
    const std::uint8_t* ram = data + kHeader;
    std::size_t ram_size = size - kHeader;

    unsigned reads = 0;
    PhysReader reader = [&](std::uint64_t gpa) -> std::optional<std::uint64_t> {
        ++reads;
        if (ram_size == 0) {
            return std::nullopt;
        }
        std::uint64_t v = 0;
        if (aliased) {
            for (unsigned k = 0; k < 8; ++k) {
                v |= static_cast<std::uint64_t>(ram[(gpa + k) % ram_size]) << (8 * k);
            }
            return v;
        }
        if (gpa >= ram_size || 8 > ram_size - gpa) {
            return std::nullopt;
        }
        std::memcpy(&v, ram + gpa, 8);
        return v;
    };

    (void)decode_granule(paging.tcr_el1, false);
    (void)decode_granule(paging.tcr_el1, true);
    auto t = translate(paging, va, reader);
    if (reads > 5) {
        __builtin_trap();
    }
    if (t.ok() && !t.value().mmu_off) {
        std::uint64_t ps = t.value().page_size;
        if (ps < 4096 || (ps & (ps - 1)) != 0) {
            __builtin_trap();
        }
        if ((t.value().physical & (ps - 1)) != (va & (ps - 1))) {
            __builtin_trap();
        }
    }
    return 0;
}
