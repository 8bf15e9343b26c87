// The s390x (z/Architecture, 64-bit, big-endian) target description: gdb's
// org.gnu.gdb.s390.core, .acr and .fpr features (gdb manual "S/390 and
// System z Features"; the same registers as QEMU's s390x-core64.xml,
// s390-acr.xml, s390-fpr.xml), numbered as arch/s390x/gdb_registers.h:
//   0 pswm, 1 pswa, 2-17 r0..r15 (64-bit); 18-33 acr0..acr15 (32-bit);
//   34 fpc (32-bit), 35-50 f0..f15 (64-bit); 340 bytes, big-endian.
// Architecture "s390:64-bit". Pure data; any thread.
#pragma once

#include <span>
#include <string>

#include "gdbstub-glue/tdesc_xml.h"

namespace kvmdbg::gdb {

std::span<const TdescFeature> s390x_features();
std::string s390x_target_xml();
/// Expedited pc = pswa (1), sp = r15 (17), big-endian.
TargetDescription s390x_target_description();

}  // namespace kvmdbg::gdb
