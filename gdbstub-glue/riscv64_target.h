// The riscv64 (little-endian) target description: gdb's
// org.gnu.gdb.riscv.cpu, .fpu and .csr features (gdb manual "RISC-V
// Features"), numbered as arch/riscv64/gdb_registers.h:
//   0-31 zero ra sp gp tp t0-t2 fp s1 a0-a7 s2-s11 t3-t6, 32 pc (64-bit);
//   33-64 ft0.. (f0-f31, 64-bit), 65 fflags, 66 frm, 67 fcsr (32-bit);
//   68-76 sstatus sie stvec sscratch sepc scause stval sip satp (64-bit);
//   604 bytes, little-endian. Architecture "riscv:rv64".
// Pure data; any thread.
#pragma once

#include <span>
#include <string>

#include "gdbstub-glue/tdesc_xml.h"

namespace kvmdbg::gdb {

std::span<const TdescFeature> riscv64_features();
std::string riscv64_target_xml();
/// Expedited pc (32), sp (2), fp (8), little-endian.
TargetDescription riscv64_target_description();

}  // namespace kvmdbg::gdb
