/*
 * The in-kernel x86 interrupt controllers' state as KVM reports it: one
 * 8259A PIC, the IOAPIC and one vCPU's local APIC. C-compatible plain
 * structs laid out byte for byte as the kernel's struct kvm_pic_state,
 * struct kvm_ioapic_state and struct kvm_lapic_state
 * (arch/x86/include/uapi/asm/kvm.h), so that they cross the accelerator
 * plugin ABI unchanged (get_irqchip, accel/plugin_abi_x86.h pins the
 * layout) and arch/x86 code decodes them on any host without kernel
 * headers (pic_dump.h, ioapic_dump.h, lapic_dump.h).
 *
 * Linux Documentation/virt/kvm/api.rst "KVM_GET_IRQCHIP" and
 * "KVM_GET_LAPIC"; the field meanings follow Linux arch/x86/kvm/i8259.c,
 * ioapic.c and lapic.c.
 */
#ifndef KVMDBG_ARCH_X86_IRQCHIP_STATE_H
#define KVMDBG_ARCH_X86_IRQCHIP_STATE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * One 8259A (struct kvm_pic_state, 16 bytes). Bit n of irr/imr/isr/elcr is
 * the chip's input n (the slave's input n is ISA IRQ 8 + n).
 *
 *   init_state  0: initialised; 1: ICW1 seen, ICW2 (vector base) next;
 *               2: ICW3 (cascade) next; 3: ICW4 next
 *   priority_add  the input with the highest priority (rotation)
 *   read_reg_select  what a read of the command port returns (OCW3): 0 IRR, 1 ISR
 *   elcr, elcr_mask  the PIIX edge/level control register (ports 0x4d0/0x4d1):
 *               bit set = level-triggered; elcr_mask: the inputs that may be set
 */
typedef struct KvmdbgX86PicState {
    uint8_t last_irr; /* edge detection */
    uint8_t irr;      /* interrupt request register */
    uint8_t imr;      /* interrupt mask register */
    uint8_t isr;      /* in-service register */
    uint8_t priority_add;
    uint8_t irq_base; /* vector of input 0 (ICW2) */
    uint8_t read_reg_select;
    uint8_t poll;
    uint8_t special_mask;
    uint8_t init_state;
    uint8_t auto_eoi;
    uint8_t rotate_on_auto_eoi;
    uint8_t special_fully_nested_mode;
    uint8_t init4; /* ICW4 expected (ICW1 bit 0) */
    uint8_t elcr;
    uint8_t elcr_mask;
} KvmdbgX86PicState;

/* Pins of KVM's IOAPIC (KVM_IOAPIC_NUM_PINS). */
#define KVMDBG_X86_IOAPIC_PINS 24

/*
 * The IOAPIC (struct kvm_ioapic_state, 216 bytes). `irr` has bit n set
 * while pin n is asserted and not yet delivered. Each redirection entry is
 * the 64-bit register of the 82093AA datasheet, 3.2.4:
 *
 *   63      56 55        17 16  15  14  13  12  11  10   8 7        0
 *  +----------+------------+---+---+---+---+---+---+------+----------+
 *  |   dest   |  reserved  | M |TM |RIR|POL|DS |DM | DLVM |  vector  |
 *  +----------+------------+---+---+---+---+---+---+------+----------+
 *   M mask, TM trigger (1 level), RIR remote IRR, POL polarity (1 low),
 *   DS delivery status, DM destination mode (1 logical), DLVM delivery mode
 */
typedef struct KvmdbgX86IoapicState {
    uint64_t base_address;
    uint32_t ioregsel; /* the index register (IOREGSEL) */
    uint32_t id;       /* IOAPIC ID (bits 27:24 of register 0, stored shifted down) */
    uint32_t irr;
    uint32_t pad;
    uint64_t redirtbl[KVMDBG_X86_IOAPIC_PINS];
} KvmdbgX86IoapicState;

/* Bytes of the local APIC's register page (KVM_APIC_REG_SIZE). */
#define KVMDBG_X86_LAPIC_REGS_SIZE 0x400

/*
 * One vCPU's local APIC (struct kvm_lapic_state): the xAPIC register page,
 * each 32-bit register little-endian at its MMIO offset (Intel SDM Vol. 3A
 * Table 11-1), e.g. the ID at 0x20, the SVR at 0xf0, the LVT timer at 0x320.
 */
typedef struct KvmdbgX86LapicState {
    uint8_t regs[KVMDBG_X86_LAPIC_REGS_SIZE];
} KvmdbgX86LapicState;

#ifdef __cplusplus
}
#endif

#endif /* KVMDBG_ARCH_X86_IRQCHIP_STATE_H */
