// The x86-64 target description: register numbering, sizes and the XML
// gdb reads with qXfer:features:read:target.xml (gdb manual, "Target
// Description Format", "i386 Features"). The layout is QEMU's
// gdb-xml/i386-64bit.xml, register for register, so a g reply has exactly
// the size gdb expects for it:
//
//   num  name                  bits   g offset
//   0-15 rax rbx rcx rdx rsi rdi   64   0    (rbp = 6, rsp = 7: gdb's order,
//        rbp rsp r8 .. r15                   not the kernel's)
//   16   rip                   64   128
//   17   eflags                32   136
//   18-23 cs ss ds es fs gs    32   140  (selectors, zero-extended)
//   24-26 fs_base gs_base k_gs_base 64 164
//   27-32 cr0 cr2 cr3 cr4 cr8 efer 64 188
//   33-40 st0 .. st7           80   236  (10 bytes each)
//   41-48 fctrl fstat ftag fiseg fioff foseg fooff fop 32  316
//   49-64 xmm0 .. xmm15        128  348
//   65   mxcsr                 32   604
//                              total 608 bytes
//
// Everything sits in feature org.gnu.gdb.i386.core, architecture
// i386:x86-64, as QEMU sends it. The arch-side converter between this layout
// and KvmdbgX86State is arch/x86/gdb_registers.h (it may not depend on this
// folder; tests check the two agree). Pure data; any thread.
#pragma once

#include <span>
#include <string>

#include "gdbstub-glue/target_description.h"

namespace kvmdbg::gdb {

namespace x86_64 {
enum Reg : unsigned {
    kRax = 0,
    kRbp = 6,
    kRsp = 7,
    kRip = 16,
    kEflags = 17,
    kCs = 18,
    kFsBase = 24,
    kCr0 = 27,
    kSt0 = 33,
    kFctrl = 41,
    kXmm0 = 49,
    kMxcsr = 65,
    kRegisterCount = 66,
};
inline constexpr unsigned kRegistersSize = 608;
}  // namespace x86_64

/// One <reg> of the description.
struct RegisterInfo {
    const char* name;
    unsigned bitsize;
    const char* type;
    const char* group;  ///< nullptr: gdb's default group
};

/// The registers in number order (x86_64::kRegisterCount entries).
std::span<const RegisterInfo> x86_64_registers();

/// The target.xml document.
std::string x86_64_target_xml();

/// Sizes from x86_64_registers(), annex "target.xml", expedited rip/rsp/rbp,
/// little-endian.
TargetDescription x86_64_target_description();

}  // namespace kvmdbg::gdb
