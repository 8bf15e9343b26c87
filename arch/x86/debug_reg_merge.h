// The guest keeps its own debug registers while the debugger uses hardware
// slots: merging the guest's DR0-3/DR7 with the debugger's requests into the
// effective registers loaded with KVM_SET_GUEST_DEBUG (KVM_GUESTDBG_USE_HW_BP),
// translating DR6 back into the guest's slot numbering, and emulating the
// guest's MOV to/from DRn that the effective DR7.GD traps.
//
// Why: with KVM_GUESTDBG_USE_HW_BP the kernel loads the debugger's DR0-3/DR7
// instead of the guest's, so the guest's own breakpoints would silently stop
// working while a debugger is attached. We load both, each in its own
// physical slot, and set GD (Intel SDM Vol. 3B 17.2.4) so that every guest
// MOV DR exits (KVM_EXIT_DEBUG, #DB, DR6.BD, pc at the MOV: KVM's handle_dr
// reports it to userspace when USE_HW_BP is on) and is emulated here against
// the guest's virtual registers.
//
//   guest's DR0-3/DR7 (virtual)     debugger's requests (ids)
//        DR0 exec, L0                    7: write 0x1000 len 4
//        DR2 write, L2                   9: access 0x2003 len 2 (split 1+1)
//              \                            /
//               v                          v
//        physical  DR0 = guest DR0   DR1 = req 7   DR2 = guest DR2   DR3 = free
//        -> req 9 needs 2 slots, 1 free: ENOSPC "... the guest uses 2 ..."
//
// Placement: a guest slot n keeps physical slot n (so nothing moves when the
// debugger comes and goes); debugger pieces fill the remaining slots, lowest
// first. The guest's slots are placed first and are never dropped.
//
// Threads: pure functions, any thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "arch/x86/debug_regs.h"
#include "common/result.h"

