#include "arch/x86/hint_nop.h"

namespace kvmdbg::arch::x86 {

namespace {

bool is_legacy_prefix(std::uint8_t b) {
    switch (b) {
    case 0x66:
    case 0x67:
    case 0xf2:
    case 0xf3:
    case 0x2e:
    case 0x36:
    case 0x3e:
    case 0x26:
    case 0x64:
    case 0x65: return true;
    default: return false;
    }
}

}  // namespace

std::optional<unsigned> hint_nop_length(std::span<const std::uint8_t> code, bool long_mode, bool addr32) {
    constexpr unsigned kMaxInsn = 15;  // SDM Vol. 2A 2.3.11
    std::size_t i = 0;
    bool addr_override = false;
    while (i < code.size() && i < kMaxInsn && is_legacy_prefix(code[i])) {
        addr_override = addr_override || code[i] == 0x67;
        ++i;
    }
    if (long_mode && i < code.size() && (code[i] & 0xf0) == 0x40) {
        ++i;  // REX
    }
    if (i + 3 > code.size() || code[i] != 0x0f || code[i + 1] < 0x19 || code[i + 1] > 0x1f) {
        return std::nullopt;
    }
    i += 2;
    std::uint8_t modrm = code[i++];
    unsigned mod = modrm >> 6;
    unsigned rm = modrm & 7;
    bool a32 = long_mode ? true : (addr32 != addr_override);
    if (!long_mode && !a32) {
        // 16-bit addressing: disp16 for mod=10 and for mod=00 rm=110.
        if (mod == 1) {
            i += 1;
        } else if (mod == 2 || (mod == 0 && rm == 6)) {
            i += 2;
        }
    } else if (mod != 3) {
        if (rm == 4) {
            if (i >= code.size()) {
                return std::nullopt;
            }
            std::uint8_t sib = code[i++];
            if (mod == 0 && (sib & 7) == 5) {
                i += 4;
            }
        } else if (mod == 0 && rm == 5) {
            i += 4;  // disp32 (RIP-relative in long mode)
        }
        if (mod == 1) {
            i += 1;
        } else if (mod == 2) {
            i += 4;
        }
    }
    if (i > code.size() || i > kMaxInsn) {
        return std::nullopt;
    }
    return static_cast<unsigned>(i);
}

}  // namespace kvmdbg::arch::x86
