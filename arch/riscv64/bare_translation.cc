#include "arch/riscv64/bare_translation.h"

#include <string>

#include "common/hex_string.h"

namespace kvmdbg::arch::riscv64 {

Result<std::uint64_t> physical_without_paging(std::uint64_t satp, std::uint64_t va) {
    const std::uint64_t mode = satp >> kSatpModeShift;
    if (mode != 0) {
        const char* name = mode == 8 ? "Sv39" : mode == 9 ? "Sv48" : mode == 10 ? "Sv57" : "an unknown mode";
        return make_error(ENOTSUP, "cannot translate " + hex_string(va) + ": the vCPU pages with " + name +
                                       " (satp.MODE " + std::to_string(mode) + ") and kvmdbg has no riscv page walker");
    }
    return va;
}

}  // namespace kvmdbg::arch::riscv64
