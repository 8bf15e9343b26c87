// s390x guest debug: software breakpoint instruction choice, the hw_bp[]
// array of the s390 struct kvm_guest_debug_arch, exit decoding, and the
// PGM_OPERATION program interruption an unowned breakpoint is reflected as.
//
// Pure logic: no kernel headers. arch/s390x/s390x_kvm.cc fills the real
// structs (arch/s390/include/uapi/asm/kvm.h; Linux arch/s390/kvm/guestdbg.c):
//
//   struct kvm_guest_debug_arch {     struct kvm_hw_breakpoint {
//     __u32 nr_hw_bp;                   __u64 addr;       guest virtual
//     __u32 pad;                        __u64 phys_addr;  guest absolute
//     struct kvm_hw_breakpoint *hw_bp;  __u64 len;
//   };                                  __u8  type; __u8 pad[7];
//                                     };
//   struct kvm_debug_exit_arch { __u64 addr; __u8 type; __u8 pad[7]; };
//   type: KVM_HW_BP 1, KVM_HW_WP_WRITE 2, KVM_SINGLESTEP 4
//   control: ENABLE 0x1, SINGLESTEP 0x2, USE_HW_BP 0x10000 (no USE_SW_BP on s390)
//
//   - guestdbg.c refuses more than 50 entries (MAX_BP_COUNT) and a
//     watchpoint longer than 100 bytes (MAX_WP_SIZE) with -EINVAL.
//   - Breakpoints become a PER instruction-fetch range; watchpoints a PER
//     storage-alteration range plus a copy of the watched bytes read at
//     phys_addr: KVM reports a watchpoint only when the bytes CHANGED (a
//     store of the same value is not reported), and phys_addr must be the
//     translation of addr in the vCPU's own address space (prefixing!), so
//     the array is rebuilt per vCPU.
//   - Software breakpoints are not KVM_EXIT_DEBUG on s390: the breakpoint
//     instruction makes an intercept (KVM_EXIT_S390_SIEIC). With
//     KVM_CAP_S390_USER_INSTR0 enabled, the invalid opcode 0x0000 (2 bytes)
//     is an operation-exception intercept (icptcode 0x2c, ipa 0x0000);
//     without it kvmdbg writes DIAG 0x501 (4 bytes, 83 24 05 01: DIAGNOSE
//     with R1=2 R3=4 B2=0 D2=0x501, as QEMU), an instruction intercept
//     (icptcode 0x04, ipa 0x83xx, function code from ipb). Either way the
//     PSW already points PAST the instruction (pc = psw.addr - length).
//
// Threads: pure, any thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <variant>
#include <vector>

#include "common/result.h"

