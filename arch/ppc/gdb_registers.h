// The e500 (32-bit BookE) vCPU state kvmdbg shows gdb, and its g packet in
// the layout of gdb's org.gnu.gdb.power.core feature (gdb manual "PowerPC
// Features"; the description is gdbstub-glue/ppc_target.h, which tests check
// against this file register for register):
//
//   num    register   bytes  offset  from PpcE500State
//   0-31   r0 .. r31    4      0     gpr[n]
//   32     pc           4    128     pc  (NIP)
//   33     msr          4    132     msr
//   34     cr           4    136     cr
//   35     lr           4    140     lr
//   36     ctr          4    144     ctr
//   37     xer          4    148     xer
//                            152 bytes in all
//
// Every value is BIG-ENDIAN in the packet (e500 is a big-endian core), on
// any host: bytes are shifted out explicitly, never memcpy'd. The kernel's
// struct kvm_regs holds them as __u64; the e500 registers are 32 bits and
// the upper half is dropped (gpr) or kept (a write changes the low 32 only).
// e500 has no classic FPU (SPE instead): no fpu feature is described.
//
// Threads: pure, any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"

namespace kvmdbg::arch::ppc {

/// The registers gdb sees, as the KVM adaptor fills them from kvm_regs.
struct PpcE500State {
    std::uint64_t gpr[32] = {};
    std::uint64_t pc = 0, msr = 0, cr = 0, lr = 0, ctr = 0, xer = 0;
};

inline constexpr unsigned kGdbRegisterCount = 38;
inline constexpr std::size_t kGdbRegistersSize = 152;
inline constexpr unsigned kGdbRegPc = 32;
inline constexpr unsigned kGdbRegR1 = 1;  ///< stack pointer by ABI

/// The whole g packet.
std::vector<std::uint8_t> gdb_registers_from_state(const PpcE500State& state);

/// Applies a whole g packet. Errors: EINVAL for a wrong size (state unchanged).
Status gdb_registers_to_state(std::span<const std::uint8_t> bytes, PpcE500State& state);

/// One register. Errors: EINVAL for an unknown number.
Result<std::vector<std::uint8_t>> gdb_register_read(const PpcE500State& state, unsigned regnum);

/// One register. Errors: EINVAL for an unknown number or a value that is
/// not 4 bytes (state unchanged).
Status gdb_register_write(PpcE500State& state, unsigned regnum, std::span<const std::uint8_t> value);

}  // namespace kvmdbg::arch::ppc
