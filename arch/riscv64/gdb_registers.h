// The riscv64 vCPU state kvmdbg shows gdb, and its g packet in the layout
// of gdb's RISC-V features (gdb manual "RISC-V Features"; QEMU's
// gdb-xml/riscv-64bit-cpu.xml and -fpu.xml; the description is
// gdbstub-glue/riscv64_target.h, tested against this file):
//
//   num    register          bytes offset feature / from Riscv64State
//   0-31   zero ra sp .. t6    8     0    org.gnu.gdb.riscv.cpu  x[n] (x0 reads 0)
//   32     pc                  8   256                           pc
//   33-64  f0 .. f31           8   264    org.gnu.gdb.riscv.fpu  f[n]
//   65     fflags              4   520                           fcsr[4:0]
//   66     frm                 4   524                           fcsr[7:5]
//   67     fcsr                4   528                           fcsr
//   68-76  sstatus sie stvec   8   532    org.gnu.gdb.riscv.csr  csr.* (the
//          sscratch sepc scause                                  kvm_riscv_csr
//          stval sip satp                                        order)
//                                  604 bytes in all
//
// Little-endian (RISC-V), bytes shifted explicitly on any host. A write of
// fflags or frm updates those bits of fcsr; x0 writes are ignored.
// Threads: pure, any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"

namespace kvmdbg::arch::riscv64 {

struct Riscv64Csrs {
    std::uint64_t sstatus = 0, sie = 0, stvec = 0, sscratch = 0, sepc = 0, scause = 0, stval = 0, sip = 0, satp = 0;
};

struct Riscv64State {
    std::uint64_t x[32] = {};
    std::uint64_t pc = 0;
    std::uint64_t f[32] = {};
    std::uint32_t fcsr = 0;
    Riscv64Csrs csr;
};

inline constexpr unsigned kGdbRegisterCount = 77;
inline constexpr std::size_t kGdbRegistersSize = 604;
inline constexpr unsigned kGdbRegPc = 32;
inline constexpr unsigned kGdbRegSp = 2;
inline constexpr unsigned kGdbRegFp = 8;  ///< s0

std::size_t gdb_register_size(unsigned regnum);

std::vector<std::uint8_t> gdb_registers_from_state(const Riscv64State& state);

/// Errors: EINVAL for a wrong size (state unchanged).
Status gdb_registers_to_state(std::span<const std::uint8_t> bytes, Riscv64State& state);

/// Errors: EINVAL for an unknown number.
Result<std::vector<std::uint8_t>> gdb_register_read(const Riscv64State& state, unsigned regnum);

/// Errors: EINVAL for an unknown number or a value of the wrong size.
Status gdb_register_write(Riscv64State& state, unsigned regnum, std::span<const std::uint8_t> value);

}  // namespace kvmdbg::arch::riscv64
