// x86 debug registers: the project's plain X86DebugRegs, the DR7 and DR6
// encodings, and the placement of debugger requests (breakpoints and
// watchpoints) into the four address slots DR0-DR3.
//
// Pure logic: no kernel headers, no ioctls. The KVM adaptor copies
// X86DebugRegs into struct kvm_guest_debug_arch.debugreg[0..3] and [7]
// (Documentation/virt/kvm/api.rst, "KVM_SET_GUEST_DEBUG").
//
// References: Intel SDM Vol. 3B 17.2 "Debug Registers" (numbered 18.2 in
// editions from 2019 on): 17.2.3 DR6, 17.2.4 DR7, 17.2.5 "Breakpoint Field
// Recognition" (alignment), 17.2.6 "Debug Registers and Intel 64 Processors".
//
// DR7, the debug control register (17.2.4, Figure 17-2):
//
//   63              32 31 30 29 28 27 26 25 24 23 22 21 20 19 18 17 16
//  +------------------+-----+-----+-----+-----+-----+-----+-----+-----+
//  |   reserved (0)   | LEN3| R/W3| LEN2| R/W2| LEN1| R/W1| LEN0| R/W0|
//  +------------------+-----+-----+-----+-----+-----+-----+-----+-----+
//   15 14 13 12  11  10  9  8  7  6  5  4  3  2  1  0
//  +--+--+--+--+---+--+--+--+--+--+--+--+--+--+--+--+
//  | 0| 0|GD| 0|RTM| 1|GE|LE|G3|L3|G2|L2|G1|L1|G0|L0|
//  +--+--+--+--+---+--+--+--+--+--+--+--+--+--+--+--+
//
//   Ln/Gn  local/global enable of slot n (a slot is active if either is set)
//   LE/GE  exact breakpoint enables (ignored since P6, recommended set)
//   GD     general detect: any MOV to/from DRn faults with #DB, DR6.BD set
//   R/Wn   00 execute, 01 data write, 10 I/O read/write (CR4.DE=1 only),
//          11 data read or write (there is no read-only encoding)
//   LENn   00 1 byte, 01 2 bytes, 11 4 bytes, 10 8 bytes (17.2.5 note:
//          defined on all Intel 64 processors in IA-32e mode);
//          must be 00 for an execute breakpoint
//
// DR6, the debug status register (17.2.3, Figure 17-2; reset 0xFFFF0FF0):
//
//   63            32 31           17  16  15 14 13  12  11  10         4  3  2  1  0
//  +----------------+---------------+---+--+--+--+---+---+------------+--+--+--+--+
//  |  reserved (0)  |   1 ... 1     |RTM|BT|BS|BD| 0 |BLD|  1 ... 1   |B3|B2|B1|B0|
//  +----------------+---------------+---+--+--+--+---+---+------------+--+--+--+--+
//
//   Bn   the condition of slot n was met (may be set for a disabled slot
//        whose condition matched: only enabled slots count)
//   BD   the next instruction accesses a debug register while DR7.GD=1
//   BS   single-step trap (RFLAGS.TF)
//   BT   task switch to a TSS with the T flag
//   RTM  ACTIVE LOW: clear when the #DB/#BP happened inside an RTM
//        transaction (17.3.3); set otherwise
//   BLD  ACTIVE LOW: clear for a bus-lock #DB
//
// Threads: every function here is pure and may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace kvmdbg::arch::x86 {

/// Number of address slots (DR0-DR3).
inline constexpr unsigned kNumDebugRegs = 4;

/// The debug registers as the project passes them around: DR0-DR3 and DR7.
/// A plain aggregate; the KVM adaptor copies it into kvm_guest_debug_arch.
struct X86DebugRegs {
    std::uint64_t dr[kNumDebugRegs] = {0, 0, 0, 0};
    std::uint64_t dr7 = 0;
};

/// DR7 bits (Intel SDM Vol. 3B 17.2.4).
namespace dr7 {
/// Ln, local enable of slot n (n < 4).
constexpr std::uint64_t local_enable(unsigned n) { return 1ull << (2 * n); }
/// Gn, global enable of slot n (n < 4).
constexpr std::uint64_t global_enable(unsigned n) { return 2ull << (2 * n); }
inline constexpr std::uint64_t kLE = 1ull << 8;
inline constexpr std::uint64_t kGE = 1ull << 9;
/// Bit 10 reads as 1 (KVM's DR7_FIXED_1).
inline constexpr std::uint64_t kFixed1 = 1ull << 10;
inline constexpr std::uint64_t kRTM = 1ull << 11;
inline constexpr std::uint64_t kGD = 1ull << 13;
/// The value after reset: nothing enabled.
inline constexpr std::uint64_t kInit = kFixed1;
}  // namespace dr7

