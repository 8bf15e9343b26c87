// The AArch64 target description: register numbering, sizes and the XML
// documents gdb reads with qXfer:features:read (gdb manual, "Target
// Description Format", "AArch64 Features"). The core and fpu features are
// gdb's own features/aarch64-core.xml and aarch64-fpu.xml, register for
// register (gdb requires exactly these names in these features); the
// system registers are an extra feature gdb shows as ordinary registers:
//
//   num    name                 bits  type       feature
//   0-30   x0 .. x30             64   int        org.gnu.gdb.aarch64.core
//   31     sp                    64   data_ptr
//   32     pc                    64   code_ptr
//   33     cpsr                  32   cpsr_flags
//   34-65  v0 .. v31            128   aarch64v   org.gnu.gdb.aarch64.fpu
//   66     fpsr                  32   int
//   67     fpcr                  32   int
//   68-78  sctlr_el1 tcr_el1     64   uint64     org.kvmdbg.aarch64.sys
//          ttbr0_el1 ttbr1_el1                   (group "system")
//          vbar_el1 esr_el1 far_el1
//          elr_el1 spsr_el1 mdscr_el1 mair_el1
//   79-80  sp_el0 sp_el1         64   data_ptr
//                                     total 892 bytes, little-endian
//
// Annexes: "target.xml" (architecture aarch64, xi:include of the three
// below), "aarch64-core.xml", "aarch64-fpu.xml", "aarch64-sys.xml".
// Expedited in stop replies: pc (32), sp (31), fp = x29 (29).
// The arch-side converter between this layout and KvmdbgArm64State is
// arch/arm64/gdb_registers.h (it may not depend on this folder; tests check
// the two agree). Pure data; any thread.
#pragma once

#include <span>
#include <string>

#include "gdbstub-glue/target_description.h"

namespace kvmdbg::gdb {

namespace aarch64 {
enum Reg : unsigned {
    kX0 = 0,
    kFp = 29,
    kLr = 30,
    kSp = 31,
    kPc = 32,
    kCpsr = 33,
    kV0 = 34,
    kFpsr = 66,
    kFpcr = 67,
    kSctlrEl1 = 68,
    kSpEl0 = 79,
    kSpEl1 = 80,
    kRegisterCount = 81,
};
inline constexpr unsigned kRegistersSize = 892;

/// One <reg> of the description.
struct Register {
    const char* name;
    unsigned bitsize;
    const char* type;   ///< nullptr: gdb's default (int of bitsize)
    const char* group;  ///< nullptr: gdb's default group
};

/// The registers in number order (kRegisterCount entries).
std::span<const Register> registers();

/// The documents: the root and the three features.
std::string target_xml();
std::string core_xml();
std::string fpu_xml();
std::string sys_xml();
}  // namespace aarch64

/// Sizes from aarch64::registers(), the four annexes, expedited pc/sp/x29,
/// little-endian.
TargetDescription aarch64_target_description();

}  // namespace kvmdbg::gdb
