// The aarch64 IsaDescriptor: KvmdbgArm64State blobs
// (accel/plugin_abi_arm64.h), the aarch64 target description
// (gdbstub-glue/aarch64_target.h) and its converter
// (arch/arm64/gdb_registers.h). The register dump lists every register of
// the description except the 128-bit vector registers, by gdb's names.
#include <cinttypes>
#include <cstdio>

#include "accel/plugin_abi_arm64.h"
#include "arch/arm64/gdb_registers.h"
#include "gdbstub-glue/aarch64_target.h"
#include "system/typed_isa_descriptor.h"

namespace kvmdbg::system {

namespace {

/// "name=0123456789abcdef" four to a line, every register of at most 8
/// bytes in gdb's numbering (x0..x30, sp, pc, cpsr, fpsr, fpcr, the EL1
/// system registers, sp_el0, sp_el1).
std::string aarch64_register_dump(const KvmdbgArm64State& st) {
    std::string out;
    unsigned on_line = 0;
    for (unsigned regnum = 0; regnum < gdb::aarch64::kRegisterCount; ++regnum) {
        const gdb::aarch64::Register& reg = gdb::aarch64::registers()[regnum];
        auto bytes = arch::arm64::gdb_register_read(st, regnum);
        if (reg.bitsize > 64 || !bytes) {
            continue;
        }
        std::uint64_t value = gdb::register_value(*bytes, std::endian::little);
        char field[48];
        std::snprintf(field, sizeof field, "%s%-9s=%016" PRIx64, on_line == 0 ? "" : " ", reg.name, value);
        out += field;
        if (++on_line == 4) {
            out += '\n';
            on_line = 0;
        }
    }
    return on_line == 0 ? out : out + '\n';
}

struct Aarch64Traits {
    using State = KvmdbgArm64State;
    static constexpr KvmdbgArch kArch = KVMDBG_ARCH_ARM64;
    static constexpr const char* kName = "aarch64";
    static constexpr std::uint32_t kStateSize = KVMDBG_ARM64_STATE_SIZE;
    // A watchpoint exception is taken before the access: gdb's aarch64
    // architecture has nonsteppable watchpoints.
    static constexpr bool kWatchpointStopsBeforeAccess = true;

    static gdb::TargetDescription description() { return gdb::aarch64_target_description(); }
    static std::vector<std::uint8_t> registers_of(const State& st) { return arch::arm64::gdb_registers_from_state(st); }
    static Status apply_registers(std::span<const std::uint8_t> bytes, State& st) {
        return arch::arm64::gdb_registers_to_state(bytes, st);
    }
    static Result<std::vector<std::uint8_t>> read_register(const State& st, unsigned regnum) {
        return arch::arm64::gdb_register_read(st, regnum);
    }
    static Status write_register(State& st, unsigned regnum, std::span<const std::uint8_t> value) {
        return arch::arm64::gdb_register_write(st, regnum, value);
    }
    static std::uint64_t pc(const State& st) { return st.pc; }
    static std::string dump(const State& st) { return aarch64_register_dump(st); }
};

}  // namespace

const IsaDescriptor& aarch64_isa_descriptor() {
    static const TypedIsaDescriptor<Aarch64Traits> descriptor;
    return descriptor;
}

}  // namespace kvmdbg::system
