#include "arch/s390x/gdb_registers.h"

#include <string>

namespace kvmdbg::arch::s390x {

namespace {

// Reads or writes register `regnum` of `s` as a big-endian value of `size`.
struct Ref {
    std::uint64_t* u64 = nullptr;
    std::uint32_t* u32 = nullptr;
};

Ref ref(S390State& s, unsigned n) {
    if (n == 0) return {&s.psw_mask, nullptr};
    if (n == 1) return {&s.psw_addr, nullptr};
    if (n < 18) return {&s.gprs[n - 2], nullptr};
    if (n < 34) return {nullptr, &s.acrs[n - 18]};
    if (n == 34) return {nullptr, &s.fpc};
    if (n < kGdbRegisterCount) return {&s.fprs[n - 35], nullptr};
    return {};
}

void put(std::vector<std::uint8_t>& out, std::uint64_t v, unsigned size) {
    for (unsigned i = 0; i < size; ++i) {
        out.push_back(static_cast<std::uint8_t>(v >> (8 * (size - 1 - i))));
    }
}

std::uint64_t get(std::span<const std::uint8_t> b) {
    std::uint64_t v = 0;
    for (std::uint8_t byte : b) {
        v = v << 8 | byte;
    }
    return v;
}

void store(Ref r, std::uint64_t v) {
    if (r.u64 != nullptr) {
        *r.u64 = v;
    } else {
        *r.u32 = static_cast<std::uint32_t>(v);
    }
}

std::uint64_t load(Ref r) { return r.u64 != nullptr ? *r.u64 : *r.u32; }

}  // namespace

std::size_t gdb_register_size(unsigned regnum) {
    if (regnum >= kGdbRegisterCount) return 0;
    return regnum >= 18 && regnum <= 34 ? 4 : 8;
}

std::vector<std::uint8_t> gdb_registers_from_state(const S390State& state) {
    S390State copy = state;
    std::vector<std::uint8_t> out;
    out.reserve(kGdbRegistersSize);
    for (unsigned n = 0; n < kGdbRegisterCount; ++n) {
        put(out, load(ref(copy, n)), static_cast<unsigned>(gdb_register_size(n)));
    }
    return out;
}

Status gdb_registers_to_state(std::span<const std::uint8_t> bytes, S390State& state) {
    if (bytes.size() != kGdbRegistersSize) {
        return make_error(EINVAL, "s390x g packet: " + std::to_string(bytes.size()) + " bytes, expected " +
                                      std::to_string(kGdbRegistersSize));
    }
    std::size_t off = 0;
    for (unsigned n = 0; n < kGdbRegisterCount; ++n) {
        std::size_t size = gdb_register_size(n);
        store(ref(state, n), get(bytes.subspan(off, size)));
        off += size;
    }
    return ok_status();
}

Result<std::vector<std::uint8_t>> gdb_register_read(const S390State& state, unsigned regnum) {
    if (regnum >= kGdbRegisterCount) {
        return make_error(EINVAL, "s390x: no register " + std::to_string(regnum));
    }
    S390State copy = state;
    std::vector<std::uint8_t> out;
    put(out, load(ref(copy, regnum)), static_cast<unsigned>(gdb_register_size(regnum)));
    return out;
}

Status gdb_register_write(S390State& state, unsigned regnum, std::span<const std::uint8_t> value) {
    if (regnum >= kGdbRegisterCount) {
        return make_error(EINVAL, "s390x: no register " + std::to_string(regnum));
    }
    if (value.size() != gdb_register_size(regnum)) {
        return make_error(EINVAL, "s390x: register " + std::to_string(regnum) + " is " +
                                      std::to_string(gdb_register_size(regnum)) + " bytes, got " +
                                      std::to_string(value.size()));
    }
    store(ref(state, regnum), get(value));
    return ok_status();
}

}  // namespace kvmdbg::arch::s390x
