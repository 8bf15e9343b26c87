#include "arch/x86/ioapic_dump.h"

#include <cinttypes>
#include <cstdio>

namespace kvmdbg::arch::x86 {

namespace {

// 82093AA datasheet 3.2.4, bits 10:8 of a redirection entry.
constexpr const char* kDeliveryModes[8] = {"fixed", "lowest", "SMI", "reserved", "NMI", "INIT", "reserved", "ExtINT"};

std::string asserted_pins(std::uint32_t irr) {
    std::string out;
    for (unsigned pin = 0; pin < KVMDBG_X86_IOAPIC_PINS; ++pin) {
        if ((irr >> pin) & 1) {
            out += (out.empty() ? "" : " ") + std::to_string(pin);
        }
    }
    return out.empty() ? "none" : out;
}

}  // namespace

std::string describe_redirection_entry(std::uint64_t e) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "vector 0x%02x %-8s %-8s dest 0x%02x %-11s %-5s %s%s%s",
                  static_cast<unsigned>(e & 0xff), kDeliveryModes[(e >> 8) & 7], (e >> 11) & 1 ? "logical" : "physical",
                  static_cast<unsigned>(e >> 56), (e >> 13) & 1 ? "active-low" : "active-high",
                  (e >> 15) & 1 ? "level" : "edge", (e >> 16) & 1 ? "masked" : "unmasked",
                  (e >> 14) & 1 ? " remote-IRR" : "", (e >> 12) & 1 ? " send-pending" : "");
    return buf;
}

std::string format_ioapic_state(const KvmdbgX86IoapicState& s) {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "IOAPIC: id 0x%02x, base 0x%08" PRIx64 ", IOREGSEL 0x%02x, irr 0x%08x (asserted pins: ", s.id,
                  s.base_address, s.ioregsel, s.irr);
    std::string out = buf + asserted_pins(s.irr) + ")\n";
    for (unsigned pin = 0; pin < KVMDBG_X86_IOAPIC_PINS; ++pin) {
        std::snprintf(buf, sizeof buf, "  pin %2u: 0x%016" PRIx64 " ", pin, s.redirtbl[pin]);
        out += buf + describe_redirection_entry(s.redirtbl[pin]) + "\n";
    }
    return out;
}

}  // namespace kvmdbg::arch::x86
