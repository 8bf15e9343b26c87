// arm64 hardware debug registers: the project's plain Arm64DebugRegs, the
// DBGBCR/DBGWCR encodings, and the placement of debugger requests into the
// breakpoint and watchpoint register pools.
//
// Pure logic: no kernel headers, no ioctls. The KVM adaptor copies
// Arm64DebugRegs into struct kvm_guest_debug_arch (merged uapi,
// arch/arm64/include/uapi/asm/kvm.h: every array is __u64 dbg_bcr[16],
// dbg_bvr[16], dbg_wcr[16], dbg_wvr[16]; the __u32 control arrays of the
// posted arm64 guest-debug ABI patch were NOT merged, docs/design.md
// "Kernel ABI sources") and sets KVM_GUESTDBG_USE_HW
// (Documentation/virt/kvm/api.rst, "KVM_SET_GUEST_DEBUG").
//
// Slot counts: the host reports how many breakpoint and watchpoint register
// pairs it gives the debugger with KVM_CAP_GUEST_DEBUG_HW_BPS and
// KVM_CAP_GUEST_DEBUG_HW_WPS (api.rst, section of the same name; at most KVM_ARM_MAX_DBG_REGS =
// 16 each; the nested arm64 KVM measured in docs/hosts.md has 6 and 4).
// Only slots below those counts are ever used. accel/kvm/hw_slot_allocator.h counts the same pools
// for early errors; this file decides which register holds what.
//
// References: ARM ARM (DDI 0487) D2.9 "Breakpoint exceptions", D2.10
// "Watchpoint exceptions", and the DBGBCR<n>_EL1, DBGBVR<n>_EL1,
// DBGWCR<n>_EL1, DBGWVR<n>_EL1 register descriptions (D13 in the ARMv8.0
// editions).
//
// DBGBCR<n>_EL1, breakpoint control (64-bit in KVM's ABI, bits 63:32 RES0):
//
//   31    24 23  20 19  16 15 14  13  12   9 8     5 4  3 2   1  0
//  +--------+------+------+-----+---+------+-------+----+-----+---+
//  |  RES0  |  BT  | LBN  | SSC |HMC| RES0 |  BAS  |RES0| PMC | E |
//  +--------+------+------+-----+---+------+-------+----+-----+---+
//
//   E     enable
//   PMC   privilege: 0b01 EL1, 0b10 EL0, 0b11 EL1 and EL0 (with HMC=0, SSC=0)
//   BAS   byte address select: 0b1111 for an A64 instruction (any other
//         value is for AArch32 T32 halfwords)
//   BT    breakpoint type: 0b0000 unlinked instruction address match
//
//   debugger breakpoint: E=1, PMC=0b11, BAS=0xF, everything else 0 = 0x1e7
//
// DBGBVR<n>_EL1, breakpoint value: VA[63:2] of the instruction; bits 1:0
// RES0 (A64 instructions are 4-byte aligned). The upper bits are a sign
// extension of the top implemented VA bit (RESS); we pass the address
// unchanged, as gdb gives it.
//
// DBGWCR<n>_EL1, watchpoint control (64-bit in KVM's ABI):
//
//   31 29 28   24 23 21 20  19  16 15 14  13  12          5 4   3 2   1  0
//  +-----+-------+-----+--+------+-----+---+-------------+-----+-----+---+
//  | RES0|  MASK | RES0|WT| LBN  | SSC |HMC|     BAS     | LSC | PAC | E |
//  +-----+-------+-----+--+------+-----+---+-------------+-----+-----+---+
//
//   E     enable
//   PAC   privilege: 0b11 EL1 and EL0 (as PMC)
//   LSC   0b01 loads, 0b10 stores, 0b11 both
//   BAS   byte address select: bit i watches byte (DBGWVR & ~7) + i of the
//         doubleword; contiguous set bits (e.g. 0b00111100 = bytes 2-5).
//         If DBGWVR bit 2 is set only BAS[3:0] is used, so we always
//         program DBGWVR 8-byte aligned and shift BAS instead.
//   MASK  0 = no mask; 3..31 = ignore the low MASK address bits (watch the
//         aligned 2^MASK-byte block at DBGWVR; BAS must then be 0xFF);
//         1 and 2 are reserved
//   WT    0 = unlinked
//
// DBGWVR<n>_EL1, watchpoint value: VA[63:2]; bits 1:0 RES0.
//
// How a debugger range is encoded:
//   * fits in one doubleword (at most 8 bytes, no 8-byte boundary
//     crossed): one slot, DBGWVR = addr & ~7, BAS = the bytes, MASK = 0
//   * aligned power-of-two block of 8 B .. 2 GiB: one slot, BAS = 0xFF,
//     MASK = log2(len) (0 for exactly 8 bytes)
//   * anything else: split greedily (each piece the largest of the two
//     forms that starts at the current address), over as many free
//     watchpoint slots as needed, all or nothing; ENOSPC names the range,
//     the pieces needed and the slots free.
//
// Threads: every function here is pure and may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace kvmdbg::arch::arm64 {

