// The s390x vCPU state kvmdbg shows gdb, and its g packet in the layout of
// gdb's s390x features (gdb manual "S/390 and System z Features"; QEMU's
// gdb-xml/s390x-core64.xml, s390-acr.xml, s390-fpr.xml; the description is
// gdbstub-glue/s390x_target.h, tested against this file):
//
//   num    register    bytes  offset  feature / from S390State
//   0      pswm          8      0     org.gnu.gdb.s390.core  psw.mask
//   1      pswa          8      8                            psw.addr
//   2-17   r0 .. r15     8     16                            gprs[n]
//   18-33  acr0 .. acr15 4    144     org.gnu.gdb.s390.acr   acrs[n]
//   34     fpc           4    208     org.gnu.gdb.s390.fpr   fpc
//   35-50  f0 .. f15     8    212                            fprs[n]
//                             340 bytes in all
//
// Every value is BIG-ENDIAN (z/Architecture), on any host: the bytes are
// shifted explicitly. kvm_regs.gprs, kvm_sregs.acrs, kvm_fpu.{fpc,fprs} and
// kvm_run->psw_{mask,addr} hold the same values (s390x_kvm.cc).
//
// Threads: pure, any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"

namespace kvmdbg::arch::s390x {

struct S390State {
    std::uint64_t psw_mask = 0, psw_addr = 0;
    std::uint64_t gprs[16] = {};
    std::uint32_t acrs[16] = {};
    std::uint32_t fpc = 0;
    std::uint64_t fprs[16] = {};
};

inline constexpr unsigned kGdbRegisterCount = 51;
inline constexpr std::size_t kGdbRegistersSize = 340;
inline constexpr unsigned kGdbRegPswa = 1;
inline constexpr unsigned kGdbRegR15 = 17;  ///< stack pointer by ABI

/// Size in bytes of register `regnum`; 0 if there is none.
std::size_t gdb_register_size(unsigned regnum);

std::vector<std::uint8_t> gdb_registers_from_state(const S390State& state);

/// Errors: EINVAL for a wrong size (state unchanged).
Status gdb_registers_to_state(std::span<const std::uint8_t> bytes, S390State& state);

/// Errors: EINVAL for an unknown number.
Result<std::vector<std::uint8_t>> gdb_register_read(const S390State& state, unsigned regnum);

/// Errors: EINVAL for an unknown number or a value of the wrong size.
Status gdb_register_write(S390State& state, unsigned regnum, std::span<const std::uint8_t> value);

}  // namespace kvmdbg::arch::s390x
