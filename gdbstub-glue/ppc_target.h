// The ppc e500 (32-bit BookE, big-endian) target description: gdb's
// org.gnu.gdb.power.core feature (gdb manual "PowerPC Features"), the
// registers of arch/ppc/gdb_registers.h in the same order:
//   0-31 r0..r31, 32 pc, 33 msr, 34 cr, 35 lr, 36 ctr, 37 xer; 32 bits
//   each, 152 bytes, big-endian. Architecture "powerpc:e500".
// Pure data; any thread.
#pragma once

#include <span>
#include <string>

#include "gdbstub-glue/tdesc_xml.h"

namespace kvmdbg::gdb {

std::span<const TdescFeature> ppc_e500_features();
std::string ppc_e500_target_xml();
/// Expedited pc (32) and sp (r1), big-endian.
TargetDescription ppc_e500_target_description();

}  // namespace kvmdbg::gdb