namespace kvmdbg::arch::x86 {

/// One debugger request as the accelerator keeps it: its own id (reported
/// back in DebugRegPlan::owners and in debug-exit results) and the request.
struct DebuggerRequestEntry {
    std::uint32_t id = 0;
    DebugRequest request{};
};

/// The effective registers and, for guest-initiated rebuilds, which
/// debugger requests could not be placed.
struct MergedDebugRegs {
    DebugRegPlan plan;
    std::vector<std::uint32_t> evicted;  ///< ids of requests left out, in input order
};

/// Builds the effective registers: the guest's enabled slots (Ln or Gn set
/// in guest.dr7) at their own positions with their DR7 fields copied bit for
/// bit, the guest's LE/GE/RTM bits, then every debugger request in order
/// (as place_debug_request), and DR7.GD set so guest MOV DR traps.
/// Use it on the debugger's insert path: the caller keeps its previous plan
/// when this fails.
/// Errors: those of place_debug_request for the first request that fails;
/// ENOSPC when guest + debugger need more than 4 slots, saying how many the
/// guest uses. The guest's slots are never dropped.
Result<DebugRegPlan> merge_debug_regs(const X86DebugRegs& guest, std::span<const DebuggerRequestEntry> requests);

/// As merge_debug_regs but never fails: a request that does not fit (or is
/// invalid) is left out and its id listed in `evicted`. Use it when the
/// GUEST changed its registers (an emulated MOV to DR7): the guest's write
/// must take effect, so the debugger loses the slots it can no longer have
/// and the accelerator tells the user which ones.
MergedDebugRegs merge_debug_regs_evicting(const X86DebugRegs& guest, std::span<const DebuggerRequestEntry> requests);

/// The DR6 the guest should see for a #DB taken with `plan` loaded:
/// every Bp of a guest-owned physical slot p becomes B(guest slot); Bn bits
/// of debugger-owned and free slots are dropped; BD, BS, BT, RTM and BLD are
/// kept as given; the always-one bits (4-10, 17-31) are set. `dr6` must be
/// in architectural form (active-low RTM/BLD as the processor reports them;
/// KVM's kvm_run->debug.arch.dr6 is). Bits 63:32 are cleared.
std::uint64_t guest_view_dr6(std::uint64_t dr6, const DebugRegPlan& plan);

/// The guest's virtual debug registers: what the guest reads with MOV DRn.
struct GuestDebugRegs {
    std::uint64_t dr[kNumDebugRegs] = {0, 0, 0, 0};
    std::uint64_t dr6 = dr6::kInit;
    std::uint64_t dr7 = dr7::kInit;
};

/// What the emulated instruction does to the guest.
enum class MovDrAction : std::uint8_t {
    done,      ///< executed: apply regs/gpr, advance RIP by `length`
    raise_ud,  ///< inject #UD (DR4/DR5 with CR4.DE=1, REX.R = DR8-15, LOCK)
    raise_gp,  ///< inject #GP(0) (1s written to DR6/DR7 bits 63:32)
    raise_db,  ///< the GUEST's own DR7.GD is set: inject #DB (fault, RIP
               ///< unchanged) with the new virtual DR6 (BD set) and DR7 (GD
               ///< cleared, as the processor does on #DB entry)
};

/// Input of emulate_mov_dr.
struct MovDrContext {
    GuestDebugRegs regs{};
    /// General-purpose registers in KvmdbgX86Gpr order (kvm_regs: rax rbx rcx
    /// rdx rsi rdi rsp rbp r8..r15), NOT the ModRM encoding order.
    std::array<std::uint64_t, 16> gpr{};
    bool cr4_de = false;    ///< CR4.DE (bit 3): DR4/DR5 are #UD instead of aliases
    bool long_mode = true;  ///< 64-bit code segment: REX prefixes, 64-bit operands;
                            ///< false: 32-bit operands, 0x40-0x4F are not prefixes
};

/// Result of emulate_mov_dr.
struct MovDrOutcome {
    MovDrAction action = MovDrAction::done;
    GuestDebugRegs regs{};                ///< new virtual debug registers
    std::array<std::uint64_t, 16> gpr{};  ///< new GPRs (KvmdbgX86Gpr order)
    unsigned length = 0;                  ///< bytes to add to RIP when action == done, else 0
    unsigned dr = 0;                      ///< the DR accessed, after DR4->DR6 / DR5->DR7 aliasing
    bool to_dr = false;                   ///< MOV DRn, reg (0F 23): rebuild the effective registers
};

/// Emulates the trapped `MOV reg, DRn` (0F 21 /r) or `MOV DRn, reg`
/// (0F 23 /r) whose bytes start at `insn` (the bytes at the exit's pc, at
/// most 15 used) against ctx.regs (Intel SDM Vol. 2A "MOV—Move to/from Debug
/// Registers"; Vol. 3B 17.2.2 for DR4/DR5).
///
///   ModRM:   7   6 5     3 2     0
///          +-------+-------+-------+
///          |  mod  |  reg  |  rm   |   mod ignored (always a register)
///          +-------+-------+-------+   reg = DRn (REX.R=1 is #UD)
///                                      rm  = GPR (REX.B selects r8-r15)
///
/// Length: 3 bytes + prefixes. Accepted prefixes: REX (0x40-0x4F, long mode
/// only, must precede 0F directly), and the ignored 66 67 F2 F3 and segment
/// overrides; F0 (LOCK) gives raise_ud. Writes keep DR6/DR7's fixed bits as
/// KVM does (DR6 volatile 0x1e80f, DR7 volatile 0xffff2bff, bit 10 set).
/// Fault order follows KVM: #UD, then the guest's GD (#DB), then #GP.
/// The caller has already checked CPL 0 (KVM injects #GP itself otherwise).
/// Errors: EINVAL (naming the bytes) if `insn` is not a MOV DR instruction.
Result<MovDrOutcome> emulate_mov_dr(std::span<const std::uint8_t> insn, const MovDrContext& ctx);

}  // namespace kvmdbg::arch::x86
