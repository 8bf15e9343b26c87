/*
 * The arm64 vCPU state layout of the accelerator plugin ABI
 * (accel/plugin_abi.h): the blob get_cpu_state/set_cpu_state carry with the
 * tag KVMDBG_ARCH_ARM64, and KvmdbgEvent.state of an arm64 VM.
 *
 * The layout is KvmdbgArm64State (arch/arm64/cpu_state.h). The struct stays
 * in arch/arm64, where the ISA's pure code (register conversion, page walk,
 * debug registers) uses it on any host and which may not depend on accel/;
 * this header makes it part of the ABI by pinning its size and the offsets
 * of its fields at compile time, so a change of the struct that would
 * change what crosses the boundary fails to build until
 * KVMDBG_ACCEL_ABI_VERSION and these numbers move with it.
 *
 *   offset  field              offset  field
 *   0       x[31]              792     fpsr
 *   248     sp_el0             796     fpcr
 *   256     sp_el1             800     sctlr_el1 tcr_el1 ttbr0_el1 ttbr1_el1
 *   264     pc                         vbar_el1 esr_el1 far_el1 elr_el1
 *   272     pstate                     spsr_el1 mdscr_el1
 *   280     v[32][16]          880     mair_el1
 *                              888     (size)
 *
 * C99, C11 and C++; no other dependency.
 */
#ifndef KVMDBG_ACCEL_PLUGIN_ABI_ARM64_H
#define KVMDBG_ACCEL_PLUGIN_ABI_ARM64_H

#include <stddef.h>

/* Quoted includes are looked up next to this file first, then on the
 * include path, so both layouts work: installed (docs/sdk.md), both files
 * sit next to it as <kvmdbg/plugin_abi.h> and
 * <kvmdbg/arch/arm64/cpu_state.h>; in the source tree, plugin_abi.h is
 * next to it in accel/ and arch/ is found from the top directory. */
#include "arch/arm64/cpu_state.h"
#include "plugin_abi.h"

/* static_assert in C++, _Static_assert in C11; C99 has neither, so there a
 * false condition declares an array of negative size (named by the line). */
#ifdef __cplusplus
#define KVMDBG_ABI_ARM64_ASSERT(cond, msg) static_assert(cond, msg)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define KVMDBG_ABI_ARM64_ASSERT(cond, msg) _Static_assert(cond, msg)
#else
#define KVMDBG_ABI_ARM64_NAME2(a, b) a##b
#define KVMDBG_ABI_ARM64_NAME(a, b) KVMDBG_ABI_ARM64_NAME2(a, b)
#define KVMDBG_ABI_ARM64_ASSERT(cond, msg) \
    typedef char KVMDBG_ABI_ARM64_NAME(kvmdbg_abi_arm64_assert_line_, __LINE__)[(cond) ? 1 : -1]
#endif

/* Bytes of the arm64 state blob. */
#define KVMDBG_ARM64_STATE_SIZE 888u

KVMDBG_ABI_ARM64_ASSERT(sizeof(KvmdbgArm64State) == KVMDBG_ARM64_STATE_SIZE,
                        "KvmdbgArm64State changed size: bump KVMDBG_ACCEL_ABI_VERSION");
KVMDBG_ABI_ARM64_ASSERT(offsetof(KvmdbgArm64State, sp_el0) == 248, "KvmdbgArm64State.sp_el0 moved");
KVMDBG_ABI_ARM64_ASSERT(offsetof(KvmdbgArm64State, pc) == 264, "KvmdbgArm64State.pc moved");
KVMDBG_ABI_ARM64_ASSERT(offsetof(KvmdbgArm64State, pstate) == 272, "KvmdbgArm64State.pstate moved");
KVMDBG_ABI_ARM64_ASSERT(offsetof(KvmdbgArm64State, v) == 280, "KvmdbgArm64State.v moved");
KVMDBG_ABI_ARM64_ASSERT(offsetof(KvmdbgArm64State, fpsr) == 792, "KvmdbgArm64State.fpsr moved");
KVMDBG_ABI_ARM64_ASSERT(offsetof(KvmdbgArm64State, sctlr_el1) == 800, "KvmdbgArm64State.sctlr_el1 moved");
KVMDBG_ABI_ARM64_ASSERT(offsetof(KvmdbgArm64State, mair_el1) == 880, "KvmdbgArm64State.mair_el1 moved");

#undef KVMDBG_ABI_ARM64_ASSERT
#undef KVMDBG_ABI_ARM64_NAME
#undef KVMDBG_ABI_ARM64_NAME2

#endif /* KVMDBG_ACCEL_PLUGIN_ABI_ARM64_H */
