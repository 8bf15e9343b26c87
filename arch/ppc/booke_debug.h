// ppc BookE (e500) guest debug: the debugger's breakpoints and watchpoints
// as the bp[] array of the ppc struct kvm_guest_debug_arch, the control
// word, the software-breakpoint instruction, the decoding of a
// KVM_EXIT_DEBUG (kvm_debug_exit_arch.status/.address) and the program
// interrupt an event the debugger does not own is reflected as.
//
// Pure logic: no kernel headers. arch/ppc/booke_kvm.cc copies these values
// into the real structs (arch/powerpc/include/uapi/asm/kvm.h).
//
// The kernel's ABI (Linux arch/powerpc/kvm/booke.c, kvmppc_booke_set_guest_debug
// and kvmppc_handle_debug; Documentation/virt/kvm/api.rst "KVM_SET_GUEST_DEBUG"):
//
//   struct kvm_guest_debug_arch {            struct kvm_debug_exit_arch {
//     struct { __u64 addr;                     __u64 address;
//              __u32 type;                     __u32 status;
//              __u32 reserved; } bp[16];       __u32 reserved;
//   };                                       };
//
//   type/status bits:  0x0 NONE  0x2 BREAKPOINT  0x4 WATCH_WRITE  0x8 WATCH_READ
//
//   - The kernel looks at bp[0..3] only (IAC_NUM 2 + DAC_NUM 2 on BookE) and
//     skips NONE entries; a BREAKPOINT entry takes the next IAC, any other
//     the next DAC. A third breakpoint or watchpoint is -EINVAL for the
//     whole ioctl, so this file refuses it before the ioctl (ENOSPC).
//   - control: KVM_GUESTDBG_ENABLE 0x1, _SINGLESTEP 0x2 (needs
//     KVM_CAP_PPC_GUEST_DEBUG_SSTEP), _USE_SW_BP 0x10000, _USE_HW_BP 0x20000.
//   - Exit: IACn hit -> status BREAKPOINT, address = NIP (the instruction,
//     not executed). DACnW -> WATCH_WRITE, DACnR -> WATCH_READ, address =
//     the DACn value the debugger loaded (the watched address, NOT the pc:
//     the access has completed). Single step (DBCR0[IC]) and the software
//     breakpoint instruction (emulated: an illegal opcode-0 instruction the
//     kernel compares with KVM_REG_PPC_DEBUG_INST) both exit with status 0,
//     address = NIP; the debugger tells them apart by what it asked for.
//   - The kernel does not emulate debug resources for the guest: while
//     userspace debugs, every debug event exits (the e500 debug-stub
//     commit, Linux ce11e48b7fdd), owned or not.
//
// Threads: pure, any thread.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <span>
#include <variant>

#include "common/result.h"

