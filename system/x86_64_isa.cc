// The x86-64 IsaDescriptor: KvmdbgX86State blobs (accel/plugin_abi_x86.h),
// the x86-64 target description (gdbstub-glue/x86_64_target.h) and its
// converter (arch/x86/gdb_registers.h), the register dump of
// arch/x86/register_dump.h.
#include "accel/plugin_abi_x86.h"
#include "arch/x86/gdb_registers.h"
#include "arch/x86/register_dump.h"
#include "gdbstub-glue/x86_64_target.h"
#include "system/typed_isa_descriptor.h"

namespace kvmdbg::system {

namespace {

struct X86_64Traits {
    using State = KvmdbgX86State;
    static constexpr KvmdbgArch kArch = KVMDBG_ARCH_X86_64;
    static constexpr const char* kName = "x86-64";
    static constexpr std::uint32_t kStateSize = KVMDBG_X86_64_STATE_SIZE;
    static constexpr bool kWatchpointStopsBeforeAccess = false;  // #DB is a trap after the access

    static gdb::TargetDescription description() { return gdb::x86_64_target_description(); }
    static std::vector<std::uint8_t> registers_of(const State& st) { return arch::x86::gdb_registers_from_state(st); }
    static Status apply_registers(std::span<const std::uint8_t> bytes, State& st) {
        return arch::x86::gdb_registers_to_state(bytes, st);
    }
    static Result<std::vector<std::uint8_t>> read_register(const State& st, unsigned regnum) {
        return arch::x86::gdb_register_read(st, regnum);
    }
    static Status write_register(State& st, unsigned regnum, std::span<const std::uint8_t> value) {
        return arch::x86::gdb_register_write(st, regnum, value);
    }
    // gdb's pc is linear in real and vm86 mode (arch/x86/gdb_registers.h).
    static std::uint64_t pc(const State& st) { return arch::x86::gdb_pc_from_rip(st); }
    static std::string dump(const State& st) { return arch::x86::format_register_dump(st); }
};

}  // namespace

const IsaDescriptor& x86_64_isa_descriptor() {
    static const TypedIsaDescriptor<X86_64Traits> descriptor;
    return descriptor;
}

}  // namespace kvmdbg::system
