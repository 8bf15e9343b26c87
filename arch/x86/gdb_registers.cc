#include "arch/x86/gdb_registers.h"

#include <array>
#include <cstring>
#include <string>

namespace kvmdbg::arch::x86 {

bool segmented_pc(const KvmdbgX86State& state) {
    constexpr std::uint64_t kCr0Pe = 1ull << 0;
    constexpr std::uint64_t kRflagsVm = 1ull << 17;
    return (state.cr0 & kCr0Pe) == 0 || (state.rflags & kRflagsVm) != 0;
}

std::uint64_t gdb_pc_from_rip(const KvmdbgX86State& state) {
    return segmented_pc(state) ? ((state.cs.base + (state.rip & 0xffff)) & 0xffffffffu) : state.rip;
}

std::uint64_t rip_from_gdb_pc(const KvmdbgX86State& state, std::uint64_t pc) {
    return segmented_pc(state) ? ((pc - state.cs.base) & 0xffff) : pc;
}

namespace {

// gdb's rax..rsp order mapped to the kernel's gpr[] order.
constexpr std::array<int, 16> kGprIndex{KVMDBG_X86_RAX, KVMDBG_X86_RBX, KVMDBG_X86_RCX, KVMDBG_X86_RDX,
                                        KVMDBG_X86_RSI, KVMDBG_X86_RDI, KVMDBG_X86_RBP, KVMDBG_X86_RSP,
                                        KVMDBG_X86_R8,  KVMDBG_X86_R9,  KVMDBG_X86_R10, KVMDBG_X86_R11,
                                        KVMDBG_X86_R12, KVMDBG_X86_R13, KVMDBG_X86_R14, KVMDBG_X86_R15};

constexpr unsigned kEflags = 17, kCs = 18, kFsBase = 24, kCr0 = 27, kSt0 = 33, kFctrl = 41, kXmm0 = 49, kMxcsr = 65;

void put_le(std::uint8_t* out, std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = static_cast<std::uint8_t>(v >> (8 * i));
    }
}

std::uint64_t get_le(const std::uint8_t* in, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = n; i-- > 0;) {
        v = v << 8 | in[i];
    }
    return v;
}

// Field accessors shared by reads (S = const KvmdbgX86State) and writes.
template <typename S>
auto* segment(S& s, unsigned n) {
    switch (n - kCs) {  // gdb order: cs ss ds es fs gs
    case 0: return &s.cs;
    case 1: return &s.ss;
    case 2: return &s.ds;
    case 3: return &s.es;
    case 4: return &s.fs;
    default: return &s.gs;
    }
}

template <typename S>
auto* control(S& s, unsigned n) {
    decltype(&s.cr0) regs[] = {&s.cr0, &s.cr2, &s.cr3, &s.cr4, &s.cr8, &s.efer};
    return regs[n - kCr0];
}

template <typename S>
auto* base(S& s, unsigned n) {
    decltype(&s.cr0) regs[] = {&s.fs.base, &s.gs.base, &s.kernel_gs_base};
    return regs[n - kFsBase];
}

// Tag of one 80-bit value (Intel SDM Vol. 1 8.1.7, gdb's i387_tag).
unsigned classify(const std::uint8_t* raw) {
    std::uint64_t mantissa = get_le(raw, 8);
    unsigned exponent = static_cast<unsigned>(get_le(raw + 8, 2) & 0x7fff);
    if (exponent == 0x7fff) {
        return 2;
    }
    if (exponent == 0) {
        return mantissa == 0 ? 1 : 2;
    }
    return (mantissa >> 63) != 0 ? 0 : 2;
}

// Reads register n into out, which has room for its size.
void read_into(const KvmdbgX86State& s, unsigned n, std::uint8_t* out) {
    if (n < 16) {
        put_le(out, s.gpr[kGprIndex[n]], 8);
    } else if (n == 16) {
        put_le(out, gdb_pc_from_rip(s), 8);
    } else if (n == kEflags) {
        put_le(out, s.rflags, 4);
    } else if (n < kFsBase) {
        put_le(out, segment(s, n)->selector, 4);
    } else if (n < kCr0) {
        put_le(out, *base(s, n), 8);
    } else if (n < kSt0) {
        put_le(out, *control(s, n), 8);
    } else if (n < kFctrl) {
        std::memcpy(out, s.fpr[n - kSt0], 10);
    } else if (n < kXmm0) {
        std::uint32_t v = 0;
        switch (n - kFctrl) {
        case 0: v = s.fcw; break;
        case 1: v = s.fsw; break;
        case 2: v = x87_full_tag_word(s); break;
        case 3: v = static_cast<std::uint32_t>(s.last_ip >> 32); break;
        case 4: v = static_cast<std::uint32_t>(s.last_ip); break;
        case 5: v = static_cast<std::uint32_t>(s.last_dp >> 32); break;
        case 6: v = static_cast<std::uint32_t>(s.last_dp); break;
        default: v = s.last_opcode & 0x7ffu; break;
        }
        put_le(out, v, 4);
    } else if (n < kMxcsr) {
        std::memcpy(out, s.xmm[n - kXmm0], 16);
    } else {
        put_le(out, s.mxcsr, 4);
    }
}