/// KVM_ARM_MAX_DBG_REGS: size of each kvm_guest_debug_arch array.
inline constexpr unsigned kMaxDebugRegs = 16;

/// The debug registers as the project passes them around; the KVM adaptor
/// copies the four arrays into kvm_guest_debug_arch.dbg_{bcr,bvr,wcr,wvr}
/// one to one (all __u64 in the merged ABI). Unused slots are all zero.
struct Arm64DebugRegs {
    std::uint64_t bcr[kMaxDebugRegs] = {};
    std::uint64_t bvr[kMaxDebugRegs] = {};
    std::uint64_t wcr[kMaxDebugRegs] = {};
    std::uint64_t wvr[kMaxDebugRegs] = {};
};

/// DBGBCR/DBGWCR fields.
namespace dbgbcr {
inline constexpr std::uint64_t kE = 1ull << 0;
inline constexpr unsigned kPmcShift = 1;  ///< PMC, bits 2:1
inline constexpr unsigned kBasShift = 5;  ///< BAS, bits 8:5
inline constexpr std::uint64_t kPmcEl1El0 = 0b11ull << kPmcShift;
inline constexpr std::uint64_t kBasA64 = 0xFull << kBasShift;
/// The value of every debugger breakpoint: E, PMC=EL1+EL0, BAS=0xF.
inline constexpr std::uint64_t kDebuggerBreakpoint = kE | kPmcEl1El0 | kBasA64;  // 0x1e7
}  // namespace dbgbcr

namespace dbgwcr {
inline constexpr std::uint64_t kE = 1ull << 0;
inline constexpr unsigned kPacShift = 1;    ///< PAC, bits 2:1
inline constexpr unsigned kLscShift = 3;    ///< LSC, bits 4:3
inline constexpr unsigned kBasShift = 5;    ///< BAS, bits 12:5
inline constexpr unsigned kMaskShift = 24;  ///< MASK, bits 28:24
inline constexpr std::uint64_t kPacEl1El0 = 0b11ull << kPacShift;
}  // namespace dbgwcr

/// LSC field values.
enum class WatchLsc : std::uint8_t { load = 0b01, store = 0b10, both = 0b11 };

/// What a debugger request watches. gdb's Z1 is `exec`, Z2 `write`,
/// Z3 `read`, Z4 `access`.
enum class DebugAccess : std::uint8_t { exec, write, read, access };

/// "hardware breakpoint", "write watchpoint", "read watchpoint", "access watchpoint".
const char* debug_access_name(DebugAccess kind);

/// LSC for a watch kind: write -> store, read -> load, access -> both.
/// (exec has no LSC; returns both.)
WatchLsc watch_lsc(DebugAccess kind);

/// One debugger request: a hardware breakpoint at `addr` (len ignored) or a
/// watchpoint on the virtual range [addr, addr + len).
struct DebugRequest {
    DebugAccess kind = DebugAccess::exec;
    std::uint64_t addr = 0;
    std::uint64_t len = 4;
};

/// DBGBVR value for a breakpoint at `addr`.
/// Errors: EINVAL "... not 4-byte aligned: A64 instructions are ..." for a
/// misaligned address (never silently rounded: the breakpoint would fire
/// at a different instruction).
Result<std::uint64_t> breakpoint_bvr(std::uint64_t addr);

