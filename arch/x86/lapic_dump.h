// One vCPU's in-kernel local APIC as text, for `monitor info lapic`
// (modelled on QEMU's HMP `info lapic`): identification, priorities and
// the logical destination, the spurious-vector register, the ISR, TMR and
// IRR as the vectors they hold, the six LVT entries decoded, the timer and
// the ICR. Pure; any thread.
//
//   local APIC: ID 0x01, version 0x14 (6 LVT entries, no EOI-broadcast suppression) [0x00050014]
//     TPR 0x00, PPR 0x00, APR 0x00, LDR 0x00000000 (logical ID 0x00), DFR 0xffffffff (flat), ESR 0x00000000
//     SVR 0x000000ff: software-disabled, spurious vector 0xff, focus checking on, EOI broadcast on
//     ISR: none
//     TMR: none
//     IRR: 0x31 0xec
//     LVT timer   0x000300ec: vector 0xec, periodic, masked
//     LVT LINT0   0x00010700: vector 0x00, ExtINT, active-high, edge, masked
//     ...
//     timer: initial count 0x00100000, current count 0x000fa000, divide by 16 (DCR 0x3)
//     ICR 0x000c4500, ICR2 0x00000000: vector 0x00, INIT, physical, assert, edge, all-but-self, dest 0x00
//
// Registers at their xAPIC page offsets (arch/x86/irqchip_state.h); their
// layouts: Intel SDM Vol. 3A chapter 11, "Advanced Programmable Interrupt
// Controller (APIC)" (11.4.6 ID, 11.4.8 version, 11.5.1 LVT, 11.5.4 timer,
// 11.6.1 ICR, 11.6.2 LDR/DFR, 11.8.4 ISR/TMR/IRR, 11.9 SVR).
#pragma once

#include <cstdint>
#include <string>

#include "arch/x86/irqchip_state.h"

namespace kvmdbg::arch::x86 {

/// The 32-bit register at byte `offset` of the APIC page (little-endian).
std::uint32_t lapic_register(const KvmdbgX86LapicState& state, unsigned offset);

/// The vectors set in the 256-bit register starting at `offset` (ISR 0x100,
/// TMR 0x180, IRR 0x200: eight 32-bit words 16 bytes apart), as
/// "0x31 0xec", or "none".
std::string lapic_vector_list(const KvmdbgX86LapicState& state, unsigned offset);

/// The whole state, every line ending with '\n'.
std::string format_lapic_state(const KvmdbgX86LapicState& state);

}  // namespace kvmdbg::arch::x86
