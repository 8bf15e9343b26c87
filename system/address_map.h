// The machine's address map as text, for `monitor info mtree` (QEMU's
// `info mtree`, flattened): the memory address space (RAM regions, ROM,
// each device's MMIO range) and the I/O port space (each device's ports),
// each sorted by address:
//
//   address-space: memory
//     0000000000000000-0000000007ffffff ram
//     00000000ff000000-00000000ff00ffff mmio pc-testdev-iomem
//     00000000ffff0000-00000000ffffffff rom
//   address-space: I/O
//     0000000000000070-0000000000000071 i/o cmos-rtc
//
// Ranges are inclusive, as QEMU prints them. Addresses no line covers are
// unassigned (reads all ones, writes dropped). Main thread.
#pragma once

#include <string>

#include "hw-models/machine.h"

namespace kvmdbg::system {

std::string format_address_map(hw::Machine& machine);

/// `monitor info devices`: each device the bus maps, once, in the order
/// mapped, with its ranges and whether `info device NAME` shows registers:
///
///   COM1          port 0x3f8-0x3ff            registers
///   acpi-poweroff port 0x604-0x605, 0xb004-0xb005
std::string format_device_list(hw::IoBus& bus);

}  // namespace kvmdbg::system
