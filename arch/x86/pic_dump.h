// The in-kernel 8259A PICs' state as text, for `monitor info pic` (modelled
// on QEMU's HMP `info pic`): per chip its registers in hex, then what they
// mean, with the slave's inputs numbered as ISA IRQs 8-15. Pure; any thread.
//
//   master PIC: irr=0x01 imr=0xfb isr=0x00 elcr=0x00 (mask 0xf8), vector base 0x20 (IRQ0-7: 0x20-0x27)
//     init: initialised, ICW4 used
//     requested: 0; masked: 0 1 3 4 5 6 7; in service: none; level-triggered: none
//     highest priority: IRQ0; OCW3 read: IRR; auto-EOI: off; special mask: off; ...
//
// Field meanings: arch/x86/irqchip_state.h (KvmdbgX86PicState); the 8259A
// datasheet's ICW/OCW names; Linux arch/x86/kvm/i8259.c.
#pragma once

#include <string>

#include "arch/x86/irqchip_state.h"

namespace kvmdbg::arch::x86 {

/// Both PICs, master first; four lines each, every line ending with '\n'.
std::string format_pic_state(const KvmdbgX86PicState& master, const KvmdbgX86PicState& slave);

}  // namespace kvmdbg::arch::x86
