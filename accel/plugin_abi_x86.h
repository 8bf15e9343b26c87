/*
 * The x86-64 vCPU state layout of the accelerator plugin ABI
 * (accel/plugin_abi.h): the blob get_cpu_state/set_cpu_state carry with the
 * tag KVMDBG_ARCH_X86_64, and KvmdbgEvent.state of an x86-64 VM; and the
 * in-kernel interrupt controllers' layouts that get_irqchip copies (at the
 * end of this file).
 *
 * The layout is KvmdbgX86State (arch/x86/cpu_state.h). The struct stays in
 * arch/x86, where the ISA's pure code (register conversion, page walk,
 * debug-register merge) uses it on any host and which may not depend on
 * accel/; this header makes it part of the ABI by pinning its size and the
 * offsets of its fields at compile time, so a change of the struct that
 * would change what crosses the boundary fails to build until
 * KVMDBG_ACCEL_ABI_VERSION and these numbers move with it.
 *
 *   offset  field                          offset  field
 *   0       gpr[16] (struct kvm_regs order) 480     fpr[8][16] (ST0..7)
 *   128     rip                            608     fcw fsw ftwx
 *   136     rflags                         614     last_opcode
 *   144     cs ds es fs gs ss tr ldt       616     last_ip last_dp
 *   336     gdt idt                        632     xmm[16][16]
 *   368     cr0 cr2 cr3 cr4 cr8 efer       888     mxcsr
 *           apic_base kernel_gs_base       896     (size)
 *   432     dr[4] dr6 dr7
 *
 * C99, C11 and C++; no other dependency.
 */
#ifndef KVMDBG_ACCEL_PLUGIN_ABI_X86_H
#define KVMDBG_ACCEL_PLUGIN_ABI_X86_H

#include <stddef.h>

/* Quoted includes are looked up next to this file first, then on the
 * include path, so both layouts work: installed (docs/sdk.md), all three
 * files sit next to it as <kvmdbg/plugin_abi.h> and
 * <kvmdbg/arch/x86/...>; in the source tree, plugin_abi.h is next to it in
 * accel/ and arch/ is found from the top directory. */
#include "arch/x86/cpu_state.h"
#include "arch/x86/irqchip_state.h"
#include "plugin_abi.h"

/* static_assert in C++, _Static_assert in C11; C99 has neither, so there a
 * false condition declares an array of negative size (named by the line). */
#ifdef __cplusplus
#define KVMDBG_ABI_X86_ASSERT(cond, msg) static_assert(cond, msg)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define KVMDBG_ABI_X86_ASSERT(cond, msg) _Static_assert(cond, msg)
#else
#define KVMDBG_ABI_X86_NAME2(a, b) a##b
#define KVMDBG_ABI_X86_NAME(a, b) KVMDBG_ABI_X86_NAME2(a, b)
#define KVMDBG_ABI_X86_ASSERT(cond, msg) \
    typedef char KVMDBG_ABI_X86_NAME(kvmdbg_abi_x86_assert_line_, __LINE__)[(cond) ? 1 : -1]
#endif

/* Bytes of the x86-64 state blob. */
#define KVMDBG_X86_64_STATE_SIZE 896u

KVMDBG_ABI_X86_ASSERT(sizeof(KvmdbgX86State) == KVMDBG_X86_64_STATE_SIZE,
                      "KvmdbgX86State changed size: bump KVMDBG_ACCEL_ABI_VERSION");