/// DR6 bits (Intel SDM Vol. 3B 17.2.3).
namespace dr6 {
/// Bn, slot n's condition met (n < 4).
constexpr std::uint64_t hit(unsigned n) { return 1ull << n; }
inline constexpr std::uint64_t kHitMask = 0xf;
inline constexpr std::uint64_t kBLD = 1ull << 11;  ///< active low
inline constexpr std::uint64_t kBD = 1ull << 13;
inline constexpr std::uint64_t kBS = 1ull << 14;
inline constexpr std::uint64_t kBT = 1ull << 15;
inline constexpr std::uint64_t kRTM = 1ull << 16;  ///< active low
/// Bits that always read as 1: 4-10 and 17-31 (KVM's DR6_FIXED_1,
/// = DR6_ACTIVE_LOW & ~DR6_VOLATILE).
inline constexpr std::uint64_t kFixed1 = 0xfffe07f0ull;
/// The value after reset / with no condition pending: fixed ones plus the
/// active-low RTM and BLD bits (KVM's DR6_ACTIVE_LOW). KVM reports
/// kvm_run->debug.arch.dr6 as `conditions | kInit` on VMX.
inline constexpr std::uint64_t kInit = 0xffff0ff0ull;
}  // namespace dr6

/// R/W field of one DR7 slot.
enum class Dr7Rw : std::uint8_t {
    exec = 0b00,    ///< instruction execution
    write = 0b01,   ///< data writes
    io = 0b10,      ///< I/O reads and writes (CR4.DE=1); never used by the debugger
    access = 0b11,  ///< data reads or writes
};

/// One slot's configuration as DR7 encodes it.
struct Dr7Slot {
    bool local = false;   ///< Ln
    bool global = false;  ///< Gn
    Dr7Rw rw = Dr7Rw::exec;
    unsigned len = 1;  ///< length in bytes: 1, 2, 4 or 8 (decoded from LENn)
};

/// The 2-bit LEN encoding of `len` bytes: 1 -> 00, 2 -> 01, 4 -> 11, 8 -> 10.
/// Errors: EINVAL for any other length (0, 3, 5..7, > 8).
Result<unsigned> dr7_len_field(std::uint64_t len);

/// Bytes covered by the 2-bit LEN field `field` (only the low 2 bits are used).
unsigned dr7_len_bytes(unsigned field);

/// Slot `n` (< 4) of `dr7`, decoded.
Dr7Slot dr7_get_slot(std::uint64_t dr7, unsigned n);

/// `dr7` with slot `n` (< 4) replaced by `slot`; other bits unchanged.
/// Errors: EINVAL for n >= 4, a length without an encoding, or an execute
/// slot whose length is not 1 (17.2.5: LEN must be 00 for instruction
/// breakpoints).
Result<std::uint64_t> dr7_set_slot(std::uint64_t dr7, unsigned n, const Dr7Slot& slot);

/// `dr7` with slot `n`'s Ln, Gn, R/Wn and LENn cleared.
std::uint64_t dr7_clear_slot(std::uint64_t dr7, unsigned n);

/// True if Ln or Gn of slot `n` is set.
bool dr7_slot_enabled(std::uint64_t dr7, unsigned n);

/// Bit n set for every enabled slot n.
unsigned dr7_enabled_mask(std::uint64_t dr7);

/// True if `regs` has an enabled (Ln or Gn) instruction-execution slot
/// (R/Wn = 00) whose address is `addr`: an instruction breakpoint that
/// fires when the instruction at linear `addr` is about to run (17.3.1.1;
/// LENn is not looked at: it must be 00 for execution slots, 17.2.5).
/// Resuming there with RFLAGS.RF = 1 would hide it.
bool exec_breakpoint_at(const X86DebugRegs& regs, std::uint64_t addr);

/// What a debugger request watches. gdb's Z1 is `exec`, Z2 `write`,
/// Z3 `read`, Z4 `access`.
enum class DebugAccess : std::uint8_t { exec, write, read, access };

/// "hardware breakpoint", "write watchpoint", "read watchpoint", "access watchpoint".
const char* debug_access_name(DebugAccess kind);

/// One debugger request: a hardware breakpoint or watchpoint on the linear
/// range [addr, addr + len).
struct DebugRequest {
    DebugAccess kind = DebugAccess::exec;
    std::uint64_t addr = 0;
    std::uint64_t len = 1;
};

