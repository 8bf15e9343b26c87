// Adaptor between arch/riscv64's plain structs and the riscv kernel ABI
// (arch/riscv/include/uapi/asm/kvm.h): kvm_guest_debug (empty arch part),
// and the ONE_REG ids of the core registers (pc, mode, x1-x31), the
// supervisor CSRs of struct kvm_riscv_csr and the D-extension registers.
// Documentation/virt/kvm/api.rst "KVM_SET_ONE_REG" (RISC-V registers),
// "KVM_SET_GUEST_DEBUG".
//
// C++ ABI trap, pinned by static_asserts below: the riscv
// kvm_guest_debug_arch is an EMPTY struct. In C it has size 0 and
// sizeof(struct kvm_guest_debug) == 8, which is what the kernel's ioctl
// number encodes; in C++ an empty struct has size 1, so C++'s
// KVM_SET_GUEST_DEBUG macro encodes 12 and the kernel answers ENOTTY.
// Use kSetGuestDebugIoctl (the C number), and pass kvm_guest_debug, whose
// first 8 bytes are all the kernel reads.
//
// Compiled where <linux/kvm.h> is the riscv one (the cross suite compiles
// it with riscv64-linux-gnu-g++ against linux-libc-dev-riscv64-cross).
// Threads: pure; the ioctls are the caller's (vCPU thread).
#pragma once

#include <linux/kvm.h>

#include <cstdint>

#include "arch/riscv64/debug.h"
#include "arch/riscv64/gdb_registers.h"

namespace kvmdbg::arch::riscv64 {

/// _IOW(KVMIO, 0x9b, <8 bytes>): the number the kernel expects.
inline constexpr unsigned long kSetGuestDebugIoctl = _IOC(_IOC_WRITE, KVMIO, 0x9b, 8);

/// ONE_REG ids: KVM_REG_RISCV | KVM_REG_SIZE_U64 | type | index.
inline constexpr std::uint64_t kRegRiscv = 0x8000000000000000ull;
inline constexpr std::uint64_t kRegSizeU64 = 0x0030000000000000ull;
inline constexpr std::uint64_t kRegTypeCore = 0x02ull << 24;
inline constexpr std::uint64_t kRegTypeCsr = 0x03ull << 24;
inline constexpr std::uint64_t kRegTypeFpD = 0x06ull << 24;

/// Core register `index` (0 pc, 1-31 x1-x31 in kvm_riscv_core order, 32 mode).
constexpr std::uint64_t core_reg_id(unsigned index) { return kRegRiscv | kRegSizeU64 | kRegTypeCore | index; }
/// CSR `index` in struct kvm_riscv_csr order (0 sstatus .. 8 satp).
constexpr std::uint64_t csr_reg_id(unsigned index) { return kRegRiscv | kRegSizeU64 | kRegTypeCsr | index; }
/// D-extension f[index] (0-31); fcsr (index 32) is a 32-bit register.
constexpr std::uint64_t fp_d_reg_id(unsigned index) { return kRegRiscv | kRegSizeU64 | kRegTypeFpD | index; }

inline constexpr unsigned kCoreRegPc = 0;
inline constexpr unsigned kCoreRegMode = 32;
inline constexpr unsigned kCsrSstatus = 0, kCsrStvec = 2, kCsrSepc = 4, kCsrScause = 5, kCsrStval = 6;

/// The whole kvm_guest_debug (only `control`: the arch part is empty).
void to_kvm(std::uint32_t control, kvm_guest_debug& out);

/// TrapState from the one_reg values the adaptor's caller read.
TrapState trap_state_from_kvm(const kvm_riscv_core& core, const kvm_riscv_csr& csr);
/// Writes the fields apply_breakpoint_trap changes back (pc, mode,
/// sstatus, sepc, scause, stval); set them with KVM_SET_ONE_REG.
void trap_state_to_kvm(const TrapState& in, kvm_riscv_core& core, kvm_riscv_csr& csr);

/// gdb-visible registers from kvm_riscv_core / kvm_riscv_csr / the D state.
void from_kvm(const kvm_riscv_core& core, const kvm_riscv_csr& csr, const __riscv_d_ext_state& fp, Riscv64State& out);

}  // namespace kvmdbg::arch::riscv64