KVMDBG_ABI_X86_ASSERT(offsetof(KvmdbgX86State, rip) == 128, "KvmdbgX86State.rip moved");
KVMDBG_ABI_X86_ASSERT(offsetof(KvmdbgX86State, cs) == 144, "KvmdbgX86State.cs moved");
KVMDBG_ABI_X86_ASSERT(offsetof(KvmdbgX86State, gdt) == 336, "KvmdbgX86State.gdt moved");
KVMDBG_ABI_X86_ASSERT(offsetof(KvmdbgX86State, cr0) == 368, "KvmdbgX86State.cr0 moved");
KVMDBG_ABI_X86_ASSERT(offsetof(KvmdbgX86State, dr) == 432, "KvmdbgX86State.dr moved");
KVMDBG_ABI_X86_ASSERT(offsetof(KvmdbgX86State, fpr) == 480, "KvmdbgX86State.fpr moved");
KVMDBG_ABI_X86_ASSERT(offsetof(KvmdbgX86State, last_ip) == 616, "KvmdbgX86State.last_ip moved");
KVMDBG_ABI_X86_ASSERT(offsetof(KvmdbgX86State, xmm) == 632, "KvmdbgX86State.xmm moved");
KVMDBG_ABI_X86_ASSERT(offsetof(KvmdbgX86State, mxcsr) == 888, "KvmdbgX86State.mxcsr moved");

/*
 * get_irqchip on an x86-64 VM (version 11): the chip numbers and their
 * layouts, the kernel's structs byte for byte (arch/x86/irqchip_state.h):
 *
 *   chip                           struct (kernel struct)                   bytes
 *   KVMDBG_X86_IRQCHIP_PIC_MASTER  KvmdbgX86PicState (kvm_pic_state)           16
 *   KVMDBG_X86_IRQCHIP_PIC_SLAVE   KvmdbgX86PicState (kvm_pic_state)           16
 *   KVMDBG_X86_IRQCHIP_IOAPIC      KvmdbgX86IoapicState (kvm_ioapic_state)    216
 *   KVMDBG_X86_IRQCHIP_LAPIC       KvmdbgX86LapicState (kvm_lapic_state)     1024
 *
 * The first three are KVM_GET_IRQCHIP's chip_id values (KVM_IRQCHIP_*); the
 * local APIC is KVM_GET_LAPIC of vCPU `cpu`.
 */
enum KvmdbgX86Irqchip {
    KVMDBG_X86_IRQCHIP_PIC_MASTER = 0,
    KVMDBG_X86_IRQCHIP_PIC_SLAVE = 1,
    KVMDBG_X86_IRQCHIP_IOAPIC = 2,
    KVMDBG_X86_IRQCHIP_LAPIC = 3,
};

#define KVMDBG_X86_PIC_STATE_SIZE 16u
#define KVMDBG_X86_IOAPIC_STATE_SIZE 216u
#define KVMDBG_X86_LAPIC_STATE_SIZE 1024u

KVMDBG_ABI_X86_ASSERT(sizeof(KvmdbgX86PicState) == KVMDBG_X86_PIC_STATE_SIZE, "KvmdbgX86PicState changed size");
KVMDBG_ABI_X86_ASSERT(offsetof(KvmdbgX86PicState, irq_base) == 5, "KvmdbgX86PicState.irq_base moved");
KVMDBG_ABI_X86_ASSERT(offsetof(KvmdbgX86PicState, elcr) == 14, "KvmdbgX86PicState.elcr moved");
KVMDBG_ABI_X86_ASSERT(sizeof(KvmdbgX86IoapicState) == KVMDBG_X86_IOAPIC_STATE_SIZE,
                      "KvmdbgX86IoapicState changed size");
KVMDBG_ABI_X86_ASSERT(offsetof(KvmdbgX86IoapicState, id) == 12, "KvmdbgX86IoapicState.id moved");
KVMDBG_ABI_X86_ASSERT(offsetof(KvmdbgX86IoapicState, redirtbl) == 24, "KvmdbgX86IoapicState.redirtbl moved");
KVMDBG_ABI_X86_ASSERT(sizeof(KvmdbgX86LapicState) == KVMDBG_X86_LAPIC_STATE_SIZE, "KvmdbgX86LapicState changed size");

#undef KVMDBG_ABI_X86_ASSERT
#undef KVMDBG_ABI_X86_NAME
#undef KVMDBG_ABI_X86_NAME2

#endif /* KVMDBG_ACCEL_PLUGIN_ABI_X86_H */
