// Adaptor between KvmdbgArm64State and KVM's arm64 ONE_REG register space.
//
// arm64 KVM has no KVM_GET_REGS-style bulk ioctl for the whole state: every
// register is read and written one at a time with KVM_GET_ONE_REG /
// KVM_SET_ONE_REG (Documentation/virt/kvm/api.rst 4.68 "KVM_SET_ONE_REG",
// section "ARM64 registers"). A register id is
//
//   63    60 59  56 55   52 51          32 31    16 15              0
//  +--------+------+-------+--------------+--------+-----------------+
//  | ARCH   | 0    | SIZE  |      0       | COPROC |     index       |
//  | 0x6    |      | 2=u32 |              | 0x0010 | core: offset in |
//  | ARM64  |      | 3=u64 |              | core   | struct kvm_regs |
//  |        |      | 4=u128|              | 0x0013 | / 4; sysreg:    |
//  |        |      |       |              | sysreg | op0 op1 CRn CRm |
//  |        |      |       |              |        | op2 (2,3,4,4,3) |
//  +--------+------+-------+--------------+--------+-----------------+
//
// Core registers (KVM_REG_ARM_CORE, offsets into the merged uapi struct
// kvm_regs { user_pt_regs regs {regs[31], sp, pc, pstate}; sp_el1; elr_el1;
// spsr[5]; user_fpsimd_state fp_regs {vregs[32] (u128), fpsr, fpcr} }) and
// the EL1 system registers of cpu_state.h (ARM64_SYS_REG(op0, op1, CRn,
// CRm, op2)). The ids come from the real <asm/kvm.h> macros
// (KVM_REG_ARM_CORE_REG, ARM64_SYS_REG), never from hand-written numbers.
//
// Compiled only into the KVM module of an arm64 host (the only arch/arm64
// file that includes <linux/kvm.h>).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "arch/arm64/cpu_state.h"

namespace kvmdbg::arch::arm64 {

/// One ONE_REG register and where it lives in KvmdbgArm64State.
struct OneRegField {
    std::uint64_t id;    ///< KVM register id
    std::size_t offset;  ///< byte offset in KvmdbgArm64State
    std::size_t size;    ///< 4, 8 or 16 bytes (matches the id's size field)
    const char* name;    ///< for error messages ("pc", "v7", "tcr_el1")
};

/// Every register of KvmdbgArm64State, in the order they are loaded: core
/// registers, FP/SIMD, then the system registers.
std::span<const OneRegField> arm64_one_regs();

/// Ids of the registers the guest-debug core reads and writes one by one
/// (reflection, DAIF around a step).
namespace reg_id {
std::uint64_t pc();
std::uint64_t pstate();
std::uint64_t elr_el1();
std::uint64_t spsr_el1();
std::uint64_t esr_el1();
std::uint64_t far_el1();
std::uint64_t vbar_el1();
std::uint64_t sctlr_el1();
/// ID_AA64MMFR1_EL1 (PAN, VH ...), ID_AA64PFR1_EL1 (SSBS, MTE), ID_AA64MMFR2_EL1 (UAO).
std::uint64_t id_aa64mmfr1_el1();
std::uint64_t id_aa64mmfr2_el1();
std::uint64_t id_aa64pfr1_el1();
}  // namespace reg_id

}  // namespace kvmdbg::arch::arm64
