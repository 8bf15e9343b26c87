#include "arch/riscv64/gdb_registers.h"

#include <string>

namespace kvmdbg::arch::riscv64 {

namespace {

std::uint64_t* csr_field(Riscv64Csrs& c, unsigned i) {
    std::uint64_t* const fields[] = {&c.sstatus, &c.sie,   &c.stvec, &c.sscratch, &c.sepc,
                                     &c.scause,  &c.stval, &c.sip,   &c.satp};
    return fields[i];
}

std::uint64_t value_of(const Riscv64State& s, unsigned n) {
    if (n == 0) return 0;
    if (n < 32) return s.x[n];
    if (n == 32) return s.pc;
    if (n < 65) return s.f[n - 33];
    if (n == 65) return s.fcsr & 0x1f;
    if (n == 66) return (s.fcsr >> 5) & 0x7;
    if (n == 67) return s.fcsr;
    Riscv64Csrs c = s.csr;
    return *csr_field(c, n - 68);
}

void set_value(Riscv64State& s, unsigned n, std::uint64_t v) {
    if (n == 0) return;
    if (n < 32) {
        s.x[n] = v;
    } else if (n == 32) {
        s.pc = v;
    } else if (n < 65) {
        s.f[n - 33] = v;
    } else if (n == 65) {
        s.fcsr = (s.fcsr & ~0x1fu) | (v & 0x1f);
    } else if (n == 66) {
        s.fcsr = (s.fcsr & ~0xe0u) | ((v & 0x7) << 5);
    } else if (n == 67) {
        s.fcsr = static_cast<std::uint32_t>(v);
    } else {
        *csr_field(s.csr, n - 68) = v;
    }
}

void put_le(std::vector<std::uint8_t>& out, std::uint64_t v, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
}

std::uint64_t get_le(std::span<const std::uint8_t> b) {
    std::uint64_t v = 0;
    for (std::size_t i = b.size(); i-- > 0;) {
        v = v << 8 | b[i];
    }
    return v;
}

}  // namespace

std::size_t gdb_register_size(unsigned regnum) {
    if (regnum >= kGdbRegisterCount) return 0;
    return regnum >= 65 && regnum <= 67 ? 4 : 8;
}

std::vector<std::uint8_t> gdb_registers_from_state(const Riscv64State& state) {
    std::vector<std::uint8_t> out;
    out.reserve(kGdbRegistersSize);
    for (unsigned n = 0; n < kGdbRegisterCount; ++n) {
        put_le(out, value_of(state, n), gdb_register_size(n));
    }
    return out;
}

Status gdb_registers_to_state(std::span<const std::uint8_t> bytes, Riscv64State& state) {
    if (bytes.size() != kGdbRegistersSize) {
        return make_error(EINVAL, "riscv64 g packet: " + std::to_string(bytes.size()) + " bytes, expected " +
                                      std::to_string(kGdbRegistersSize));
    }
    // fflags and frm come before fcsr: fcsr, the whole register, wins.
    std::size_t off = 0;
    for (unsigned n = 0; n < kGdbRegisterCount; ++n) {
        std::size_t size = gdb_register_size(n);
        set_value(state, n, get_le(bytes.subspan(off, size)));
        off += size;
    }
    return ok_status();
}

Result<std::vector<std::uint8_t>> gdb_register_read(const Riscv64State& state, unsigned regnum) {
    if (regnum >= kGdbRegisterCount) {
        return make_error(EINVAL, "riscv64: no register " + std::to_string(regnum));
    }
    std::vector<std::uint8_t> out;
    put_le(out, value_of(state, regnum), gdb_register_size(regnum));
    return out;
}

Status gdb_register_write(Riscv64State& state, unsigned regnum, std::span<const std::uint8_t> value) {
    if (regnum >= kGdbRegisterCount) {
        return make_error(EINVAL, "riscv64: no register " + std::to_string(regnum));
    }
    if (value.size() != gdb_register_size(regnum)) {
        return make_error(EINVAL, "riscv64: register " + std::to_string(regnum) + " is " +
                                      std::to_string(gdb_register_size(regnum)) + " bytes, got " +
                                      std::to_string(value.size()));
    }
    set_value(state, regnum, get_le(value));
    return ok_status();
}

}  // namespace kvmdbg::arch::riscv64
