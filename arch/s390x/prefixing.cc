#include "arch/s390x/prefixing.h"

#include "common/hex_string.h"

namespace kvmdbg::arch::s390x {

std::uint64_t real_to_absolute(std::uint64_t real, std::uint64_t prefix) {
    const std::uint64_t p = prefix & kPrefixMask;
    if (real < kPrefixAreaSize) {
        return real + p;
    }
    if (real >= p && real - p < kPrefixAreaSize) {
        return real - p;
    }
    return real;
}

Result<std::uint64_t> absolute_without_dat(std::uint64_t psw_mask, std::uint64_t prefix, std::uint64_t addr) {
    if ((psw_mask & kPswMaskDat) != 0) {
        return make_error(ENOTSUP, "cannot translate " + hex_string(addr) +
                                       ": the vCPU runs with DAT on (PSW bit 5) and kvmdbg has no s390 DAT walker");
    }
    return real_to_absolute(addr, prefix);
}

}  // namespace kvmdbg::arch::s390x
