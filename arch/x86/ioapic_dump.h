// The in-kernel IOAPIC's state as text, for `monitor info ioapic` (modelled
// on QEMU's HMP `info ioapic`): its ID, base, index register and pending
// pins, then each of the 24 redirection entries raw and decoded. Pure; any
// thread.
//
//   IOAPIC: id 0x00, base 0xfec00000, IOREGSEL 0x23, irr 0x00000000 (asserted pins: none)
//     pin  0: 0x0000000000010000 vector 0x00 fixed    physical dest 0x00 active-high edge  masked
//     pin  9: 0x010000000000e039 vector 0x39 fixed    physical dest 0x01 active-low  level unmasked remote-IRR
//
// Entry layout: arch/x86/irqchip_state.h (KvmdbgX86IoapicState), after the
// 82093AA datasheet 3.2.4 "I/O Redirection Table Registers".
#pragma once

#include <cstdint>
#include <string>

#include "arch/x86/irqchip_state.h"

namespace kvmdbg::arch::x86 {

/// One redirection entry decoded, without the pin number or the raw value:
/// "vector 0x39 fixed    physical dest 0x01 active-low  level unmasked",
/// then " remote-IRR" and " send-pending" where those bits are set.
std::string describe_redirection_entry(std::uint64_t entry);

/// The header line and one line per pin, every line ending with '\n'.
std::string format_ioapic_state(const KvmdbgX86IoapicState& state);

}  // namespace kvmdbg::arch::x86
