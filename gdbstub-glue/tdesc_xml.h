// A target description built from tables: one <feature> per table, its
// <reg>s in order, numbered from 0 without gaps (the numbering `p`/`P` and
// the g packet use), plus the matching TargetDescription (sizes, annex,
// expedited registers, byte order). Used by the ppc, s390x and riscv64
// descriptions; x86_64_target.cc keeps its own writer for its flags types.
// gdb manual "Target Description Format", "Standard Target Features".
// Pure; any thread.
#pragma once

#include <bit>
#include <span>
#include <string>

#include "gdbstub-glue/target_description.h"

namespace kvmdbg::gdb {

/// One <reg>. `type` must be one of gdb's predefined types (int32, int64,
/// uint32, uint64, code_ptr, data_ptr, ieee_double, int, ...).
struct TdescReg {
    const char* name;
    unsigned bitsize;
    const char* type;
    const char* group;  ///< nullptr: gdb's default group
};

struct TdescFeature {
    const char* name;  ///< e.g. "org.gnu.gdb.s390.core"
    std::span<const TdescReg> regs;
};

/// The target.xml document.
std::string build_target_xml(const char* architecture, std::span<const TdescFeature> features);

/// Sizes (bitsize / 8) in table order, annex "target.xml".
TargetDescription build_target_description(const char* architecture, std::span<const TdescFeature> features,
                                           TargetDescription::Expedited expedited, std::endian byte_order);

}  // namespace kvmdbg::gdb