namespace kvmdbg::arch::ppc {

/// kvm_debug_exit_arch.status / kvm_guest_debug_arch.bp[].type bits.
inline constexpr std::uint32_t kDebugNone = 0x0;
inline constexpr std::uint32_t kDebugBreakpoint = 1u << 1;
inline constexpr std::uint32_t kDebugWatchWrite = 1u << 2;
inline constexpr std::uint32_t kDebugWatchRead = 1u << 3;

/// kvm_guest_debug.control bits on ppc.
inline constexpr std::uint32_t kGuestDbgEnable = 0x1;
inline constexpr std::uint32_t kGuestDbgSingleStep = 0x2;
inline constexpr std::uint32_t kGuestDbgUseSwBp = 0x10000;
inline constexpr std::uint32_t kGuestDbgUseHwBp = 0x20000;

/// Entries of bp[] in the uapi struct, and those BookE KVM reads.
inline constexpr unsigned kNumBpEntries = 16;
inline constexpr unsigned kInstSlots = 2;  ///< IAC1, IAC2
inline constexpr unsigned kDataSlots = 2;  ///< DAC1, DAC2

/// One bp[] entry, as the kernel struct holds it.
struct PpcBp {
    std::uint64_t addr = 0;
    std::uint32_t type = kDebugNone;
    bool operator==(const PpcBp&) const = default;
};

/// The arch part of kvm_guest_debug.
struct PpcDebugRegs {
    std::array<PpcBp, kNumBpEntries> bp{};
};

/// gdb's Z1 exec, Z2 write, Z3 read, Z4 access.
enum class DebugAccess : std::uint8_t { exec, write, read, access };

/// One debugger request. `len` is what gdb asked for; KVM loads only
/// `addr` into a DAC register (no DBCR2 range mode), so an access is
/// guaranteed to match only when its effective address is `addr`; one
/// that starts below `addr` and overlaps it may not.
struct DebugRequest {
    DebugAccess kind = DebugAccess::exec;
    std::uint64_t addr = 0;
    std::uint64_t len = 1;
};

/// bp[] type of a request: exec -> BREAKPOINT, write -> WATCH_WRITE,
/// read -> WATCH_READ, access -> WATCH_WRITE|WATCH_READ.
std::uint32_t bp_type(DebugAccess kind);

/// Packs `requests` into bp[0..]: in request order, NONE after them.
/// Errors: ENOSPC naming the kind when more than 2 exec or more than 2 data
/// requests are given (the kernel would fail the ioctl with EINVAL);
/// EINVAL for len 0, an exec request with len != 4 and != 1 (gdb's kind for
/// ppc is 4), or a data request longer than 8 bytes.
Result<PpcDebugRegs> build_debug_regs(std::span<const DebugRequest> requests);

/// kvm_guest_debug.control for one KVM_SET_GUEST_DEBUG. Software
/// breakpoints need KVM_GUESTDBG_USE_SW_BP so the kernel exits on the
/// debug instruction instead of injecting a program interrupt.
/// Errors: ENOTSUP "single-step needs KVM_CAP_PPC_GUEST_DEBUG_SSTEP" when
/// `step` is asked and `sstep_cap` is false.
Result<std::uint32_t> debug_control(bool sw_breakpoints, bool hw_breakpoints, bool step, bool sstep_cap);

/// The 4 bytes a software breakpoint writes at its address: `debug_inst`
/// (read by the adaptor from the one_reg KVM_REG_PPC_DEBUG_INST) in the
/// guest's byte order (MSR[LE] on server, big-endian on e500).
/// Errors: EINVAL if `debug_inst` is 0 (an opcode-0 word the kernel does
/// not report: most likely the register was never read).
Result<std::array<std::uint8_t, 4>> sw_breakpoint_bytes(std::uint32_t debug_inst, std::endian guest_order);

/// What the accelerator knows about one KVM_EXIT_DEBUG.
struct DebugExitInfo {
    std::uint32_t status = 0;          ///< kvm_run->debug.arch.status
    std::uint64_t address = 0;         ///< kvm_run->debug.arch.address
    std::uint64_t pc = 0;              ///< NIP read from the vCPU after the exit
    bool debugger_stepping = false;    ///< KVM_GUESTDBG_SINGLESTEP was set
    bool sw_breakpoint_at_pc = false;  ///< the debugger's table has pc
};

struct StepDone {
    std::uint64_t pc = 0;
};
struct SoftwareBreakpoint {
    std::uint64_t addr = 0;
};
struct HardwareBreakpoint {
    unsigned entry = 0;  ///< bp[] index
    std::uint64_t addr = 0;
};
struct Watchpoint {
    unsigned entry = 0;
    DebugAccess kind = DebugAccess::write;  ///< the requested kind (access for W|R)
    std::uint64_t addr = 0;                 ///< the watched address (exit address)
};
/// Not the debugger's: reflect a program interrupt with ESR = `esr` at
/// SRR0 = `srr0` (see apply_program_interrupt).
struct ReflectProgram {
    std::uint32_t esr = 0;
    std::uint64_t srr0 = 0;
};

using DebugEvent = std::variant<StepDone, SoftwareBreakpoint, HardwareBreakpoint, Watchpoint, ReflectProgram>;

/// Classifies one exit against the bp[] that was loaded (`loaded`).
///  status 0: StepDone if stepping; SoftwareBreakpoint if the table has
///    pc; else ReflectProgram{ESR[PIL], pc}: the guest executed the debug
///    instruction itself (an illegal instruction: Power ISA Book III-E,
///    "Interrupts and Exceptions", "Program Interrupt").
///  status BREAKPOINT: HardwareBreakpoint for the loaded BREAKPOINT entry
///    whose addr == address (StepDone first if stepping and none matches).
///  status WATCH_*: Watchpoint for the loaded data entry with that addr
///    whose type covers the status bit.
///  A hw status no loaded entry explains -> ReflectProgram{ESR[PIL], pc},
///    as QEMU does (target/ppc/kvm.c kvm_handle_debug).
DebugEvent classify_debug_exit(const DebugExitInfo& exit, const PpcDebugRegs& loaded);

/// ESR bits (Power ISA Book III-E, "Exception Syndrome Register"; the
/// 32-bit values e500 and Linux's reg_booke.h use):
inline constexpr std::uint32_t kEsrPil = 0x08000000;  ///< illegal instruction
inline constexpr std::uint32_t kEsrPtr = 0x02000000;  ///< trap

/// MSR bits a BookE base-class interrupt keeps (CE, ME, DE); all others
/// (WE EE PR FP FE0 FE1 IS DS SPV ...) are cleared.
inline constexpr std::uint32_t kMsrCe = 0x00020000;
inline constexpr std::uint32_t kMsrMe = 0x00001000;
inline constexpr std::uint32_t kMsrDe = 0x00000200;

/// The registers a BookE program interrupt reads and writes.
struct BookeInterruptState {
    std::uint64_t pc = 0;
    std::uint64_t msr = 0;
    std::uint64_t srr0 = 0;
    std::uint64_t srr1 = 0;
    std::uint32_t esr = 0;
    std::uint64_t ivpr = 0;   ///< IVPR: vector prefix (bits 0:47 / high 16 of 32)
    std::uint32_t ivor6 = 0;  ///< IVOR6: program interrupt offset
};

/// What the hardware does on a program interrupt (Power ISA Book III-E,
/// "Interrupt Processing" and "Program Interrupt"):
///   SRR0 <- `srr0` (the instruction that caused it: precise, not executed)
///   SRR1 <- MSR
///   ESR  <- `esr` (all other ESR bits cleared)
///   MSR  <- MSR & (CE | ME | DE)
///   PC   <- (IVPR & ~0xffff) | (IVOR6 & 0xfff0)
void apply_program_interrupt(BookeInterruptState& state, const ReflectProgram& reflect);

}  // namespace kvmdbg::arch::ppc
