#include "arch/arm64/gdb_registers.h"

#include <cstring>

#include "arch/arm64/reflect.h"

namespace kvmdbg::arch::arm64 {

namespace {

std::uint64_t* sys_field(KvmdbgArm64State& s, unsigned regnum) {
    switch (regnum) {
    case 68: return &s.sctlr_el1;
    case 69: return &s.tcr_el1;
    case 70: return &s.ttbr0_el1;
    case 71: return &s.ttbr1_el1;
    case 72: return &s.vbar_el1;
    case 73: return &s.esr_el1;
    case 74: return &s.far_el1;
    case 75: return &s.elr_el1;
    case 76: return &s.spsr_el1;
    case 77: return &s.mdscr_el1;
    case 78: return &s.mair_el1;
    case 79: return &s.sp_el0;
    case 80: return &s.sp_el1;
    default: return nullptr;
    }
}

void put(std::uint8_t* out, std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = static_cast<std::uint8_t>(v >> (8 * i));
    }
}

std::uint64_t get(const std::uint8_t* in, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = n; i-- > 0;) {
        v = v << 8 | in[i];
    }
    return v;
}

void read_one(const KvmdbgArm64State& s, unsigned regnum, std::uint8_t* out) {
    if (regnum <= 30) {
        put(out, s.x[regnum], 8);
    } else if (regnum == kGdbRegSp) {
        put(out, current_sp(s), 8);
    } else if (regnum == kGdbRegPc) {
        put(out, s.pc, 8);
    } else if (regnum == kGdbRegCpsr) {
        put(out, s.pstate, 4);
    } else if (regnum >= kGdbRegV0 && regnum < kGdbRegV0 + 32) {
        std::memcpy(out, s.v[regnum - kGdbRegV0], 16);
    } else if (regnum == kGdbRegFpsr) {
        put(out, s.fpsr, 4);
    } else if (regnum == kGdbRegFpcr) {
        put(out, s.fpcr, 4);
    } else {
        put(out, *sys_field(const_cast<KvmdbgArm64State&>(s), regnum), 8);
    }
}

void write_one(KvmdbgArm64State& s, unsigned regnum, const std::uint8_t* in) {
    if (regnum <= 30) {
        s.x[regnum] = get(in, 8);
    } else if (regnum == kGdbRegSp) {
        set_current_sp(s, get(in, 8));
    } else if (regnum == kGdbRegPc) {
        s.pc = get(in, 8);
    } else if (regnum == kGdbRegCpsr) {
        s.pstate = (s.pstate & ~0xffffffffull) | get(in, 4);
    } else if (regnum >= kGdbRegV0 && regnum < kGdbRegV0 + 32) {
        std::memcpy(s.v[regnum - kGdbRegV0], in, 16);
    } else if (regnum == kGdbRegFpsr) {
        s.fpsr = static_cast<std::uint32_t>(get(in, 4));
    } else if (regnum == kGdbRegFpcr) {
        s.fpcr = static_cast<std::uint32_t>(get(in, 4));
    } else {
        *sys_field(s, regnum) = get(in, 8);
    }
}

}  // namespace

std::uint64_t current_sp(const KvmdbgArm64State& state) {
    bool el1h = (state.pstate & pstate::kNrw) == 0 && pstate::el(state.pstate) >= 1 &&
                (state.pstate & pstate::kSp) != 0;
    return el1h ? state.sp_el1 : state.sp_el0;
}

void set_current_sp(KvmdbgArm64State& state, std::uint64_t value) {
    bool el1h = (state.pstate & pstate::kNrw) == 0 && pstate::el(state.pstate) >= 1 &&
                (state.pstate & pstate::kSp) != 0;
    (el1h ? state.sp_el1 : state.sp_el0) = value;
}

std::size_t gdb_register_size(unsigned regnum) {
    if (regnum <= kGdbRegPc) {
        return 8;
    }
    if (regnum == kGdbRegCpsr || regnum == kGdbRegFpsr || regnum == kGdbRegFpcr) {
        return 4;
    }
    if (regnum >= kGdbRegV0 && regnum < kGdbRegV0 + 32) {
        return 16;
    }
    if (regnum >= kGdbRegSctlr && regnum < kGdbRegisterCount) {
        return 8;
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

std::vector<std::uint8_t> gdb_registers_from_state(const KvmdbgArm64State& state) {
    std::vector<std::uint8_t> out(kGdbRegistersSize);
    for (unsigned n = 0; n < kGdbRegisterCount; ++n) {
        read_one(state, n, out.data() + gdb_register_offset(n));
    }
    return out;
}

Status gdb_registers_to_state(std::span<const std::uint8_t> bytes, KvmdbgArm64State& state) {
    if (bytes.size() != kGdbRegistersSize) {
        return make_error(EINVAL, "aarch64 g packet: " + std::to_string(bytes.size()) + " bytes, expected " +
                                      std::to_string(kGdbRegistersSize));
    }
    const std::uint64_t old_sp = current_sp(state);
    for (unsigned n = 0; n < kGdbRegisterCount; ++n) {
        if (n != kGdbRegSp) {
            write_one(state, n, bytes.data() + gdb_register_offset(n));
        }
    }
    // sp last, and only when gdb changed it: otherwise a G carrying a new
    // sp_el1 (or a cpsr that switched SP selection) would be overwritten
    // by the unchanged copy of the old current SP.
    std::uint64_t sp = get(bytes.data() + gdb_register_offset(kGdbRegSp), 8);
    if (sp != old_sp) {
        set_current_sp(state, sp);
    }
    return ok_status();
}

Result<std::vector<std::uint8_t>> gdb_register_read(const KvmdbgArm64State& state, unsigned regnum) {
    std::size_t size = gdb_register_size(regnum);
    if (size == 0) {
        return make_error(EINVAL, "aarch64: no register " + std::to_string(regnum));
    }
    std::vector<std::uint8_t> out(size);
    read_one(state, regnum, out.data());
    return out;
}

Status gdb_register_write(KvmdbgArm64State& state, unsigned regnum, std::span<const std::uint8_t> value) {
    std::size_t size = gdb_register_size(regnum);
    if (size == 0) {
        return make_error(EINVAL, "aarch64: no register " + std::to_string(regnum));
    }
    if (value.size() != size) {
        return make_error(EINVAL, "aarch64 register " + std::to_string(regnum) + ": " + std::to_string(value.size()) +
                                      " bytes, expected " + std::to_string(size));
    }
    write_one(state, regnum, value.data());
    return ok_status();
}

}  // namespace kvmdbg::arch::arm64
