#include "arch/riscv64/debug.h"

#include <string>

namespace kvmdbg::arch::riscv64 {

Result<SwBreakpointInsn> sw_breakpoint_insn(std::span<const std::uint8_t> original, unsigned gdb_kind) {
    if (gdb_kind != 2 && gdb_kind != 4) {
        return make_error(EINVAL, "breakpoint kind " + std::to_string(gdb_kind) + ": riscv kinds are 2 and 4");
    }
    if (original.size() < 2) {
        return make_error(EINVAL, "need the first 2 bytes of the instruction to choose ebreak or c.ebreak");
    }
    if ((original[0] & 0x3) != 0x3) {
        return SwBreakpointInsn{{0x02, 0x90, 0, 0}, 2};
    }
    return SwBreakpointInsn{{0x73, 0x00, 0x10, 0x00}, 4};
}

Status check_supported(DebugFeature feature) {
    switch (feature) {
    case DebugFeature::sw_breakpoint: return ok_status();
    case DebugFeature::hw_breakpoint:
        return make_error(ENOTSUP,
                          "riscv64 KVM has no hardware breakpoints (kvm_guest_debug_arch is empty); "
                          "use a software breakpoint (break, not hbreak)");
    case DebugFeature::watchpoint:
        return make_error(ENOTSUP, "riscv64 KVM has no watchpoints (kvm_guest_debug_arch is empty)");
    case DebugFeature::single_step:
        return make_error(ENOTSUP,
                          "riscv64 KVM cannot single-step a vCPU; gdb steps riscv by software "
                          "breakpoints");
    }
    return make_error(EINVAL, "unknown debug feature");
}

std::uint32_t debug_control(bool sw_breakpoints) { return sw_breakpoints ? kGuestDbgEnable : 0; }

DebugEvent classify_debug_exit(std::uint64_t pc, bool sw_breakpoint_at_pc) {
    if (sw_breakpoint_at_pc) {
        return SoftwareBreakpoint{pc};
    }
    return ReflectBreakpoint{pc};
}

void apply_breakpoint_trap(TrapState& state, std::uint64_t addr) {
    state.sepc = addr;
    state.scause = kCauseBreakpoint;
    state.stval = addr;
    std::uint64_t s = state.sstatus;
    s = state.mode == 1 ? (s | kSstatusSpp) : (s & ~kSstatusSpp);
    s = (s & kSstatusSie) ? (s | kSstatusSpie) : (s & ~kSstatusSpie);
    s &= ~kSstatusSie;
    state.sstatus = s;
    state.mode = 1;
    state.pc = state.stvec & ~std::uint64_t{3};
}

}  // namespace kvmdbg::arch::riscv64
