#include "arch/x86/pic_dump.h"

#include <cstdio>

#include "common/append_format.h"

namespace kvmdbg::arch::x86 {

namespace {

// The ISA IRQ numbers of the set bits of `bits`, e.g. "0 3 7", or "none".
std::string irq_list(unsigned bits, unsigned first_irq) {
    std::string out;
    for (unsigned n = 0; n < 8; ++n) {
        if ((bits >> n) & 1) {
            out += (out.empty() ? "" : " ") + std::to_string(first_irq + n);
        }
    }
    return out.empty() ? "none" : out;
}

const char* init_state_name(unsigned state) {
    switch (state) {
    case 0: return "initialised";
    case 1: return "waiting for ICW2 (vector base)";
    case 2: return "waiting for ICW3 (cascade)";
    case 3: return "waiting for ICW4";
    default: return "unknown";
    }
}

const char* on_off(unsigned v) { return v != 0 ? "on" : "off"; }

void append_chip(std::string& out, const char* name, const KvmdbgX86PicState& s, unsigned first_irq) {
    append_format(out,
                  "%s PIC: irr=0x%02x imr=0x%02x isr=0x%02x elcr=0x%02x (mask 0x%02x), vector base 0x%02x (IRQ%u-%u: "
                  "0x%02x-0x%02x)\n",
                  name, s.irr, s.imr, s.isr, s.elcr, s.elcr_mask, s.irq_base, first_irq, first_irq + 7, s.irq_base,
                  (s.irq_base + 7) & 0xff);
    append_format(out, "  init: %s, ICW4 %s\n", init_state_name(s.init_state), s.init4 != 0 ? "used" : "not used");
    out += "  requested: " + irq_list(s.irr, first_irq) + "; masked: " + irq_list(s.imr, first_irq) +
           "; in service: " + irq_list(s.isr, first_irq) + "; level-triggered: " + irq_list(s.elcr, first_irq) + "\n";
    append_format(out,
                  "  highest priority: IRQ%u; OCW3 read: %s; auto-EOI: %s; rotate on auto-EOI: %s; special mask: %s; "
                  "special fully nested: %s; poll: %s\n",
                  first_irq + (s.priority_add & 7), s.read_reg_select != 0 ? "ISR" : "IRR", on_off(s.auto_eoi),
                  on_off(s.rotate_on_auto_eoi), on_off(s.special_mask), on_off(s.special_fully_nested_mode),
                  on_off(s.poll));
}

}  // namespace

std::string format_pic_state(const KvmdbgX86PicState& master, const KvmdbgX86PicState& slave) {
    std::string out;
    append_chip(out, "master", master, 0);
    append_chip(out, "slave", slave, 8);
    return out;
}

}  // namespace kvmdbg::arch::x86
