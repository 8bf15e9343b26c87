// libFuzzer target: the x86 page walker (arch/x86/page_walk) over
// fuzzer-controlled page tables, as a hostile guest controls its own CR3
// and tables (Intel SDM Vol. 3A, 4.3 32-bit paging, 4.4 PAE paging,
// 4.5 4-level and 5-level paging).
//
// Input layout (little-endian):
//   [0, 8)   CR0     [8, 16)  CR3     [16, 24) CR4     [24, 32) EFER
//   [32, 40) linear address
//   [40]     memory mode: bit 0 = 0: guest RAM is the bytes after the
//            header at GPA 0, reads past it fail; = 1: those bytes repeat
//            over the whole physical address space, so every table read
//            succeeds and deep walks are reached.
//   [41, ..) guest RAM
// Checks: the walker reads only 4- or 8-byte entries, at most five per
// walk, and a translation keeps the linear address's offset within the
// page it reports, whose size is 4 KiB, 2 MiB, 4 MiB or 1 GiB.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

#include "arch/x86/page_walk.h"

namespace {

std::uint64_t le64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, 8);  // x86 host: little-endian
    return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    constexpr std::size_t kHeader = 41;
    if (size < kHeader) {
        return 0;
    }
    using namespace kvmdbg::arch::x86;
    PagingState paging;
    paging.cr0 = le64(data);
    paging.cr3 = le64(data + 8);
    paging.cr4 = le64(data + 16);
    paging.efer = le64(data + 24);
    std::uint64_t linear = le64(data + 32);
    bool aliased = (data[40] & 1) != 0;
    const std::uint8_t* ram = data + kHeader;
    std::size_t ram_size = size - kHeader;

    unsigned reads = 0;
    PhysReader reader = [&](std::uint64_t gpa, unsigned n) -> std::optional<std::uint64_t> {
        ++reads;
        if (n != 4 && n != 8) {
            __builtin_trap();
        }
        if (ram_size == 0) {
            return std::nullopt;
        }
        std::uint64_t v = 0;
        if (aliased) {
            for (unsigned k = 0; k < n; ++k) {
                v |= static_cast<std::uint64_t>(ram[(gpa + k) % ram_size]) << (8 * k);
            }
            return v;
        }
        if (gpa >= ram_size || n > ram_size - gpa) {
            return std::nullopt;
        }
        std::memcpy(&v, ram + gpa, n);
        return v;
    };

    auto t = translate(paging, linear, reader);
    if (reads > 5) {
        __builtin_trap();
    }
    if (t) {
        bool paging_on = (paging.cr0 & (1ull << 31)) != 0;
        bool long_mode = (paging.efer & (1ull << 10)) != 0;
        std::uint64_t effective = (!paging_on || long_mode) ? linear : (linear & 0xffffffffull);
        std::uint64_t ps = t->page_size;
        if (ps != (1ull << 12) && ps != (1ull << 21) && ps != (1ull << 22) && ps != (1ull << 30)) {
            __builtin_trap();
        }
        if ((t->physical & (ps - 1)) != (effective & (ps - 1))) {
            __builtin_trap();
        }
    }
    return 0;
}
