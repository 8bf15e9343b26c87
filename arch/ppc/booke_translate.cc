#include "arch/ppc/booke_translate.h"

namespace kvmdbg::arch::ppc {

std::uint64_t translate_request(std::uint64_t ea, std::uint64_t pid, std::uint64_t msr) {
    const std::uint64_t as = (msr & kMsrDs) != 0 ? 1 : 0;
    return (ea & 0xffffffffull) | (pid & 0xff) << 32 | as << 40;
}

}  // namespace kvmdbg::arch::ppc
