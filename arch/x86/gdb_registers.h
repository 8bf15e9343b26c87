// Conversion between KvmdbgX86State and the gdb register layout of the
// x86-64 target description (QEMU's gdb-xml/i386-64bit.xml order; the
// description itself is gdbstub-glue/x86_64_target.h, which this file must
// not include: arch/ sits below gdbstub-glue/. tests/unit/gdbstub checks
// that both agree register for register). Pure; any thread.
//
//   num    register          bytes  from KvmdbgX86State
//   0-7    rax rbx rcx rdx     8    gpr[RAX RBX RCX RDX RSI RDI RBP RSP]
//          rsi rdi rbp rsp          (gdb puts rbp before rsp; the kernel
//                                   order is rsp, rbp)
//   8-15   r8 .. r15           8    gpr[R8..R15]
//   16     rip                 8    rip
//   17     eflags              4    low 32 bits of rflags (upper bits are
//                                   reserved zero; a write clears them)
//   18-23  cs ss ds es fs gs   4    segment selector, zero-extended; a write
//                                   changes the selector only, not the
//                                   descriptor cache (base/limit/attributes)
//   24-26  fs_base gs_base     8    fs.base, gs.base, kernel_gs_base
//          k_gs_base
//   27-32  cr0 cr2 cr3 cr4     8    cr0 cr2 cr3 cr4 cr8 efer
//          cr8 efer
//   33-40  st0 .. st7         10    fpr[i] bytes 0-9 (FXSAVE order: ST(i))
//   41     fctrl               4    fcw
//   42     fstat               4    fsw
//   43     ftag                4    full 16-bit tag word rebuilt from the
//                                   abridged FXSAVE tag (Intel SDM Vol. 1
//                                   10.5.1.1) and the register contents;
//                                   a write keeps "empty" (11) vs not
//   44     fiseg               4    last_ip bits 63:32 (64-bit FXSAVE
//   45     fioff               4    last_ip bits 31:0   format: gdb's amd64
//   46     foseg               4    last_dp bits 63:32  fxsave offsets)
//   47     fooff               4    last_dp bits 31:0
//   48     fop                 4    last_opcode & 0x7ff
//   49-64  xmm0 .. xmm15      16    xmm[i]
//   65     mxcsr               4    mxcsr
//
// All values little-endian; 608 bytes in all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "arch/x86/cpu_state.h"
#include "common/result.h"

namespace kvmdbg::arch::x86 {

inline constexpr unsigned kGdbRegisterCount = 66;
inline constexpr std::size_t kGdbRegistersSize = 608;
inline constexpr unsigned kGdbRegRip = 16;
inline constexpr unsigned kGdbRegRsp = 7;
inline constexpr unsigned kGdbRegRbp = 6;

/// Real mode (CR0.PE = 0) and virtual-8086 mode (RFLAGS.VM): gdb's `pc` is
/// the LINEAR address CS.base + IP, so that `x/i $pc`, breakpoints on
/// addresses and the stop pc (KVM reports linear pcs) agree; gdb itself
/// never adds CS*16. Writing `pc` sets IP = pc - CS.base (CS is unchanged).
/// In protected and long mode `pc` is RIP (flat code segments).
bool segmented_pc(const KvmdbgX86State& state);
std::uint64_t gdb_pc_from_rip(const KvmdbgX86State& state);
std::uint64_t rip_from_gdb_pc(const KvmdbgX86State& state, std::uint64_t pc);

/// Size in bytes of gdb register `regnum`; 0 if there is no such register.
std::size_t gdb_register_size(unsigned regnum);

/// Offset of gdb register `regnum` in the g packet (kGdbRegistersSize past
/// the end).
std::size_t gdb_register_offset(unsigned regnum);

/// The whole g packet for `state`.
std::vector<std::uint8_t> gdb_registers_from_state(const KvmdbgX86State& state);

/// Applies a whole g packet to `state`. Fields gdb does not see (segment
/// caches, descriptor tables, debug registers, apic_base) are kept.
/// Errors: EINVAL if bytes.size() != kGdbRegistersSize (state unchanged).
Status gdb_registers_to_state(std::span<const std::uint8_t> bytes, KvmdbgX86State& state);

/// One register. Errors: EINVAL for an unknown number.
Result<std::vector<std::uint8_t>> gdb_register_read(const KvmdbgX86State& state, unsigned regnum);

/// Writes one register. Errors: EINVAL for an unknown number or a value of
/// the wrong size (state unchanged).
Status gdb_register_write(KvmdbgX86State& state, unsigned regnum, std::span<const std::uint8_t> value);

/// The full x87 tag word (2 bits per physical register: 00 valid, 01 zero,
/// 10 special, 11 empty) from the abridged FXSAVE tag byte, the TOP field of
/// `fsw` and the ST(i) contents.
std::uint16_t x87_full_tag_word(const KvmdbgX86State& state);

/// The abridged tag byte (bit i set: physical register i not empty) of a
/// full tag word.
std::uint8_t x87_abridged_tag(std::uint16_t full_tag);

}  // namespace kvmdbg::arch::x86
