// riscv64 guest debug: software breakpoints only.
//
// The riscv KVM ABI has no debug registers: struct kvm_guest_debug_arch and
// struct kvm_debug_exit_arch are EMPTY (arch/riscv/include/uapi/asm/kvm.h).
// KVM_SET_GUEST_DEBUG with KVM_GUESTDBG_ENABLE makes KVM stop delegating the
// breakpoint exception (hedeleg bit 3) so every EBREAK/C.EBREAK the guest
// executes exits to userspace as KVM_EXIT_DEBUG, with the vCPU's pc at the
// instruction (Linux arch/riscv/kvm/vcpu.c kvm_arch_vcpu_ioctl_set_guest_debug,
// vcpu_exit.c EXC_BREAKPOINT; added in 2024, so probe KVM_CAP_SET_GUEST_DEBUG
// first: Debian 12's 6.1 kernel lacks it). Nothing else: no hardware breakpoints, no
// watchpoints, no single-step (gdb steps riscv by software: it computes the
// next pc and plants a breakpoint there).
//
// Instructions (RISC-V unprivileged ISA, "Environment Call and Breakpoints",
// "Compressed" chapter):
//   ebreak    0x00100073, 4 bytes, little-endian 73 00 10 00
//   c.ebreak  0x9002,     2 bytes, little-endian 02 90 (C extension)
//   An instruction is 16-bit (compressed) when its low two bits are not 11.
//
// Because every guest ebreak exits, one that is not the debugger's must be
// delivered to the guest by kvmdbg, or the guest would spin on it (QEMU
// re-enters the guest without delivering: the ebreak exits again forever).
// apply_breakpoint_trap is what the hart would have done.
//
// Threads: pure, any thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <variant>

#include "common/result.h"

namespace kvmdbg::arch::riscv64 {

inline constexpr std::uint32_t kEbreak = 0x00100073;
inline constexpr std::uint16_t kCEbreak = 0x9002;
inline constexpr std::uint32_t kGuestDbgEnable = 0x1;

struct SwBreakpointInsn {
    std::array<std::uint8_t, 4> bytes{};
    unsigned length = 0;  ///< 2 (c.ebreak) or 4 (ebreak)
};

/// The breakpoint for the instruction whose first bytes are `original`
/// (at least its first 2 bytes, little-endian as in memory): c.ebreak when
/// it is compressed, so the following instruction is left intact, else
/// ebreak. `gdb_kind` (Z0's kind: 2 or 4) is only checked.
/// Errors: EINVAL for fewer than 2 bytes or a kind other than 2 or 4.
Result<SwBreakpointInsn> sw_breakpoint_insn(std::span<const std::uint8_t> original, unsigned gdb_kind);

/// What gdb may ask for.
enum class DebugFeature : std::uint8_t { sw_breakpoint, hw_breakpoint, watchpoint, single_step };

/// ok for sw_breakpoint; ENOTSUP with a sentence naming why for the rest.
Status check_supported(DebugFeature feature);

/// kvm_guest_debug.control: ENABLE when software breakpoints are inserted.
std::uint32_t debug_control(bool sw_breakpoints);

struct SoftwareBreakpoint {
    std::uint64_t addr = 0;
};
/// The guest's own breakpoint at `addr`: apply_breakpoint_trap.
struct ReflectBreakpoint {
    std::uint64_t addr = 0;
};
using DebugEvent = std::variant<SoftwareBreakpoint, ReflectBreakpoint>;

/// A KVM_EXIT_DEBUG carries no arch data: pc is the ebreak's address.
DebugEvent classify_debug_exit(std::uint64_t pc, bool sw_breakpoint_at_pc);

/// sstatus bits (privileged ISA, "Supervisor Status Register").
inline constexpr std::uint64_t kSstatusSie = 1ull << 1;
inline constexpr std::uint64_t kSstatusSpie = 1ull << 5;
inline constexpr std::uint64_t kSstatusSpp = 1ull << 8;
inline constexpr std::uint64_t kCauseBreakpoint = 3;

/// The guest's supervisor state a trap changes (KVM's one_reg core pc and
/// mode, and the CSRs of struct kvm_riscv_csr: the guest's VS-level CSRs).
struct TrapState {
    std::uint64_t pc = 0;
    std::uint64_t mode = 1;  ///< KVM_RISCV_MODE_S 1, KVM_RISCV_MODE_U 0
    std::uint64_t sstatus = 0;
    std::uint64_t stvec = 0;
    std::uint64_t sepc = 0;
    std::uint64_t scause = 0;
    std::uint64_t stval = 0;
};

/// The breakpoint exception the guest takes (privileged ISA, "Supervisor
/// Trap" / sret description), delegated to its S-mode:
///   sepc   <- addr (the ebreak itself)
///   scause <- 3 (breakpoint, not an interrupt)
///   stval  <- addr (the ISA allows 0 or the instruction's address; the
///             address is what Linux's and most kernels' handlers can use)
///   sstatus.SPP  <- 1 if the trap came from S-mode, 0 from U-mode
///   sstatus.SPIE <- sstatus.SIE;  sstatus.SIE <- 0
///   mode <- S;  pc <- stvec.BASE (stvec & ~3: exceptions never vector)
void apply_breakpoint_trap(TrapState& state, std::uint64_t addr);

}  // namespace kvmdbg::arch::riscv64