/// One naturally aligned piece of a request: len is 1, 2, 4 or 8 and addr is
/// a multiple of len (17.2.5: the processor ignores the low address bits
/// that LEN covers, so an unaligned slot would watch the wrong bytes).
struct DebugRange {
    std::uint64_t addr = 0;
    std::uint64_t len = 0;
    bool operator==(const DebugRange&) const = default;
};

/// Checks `request` and splits it into the minimal list of naturally aligned
/// 1/2/4/8-byte pieces, lowest address first (each piece is the largest
/// aligned block that starts at the current address and stays in range;
/// greedy is optimal for power-of-two blocks). An execute request is one
/// piece of length 1 at any address. Example: write 0x1003 len 6 ->
/// {0x1003,1} {0x1004,4} {0x1008,1}.
/// Errors: ENOTSUP for `read` ("x86 has no read-only watchpoints");
/// EINVAL for len 0, an execute request with len != 1, or a range that
/// wraps past 2^64; ENOSPC if the range needs more than 4 pieces (it can
/// never fit, whatever is free).
Result<std::vector<DebugRange>> split_debug_request(const DebugRequest& request);

/// Who owns one physical slot of a DebugRegPlan.
struct SlotOwner {
    enum class Kind : std::uint8_t {
        free,      ///< unused: DRn = 0, Ln = Gn = 0
        guest,     ///< the guest's own DR`guest_slot`, kept while debugging
        debugger,  ///< a piece of the debugger request `request_id`
    };
    Kind kind = Kind::free;
    unsigned guest_slot = 0;       ///< kind == guest: the guest's DR number 0-3
    std::uint32_t request_id = 0;  ///< kind == debugger: caller's id of the request
    DebugRequest request{};        ///< kind == debugger: the whole original request
};

/// The effective debug registers to load into the vCPU and, for every
/// physical slot, who owns it. The project's own copy of the DR7 it loads:
/// exits are decoded against `regs.dr7`, never against the DR7 the kernel
/// reports (garbage on the PVM hosts, docs/hosts.md).
///
/// Invariant kept by the functions below: a slot is enabled in regs.dr7 iff
/// its owner is not free; a free slot has DRn = 0 and R/W, LEN = 0.
struct DebugRegPlan {
    X86DebugRegs regs{{0, 0, 0, 0}, dr7::kInit};
    std::array<SlotOwner, kNumDebugRegs> owners{};
};

/// Number of slots whose owner is free.
unsigned free_slot_count(const DebugRegPlan& plan);

/// Number of slots owned by the guest.
unsigned guest_slot_count(const DebugRegPlan& plan);

/// Places every piece of `request` into free slots, lowest slot first, all
/// or nothing, under the caller's `request_id` (several slots of one split
/// request share it). Debugger slots use Gn (global enable) and set GE, as
/// QEMU does. Returns the mask of slots used (bit n = DRn).
/// Errors: EEXIST if `request_id` already owns a slot; those of
/// split_debug_request; ENOSPC "no free debug register"
/// naming the request, how many slots it needs, and how many the guest and
/// the debugger already use. On error `plan` is unchanged.
Result<unsigned> place_debug_request(DebugRegPlan& plan, std::uint32_t request_id, const DebugRequest& request);

/// Frees every slot the debugger request `request_id` owns. Returns the
/// number of slots freed (0 if the id is unknown).
unsigned remove_debug_request(DebugRegPlan& plan, std::uint32_t request_id);

/// A decoded DR6 (17.2.3), checked against the project's own DR7.
struct Dr6Status {
    unsigned hits = 0;      ///< bit n: Bn set AND slot n enabled in the DR7 given
    unsigned raw_hits = 0;  ///< bit n: Bn set, enabled or not
    bool bd = false;        ///< BD, bit 13
    bool bs = false;        ///< BS, bit 14
    bool bt = false;        ///< BT, bit 15
    /// RTM (bit 16) is active low: true when the bit is CLEAR, i.e. the
    /// #DB happened inside an RTM transaction (17.3.3). Meaningful only for
    /// a DR6 in architectural form; KVM reports exits with bit 16 set.
    bool in_rtm = false;
    /// BLD (bit 11), active low: true when the bit is clear (bus-lock #DB).
    bool bus_lock = false;
};

/// Decodes `dr6` against `dr7` (the project's copy of what it loaded).
Dr6Status decode_dr6(std::uint64_t dr6, std::uint64_t dr7);

}  // namespace kvmdbg::arch::x86