/// One watchpoint slot's worth of a request: the register values and the
/// exact bytes [addr, addr + len) they watch.
struct WatchPiece {
    std::uint64_t addr = 0;
    std::uint64_t len = 0;
    std::uint64_t wvr = 0;
    std::uint64_t wcr = 0;
    bool operator==(const WatchPiece&) const = default;
};

/// DBGWCR value: E, PAC=EL1+EL0, `lsc`, `bas` (8 bits), `mask` (0 or 3..31).
std::uint64_t watchpoint_wcr(WatchLsc lsc, unsigned bas, unsigned mask);

/// The bytes one (wcr, wvr) pair watches: decodes BAS by its lowest AND
/// highest set bit (not by counting leading ones, QEMU's clo32(bas) bug,
/// which mis-sizes any BAS that does not start at byte 0) and MASK.
/// `len` is 0 when E is clear, BAS is 0, MASK is reserved (1, 2) or MASK
/// is used with BAS != 0xFF.
struct WatchedRange {
    std::uint64_t addr = 0;
    std::uint64_t len = 0;
    bool operator==(const WatchedRange&) const = default;
};
WatchedRange decode_watchpoint(std::uint64_t wcr, std::uint64_t wvr);

/// Checks a watch `request` (kind write, read or access) and encodes it as
/// the minimal list of pieces described at the top of this file, lowest
/// address first. Example: write 0x1003 len 14 -> {0x1003,5: BAS 0xF8}
/// {0x1008,8: BAS 0xFF} {0x1010,1: BAS 0x01}.
/// Errors: EINVAL for an exec request, len 0, or a range that wraps past
/// 2^64.
Result<std::vector<WatchPiece>> split_watch_request(const DebugRequest& request);

/// The slot counts the host gives the debugger: KVM_CAP_GUEST_DEBUG_HW_BPS
/// and _HW_WPS as returned by KVM_CHECK_EXTENSION (a negative or absent
/// value counts as 0), clamped to kMaxDebugRegs.
struct SlotCounts {
    unsigned breakpoints = 0;
    unsigned watchpoints = 0;
};
SlotCounts slot_counts_from_caps(int hw_bps, int hw_wps);

/// Who owns one slot: free, or one piece of debugger request `request_id`.
struct SlotOwner {
    bool used = false;
    std::uint32_t request_id = 0;  ///< caller's id of the request
    DebugRequest request{};        ///< the whole original request
    std::uint64_t piece_addr = 0;  ///< the bytes this slot watches (watchpoints)
    std::uint64_t piece_len = 0;
};

/// The effective registers to load and, for every slot, who owns it.
/// Invariant: a slot is non-zero in `regs` iff its owner is used; no slot
/// at or above `counts` is ever used.
struct DebugRegPlan {
    SlotCounts counts{};
    Arm64DebugRegs regs{};
    std::array<SlotOwner, kMaxDebugRegs> breakpoints{};
    std::array<SlotOwner, kMaxDebugRegs> watchpoints{};
};

/// An empty plan for a host with `counts` slots.
DebugRegPlan make_debug_reg_plan(SlotCounts counts);

/// Slots in use.
unsigned used_breakpoint_slots(const DebugRegPlan& plan);
unsigned used_watchpoint_slots(const DebugRegPlan& plan);

/// True if any slot is used: the adaptor then sets KVM_GUESTDBG_USE_HW.
bool plan_uses_hw(const DebugRegPlan& plan);

/// Places `request` under `request_id`: an exec request in the lowest free
/// breakpoint slot, a watch request's pieces in the lowest free watchpoint
/// slots, all or nothing. Returns the mask of slots used (bit n = slot n of
/// the request's pool).
/// Errors: EEXIST if `request_id` already owns a slot; those of
/// breakpoint_bvr / split_watch_request; ENOTSUP when the host has no
/// register of that kind ("this host has no hardware watchpoints
/// (KVM_CAP_GUEST_DEBUG_HW_WPS = 0)"); ENOSPC naming the request's range,
/// the slots it needs and how many of the host's N are free. On error
/// `plan` is unchanged.
Result<unsigned> place_debug_request(DebugRegPlan& plan, std::uint32_t request_id, const DebugRequest& request);

/// Frees every slot `request_id` owns. Returns the number freed (0 if the
/// id is unknown).
unsigned remove_debug_request(DebugRegPlan& plan, std::uint32_t request_id);

}  // namespace kvmdbg::arch::arm64