void write_from(KvmdbgX86State& s, unsigned n, const std::uint8_t* in) {
    if (n < 16) {
        s.gpr[kGprIndex[n]] = get_le(in, 8);
    } else if (n == 16) {
        s.rip = rip_from_gdb_pc(s, get_le(in, 8));
    } else if (n == kEflags) {
        s.rflags = get_le(in, 4);
    } else if (n < kFsBase) {
        segment(s, n)->selector = static_cast<std::uint16_t>(get_le(in, 4));
    } else if (n < kCr0) {
        *base(s, n) = get_le(in, 8);
    } else if (n < kSt0) {
        *control(s, n) = get_le(in, 8);
    } else if (n < kFctrl) {
        std::memcpy(s.fpr[n - kSt0], in, 10);
    } else if (n < kXmm0) {
        auto v = static_cast<std::uint32_t>(get_le(in, 4));
        switch (n - kFctrl) {
        case 0: s.fcw = static_cast<std::uint16_t>(v); break;
        case 1: s.fsw = static_cast<std::uint16_t>(v); break;
        case 2: s.ftwx = x87_abridged_tag(static_cast<std::uint16_t>(v)); break;
        case 3: s.last_ip = (s.last_ip & 0xffffffffu) | std::uint64_t{v} << 32; break;
        case 4: s.last_ip = (s.last_ip & ~std::uint64_t{0xffffffffu}) | v; break;
        case 5: s.last_dp = (s.last_dp & 0xffffffffu) | std::uint64_t{v} << 32; break;
        case 6: s.last_dp = (s.last_dp & ~std::uint64_t{0xffffffffu}) | v; break;
        default: s.last_opcode = static_cast<std::uint16_t>(v & 0x7ffu); break;
        }
    } else if (n < kMxcsr) {
        std::memcpy(s.xmm[n - kXmm0], in, 16);
    } else {
        s.mxcsr = static_cast<std::uint32_t>(get_le(in, 4));
    }
}

}  // namespace

std::size_t gdb_register_size(unsigned regnum) {
    if (regnum < 17 || (regnum >= kFsBase && regnum < kSt0)) {
        return 8;
    }
    if (regnum < kFsBase || (regnum >= kFctrl && regnum < kXmm0) || regnum == kMxcsr) {
        return 4;
    }
    if (regnum < kFctrl) {
        return 10;
    }
    if (regnum < kMxcsr) {
        return 16;
    }
    return 0;
}

std::size_t gdb_register_offset(unsigned regnum) {
    std::size_t offset = 0;
    for (unsigned n = 0; n < regnum && n < kGdbRegisterCount; ++n) {
        offset += gdb_register_size(n);
    }
    return offset;
}

std::uint16_t x87_full_tag_word(const KvmdbgX86State& state) {
    unsigned top = (state.fsw >> 11) & 7;
    std::uint16_t tag = 0;
    for (unsigned phys = 0; phys < 8; ++phys) {
        unsigned t = 3;
        if (state.ftwx & (1u << phys)) {
            t = classify(state.fpr[(phys + 8 - top) % 8]);  // physical -> ST(i)
        }
        tag = static_cast<std::uint16_t>(tag | t << (2 * phys));
    }
    return tag;
}

std::uint8_t x87_abridged_tag(std::uint16_t full_tag) {
    std::uint8_t abridged = 0;
    for (unsigned phys = 0; phys < 8; ++phys) {
        if (((full_tag >> (2 * phys)) & 3) != 3) {
            abridged = static_cast<std::uint8_t>(abridged | 1u << phys);
        }
    }
    return abridged;
}

std::vector<std::uint8_t> gdb_registers_from_state(const KvmdbgX86State& state) {
    std::vector<std::uint8_t> out(kGdbRegistersSize);
    std::size_t offset = 0;
    for (unsigned n = 0; n < kGdbRegisterCount; ++n) {
        read_into(state, n, out.data() + offset);
        offset += gdb_register_size(n);
    }
    return out;
}

Status gdb_registers_to_state(std::span<const std::uint8_t> bytes, KvmdbgX86State& state) {
    if (bytes.size() != kGdbRegistersSize) {
        return make_error(EINVAL, "g packet has " + std::to_string(bytes.size()) + " bytes, x86-64 needs " +
                                      std::to_string(kGdbRegistersSize));
    }
    std::size_t offset = 0;
    for (unsigned n = 0; n < kGdbRegisterCount; ++n) {
        write_from(state, n, bytes.data() + offset);
        offset += gdb_register_size(n);
    }
    // The pc converts with the CR0 and EFLAGS of this same packet, which
    // come after rip in the layout: apply it again now that they are set.
    state.rip = rip_from_gdb_pc(state, get_le(bytes.data() + gdb_register_offset(kGdbRegRip), 8));
    return ok_status();
}

Result<std::vector<std::uint8_t>> gdb_register_read(const KvmdbgX86State& state, unsigned regnum) {
    std::size_t size = gdb_register_size(regnum);
    if (size == 0) {
        return make_error(EINVAL, "no x86-64 gdb register " + std::to_string(regnum));
    }
    std::vector<std::uint8_t> out(size);
    read_into(state, regnum, out.data());
    return out;
}

Status gdb_register_write(KvmdbgX86State& state, unsigned regnum, std::span<const std::uint8_t> value) {
    std::size_t size = gdb_register_size(regnum);
    if (size == 0) {
        return make_error(EINVAL, "no x86-64 gdb register " + std::to_string(regnum));
    }
    if (value.size() != size) {
        return make_error(EINVAL, "x86-64 gdb register " + std::to_string(regnum) + " has " + std::to_string(size) +
                                      " bytes, got " + std::to_string(value.size()));
    }
    write_from(state, regnum, value.data());
    return ok_status();
}

}  // namespace kvmdbg::arch::x86