namespace kvmdbg::arch::s390x {

inline constexpr std::uint8_t kHwBp = 1;        ///< KVM_HW_BP
inline constexpr std::uint8_t kHwWpWrite = 2;   ///< KVM_HW_WP_WRITE
inline constexpr std::uint8_t kSingleStep = 4;  ///< KVM_SINGLESTEP

inline constexpr std::uint32_t kGuestDbgEnable = 0x1;
inline constexpr std::uint32_t kGuestDbgSingleStep = 0x2;
inline constexpr std::uint32_t kGuestDbgUseHwBp = 0x10000;

inline constexpr unsigned kMaxHwBp = 50;         ///< guestdbg.c MAX_BP_COUNT
inline constexpr std::uint64_t kMaxWpLen = 100;  ///< guestdbg.c MAX_WP_SIZE

/// The software breakpoint kvmdbg writes.
struct SwBreakpointInsn {
    std::array<std::uint8_t, 4> bytes{};
    unsigned length = 0;  ///< 2 (0x0000) or 4 (DIAG 0x501): gdb's Z0 kind
};

/// 0x0000 (length 2) when KVM_CAP_S390_USER_INSTR0 could be enabled on the
/// VM, else DIAG 0x501 = 83 24 05 01 (length 4).
SwBreakpointInsn sw_breakpoint_insn(bool user_instr0_enabled);

/// One kvm_hw_breakpoint.
struct S390HwBp {
    std::uint64_t addr = 0;
    std::uint64_t phys_addr = 0;
    std::uint64_t len = 0;
    std::uint8_t type = 0;
    bool operator==(const S390HwBp&) const = default;
};

/// gdb's Z1 exec, Z2 write, Z3 read, Z4 access.
enum class DebugAccess : std::uint8_t { exec, write, read, access };

struct DebugRequest {
    DebugAccess kind = DebugAccess::exec;
    std::uint64_t addr = 0;
    std::uint64_t len = 1;
};

/// Guest virtual -> guest absolute for ONE vCPU (DAT per its control
/// registers, then prefixing). Errors are passed through (EFAULT).
using TranslateFn = std::function<Result<std::uint64_t>(std::uint64_t vaddr)>;

/// The hw_bp[] array for one vCPU: one entry per request, in order, with
/// phys_addr = translate(addr). exec -> KVM_HW_BP with len 1 (gdb's
/// hbreak names one instruction start; guestdbg.c derives the PER
/// instruction-fetch range from addr and len); write -> KVM_HW_WP_WRITE
/// with len.
/// Errors: ENOTSUP for read/access watchpoints ("s390 PER has no
/// storage-fetch event"); ENOSPC for more than 50 entries; EINVAL for
/// len 0, a watchpoint longer than 100 bytes, or a range wrapping 2^64;
/// the translation's error naming the address.
Result<std::vector<S390HwBp>> build_hw_bps(std::span<const DebugRequest> requests, const TranslateFn& translate);

/// kvm_guest_debug.control: ENABLE when anything is set (software
/// breakpoints need only ENABLE: the intercept is always delivered),
/// USE_HW_BP with hw_bp entries, SINGLESTEP when stepping.
std::uint32_t debug_control(bool sw_breakpoints, bool hw_breakpoints, bool step);

// ---- exits ---------------------------------------------------------------

/// kvm_run->debug.arch of a KVM_EXIT_DEBUG.
struct DebugExit {
    std::uint64_t addr = 0;
    std::uint8_t type = 0;
};

/// kvm_run->s390_sieic of a KVM_EXIT_S390_SIEIC.
struct SieicExit {
    std::uint8_t icptcode = 0;
    std::uint16_t ipa = 0;
    std::uint32_t ipb = 0;
};

inline constexpr std::uint8_t kIcptInstruction = 0x04;
inline constexpr std::uint8_t kIcptOperationException = 0x2c;

struct ExitInfo {
    std::variant<DebugExit, SieicExit> exit;
    std::uint64_t psw_addr = 0;  ///< PSW address read after the exit
    bool user_instr0 = false;    ///< which sw bp instruction is in use
    bool debugger_stepping = false;
    /// The debugger's table has a software breakpoint at this address.
    std::function<bool(std::uint64_t)> sw_breakpoint_at;
};

struct StepDone {
    std::uint64_t pc = 0;
};
struct SoftwareBreakpoint {
    std::uint64_t addr = 0;  ///< set the PSW address here before reporting
};
struct HardwareBreakpoint {
    std::uint64_t addr = 0;
};
struct Watchpoint {
    std::uint64_t addr = 0;  ///< the watched address KVM reports
};
/// The breakpoint instruction at `addr` is the guest's own: inject a
/// program interruption with code 0x0001 (operation) and instruction
/// length `ilen` (see program_interruption).
struct ReflectOperation {
    std::uint64_t addr = 0;
    unsigned ilen = 0;
};
/// Not a debug event at all (another intercept): the caller handles it.
struct NotDebug {};

using DebugEvent =
    std::variant<StepDone, SoftwareBreakpoint, HardwareBreakpoint, Watchpoint, ReflectOperation, NotDebug>;

/// Classifies one exit. KVM_EXIT_DEBUG: KVM_SINGLESTEP -> StepDone,
/// KVM_HW_BP -> HardwareBreakpoint, KVM_HW_WP_WRITE -> Watchpoint; an
/// unknown type -> StepDone when stepping, else NotDebug. SIEIC: the
/// intercept of the instruction in use (0x2c/ipa 0 for 0x0000, 0x04/DIAG
/// function 0x501 for DIAG) at pc = psw_addr - length -> SoftwareBreakpoint
/// if the table has pc, else ReflectOperation{pc, length}. Other
/// intercepts -> NotDebug.
DebugEvent classify_exit(const ExitInfo& info);

// ---- program interruption (z/Architecture Principles of Operation,
// chapter 6 "Interruptions": "Program Interruption", "Operation Exception")

inline constexpr std::uint16_t kPgmOperation = 0x0001;
inline constexpr std::uint64_t kLowcoreIlcCode = 0x8c;  ///< 4 bytes: 0, ILC<<1, code (2)
inline constexpr std::uint64_t kLowcorePgmOldPsw = 0x150;
inline constexpr std::uint64_t kLowcorePgmNewPsw = 0x1d0;

struct Psw {
    std::uint64_t mask = 0;
    std::uint64_t addr = 0;
    bool operator==(const Psw&) const = default;
};

/// What the machine does, as state changes, for a program interruption
/// with `code` caused by an instruction of `ilen` bytes at `insn_addr`:
/// the operation exception SUPPRESSES the instruction, so the old PSW
/// points to the NEXT instruction (insn_addr + ilen).
///   lowcore 0x8c..0x8f <- 00, ILC<<1 (ILC = ilen/2), code (big-endian)
///   lowcore 0x150..0x15f <- old PSW (mask, address), big-endian
///   PSW <- lowcore 0x1d0..0x1df (program new PSW)
/// `lowcore` is the vCPU's 512+ bytes at its prefix (real address 0).
/// KVM does exactly this when the adaptor injects KVM_S390_PROGRAM_INT
/// with ILC valid; this function states and tests it.
/// Errors: EINVAL for ilen not 2, 4 or 6, or a lowcore shorter than 0x1e0.
Result<Psw> program_interruption(std::span<std::uint8_t> lowcore, const Psw& current, std::uint64_t insn_addr,
                                 unsigned ilen, std::uint16_t code);

}  // namespace kvmdbg::arch::s390x
