// Conversion between KvmdbgArm64State and the gdb register layout of the
// aarch64 target description (gdb's features/aarch64-core.xml and
// aarch64-fpu.xml, numbered as gdb's aarch64-tdep.h does, plus kvmdbg's
// system-register feature). The description itself is
// gdbstub-glue/aarch64_target.h, which this file must not include (arch/
// sits below gdbstub-glue/); tests/unit/gdbstub/test_aarch64_target.cc
// checks that both agree register for register. The accelerator's
// per-register p/P path uses these numbers too. Pure; any thread.
//
//   num    register   bytes  feature / from KvmdbgArm64State
//   0-30   x0 .. x30    8    org.gnu.gdb.aarch64.core   x[n]
//   31     sp           8      the stack pointer PSTATE selects:
//                              EL1h (M[0] = 1, EL >= 1) -> sp_el1,
//                              EL0 / EL1t -> sp_el0; a write goes there too
//   32     pc           8      pc
//   33     cpsr         4      low 32 bits of pstate (a write keeps bits 63:32)
//   34-65  v0 .. v31   16    org.gnu.gdb.aarch64.fpu    v[n], byte for byte
//   66     fpsr         4      fpsr
//   67     fpcr         4      fpcr
//   68     sctlr_el1    8    org.kvmdbg.aarch64.sys     sctlr_el1
//   69     tcr_el1      8      tcr_el1
//   70     ttbr0_el1    8      ttbr0_el1
//   71     ttbr1_el1    8      ttbr1_el1
//   72     vbar_el1     8      vbar_el1
//   73     esr_el1      8      esr_el1
//   74     far_el1      8      far_el1
//   75     elr_el1      8      elr_el1
//   76     spsr_el1     8      spsr_el1
//   77     mdscr_el1    8      mdscr_el1
//   78     mair_el1     8      mair_el1
//   79     sp_el0       8      sp_el0   (the banked stack pointers, so that
//   80     sp_el1       8      sp_el1    both are visible in any mode)
//
// All values little-endian; 31*8 + 8 + 8 + 4 + 32*16 + 4 + 4 + 13*8 = 892
// bytes in all. In a G packet, sp_el0/sp_el1 (79, 80) are applied first and
// `sp` (31) last, but only if it differs from the value the g packet read
// would have produced (so a G that changed sp_el1 in EL0 is not undone by
// an unchanged sp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "arch/arm64/cpu_state.h"
#include "common/result.h"

namespace kvmdbg::arch::arm64 {

inline constexpr unsigned kGdbRegX0 = 0;
inline constexpr unsigned kGdbRegFp = 29;  ///< x29
inline constexpr unsigned kGdbRegLr = 30;  ///< x30
inline constexpr unsigned kGdbRegSp = 31;
inline constexpr unsigned kGdbRegPc = 32;
inline constexpr unsigned kGdbRegCpsr = 33;
inline constexpr unsigned kGdbRegV0 = 34;
inline constexpr unsigned kGdbRegFpsr = 66;
inline constexpr unsigned kGdbRegFpcr = 67;
inline constexpr unsigned kGdbRegSctlr = 68;
inline constexpr unsigned kGdbRegMairEl1 = 78;
inline constexpr unsigned kGdbRegSpEl0 = 79;
inline constexpr unsigned kGdbRegSpEl1 = 80;
inline constexpr unsigned kGdbRegisterCount = 81;
inline constexpr std::size_t kGdbRegistersSize = 892;

/// The current stack pointer as gdb's `sp` shows it, and its setter.
std::uint64_t current_sp(const KvmdbgArm64State& state);
void set_current_sp(KvmdbgArm64State& state, std::uint64_t value);

/// Size in bytes of gdb register `regnum`; 0 if there is no such register.
std::size_t gdb_register_size(unsigned regnum);

/// Offset of gdb register `regnum` in the g packet (kGdbRegistersSize past
/// the end).
std::size_t gdb_register_offset(unsigned regnum);

/// The whole g packet for `state`.
std::vector<std::uint8_t> gdb_registers_from_state(const KvmdbgArm64State& state);

/// Applies a whole g packet to `state` (see the sp rule above).
/// Errors: EINVAL if bytes.size() != kGdbRegistersSize (state unchanged).
Status gdb_registers_to_state(std::span<const std::uint8_t> bytes, KvmdbgArm64State& state);

/// One register. Errors: EINVAL for an unknown number.
Result<std::vector<std::uint8_t>> gdb_register_read(const KvmdbgArm64State& state, unsigned regnum);

/// Writes one register. Errors: EINVAL for an unknown number or a value of
/// the wrong size (state unchanged).
Status gdb_register_write(KvmdbgArm64State& state, unsigned regnum, std::span<const std::uint8_t> value);

}  // namespace kvmdbg::arch::arm64
