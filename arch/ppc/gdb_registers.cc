#include "arch/ppc/gdb_registers.h"

#include <string>

namespace kvmdbg::arch::ppc {

namespace {

std::uint64_t* slot(PpcE500State& s, unsigned regnum) {
    if (regnum < 32) {
        return &s.gpr[regnum];
    }
    std::uint64_t* const special[] = {&s.pc, &s.msr, &s.cr, &s.lr, &s.ctr, &s.xer};
    return regnum < kGdbRegisterCount ? special[regnum - 32] : nullptr;
}

void put_be32(std::vector<std::uint8_t>& out, std::uint64_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(v >> shift));
    }
}

std::uint64_t get_be32(std::span<const std::uint8_t> b) {
    return std::uint64_t{b[0]} << 24 | std::uint64_t{b[1]} << 16 | std::uint64_t{b[2]} << 8 | b[3];
}

// Replaces the low 32 bits: kvm_regs keeps the upper half of a 64-bit field.
void set_low32(std::uint64_t& field, std::uint64_t value) { field = (field & ~0xffffffffull) | value; }

}  // namespace

std::vector<std::uint8_t> gdb_registers_from_state(const PpcE500State& state) {
    std::vector<std::uint8_t> out;
    out.reserve(kGdbRegistersSize);
    PpcE500State copy = state;
    for (unsigned n = 0; n < kGdbRegisterCount; ++n) {
        put_be32(out, *slot(copy, n));
    }
    return out;
}

Status gdb_registers_to_state(std::span<const std::uint8_t> bytes, PpcE500State& state) {
    if (bytes.size() != kGdbRegistersSize) {
        return make_error(EINVAL, "ppc g packet: " + std::to_string(bytes.size()) + " bytes, expected " +
                                      std::to_string(kGdbRegistersSize));
    }
    for (unsigned n = 0; n < kGdbRegisterCount; ++n) {
        set_low32(*slot(state, n), get_be32(bytes.subspan(4 * n, 4)));
    }
    return ok_status();
}

Result<std::vector<std::uint8_t>> gdb_register_read(const PpcE500State& state, unsigned regnum) {
    PpcE500State copy = state;
    std::uint64_t* p = slot(copy, regnum);
    if (p == nullptr) {
        return make_error(EINVAL, "ppc: no register " + std::to_string(regnum));
    }
    std::vector<std::uint8_t> out;
    put_be32(out, *p);
    return out;
}

Status gdb_register_write(PpcE500State& state, unsigned regnum, std::span<const std::uint8_t> value) {
    std::uint64_t* p = slot(state, regnum);
    if (p == nullptr) {
        return make_error(EINVAL, "ppc: no register " + std::to_string(regnum));
    }
    if (value.size() != 4) {
        return make_error(EINVAL, "ppc: register " + std::to_string(regnum) + " is 4 bytes, got " +
                                      std::to_string(value.size()));
    }
    set_low32(*p, get_be32(value));
    return ok_status();
}

}  // namespace kvmdbg::arch::ppc
