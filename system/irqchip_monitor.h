// The monitor commands that show the in-kernel interrupt controllers
// (QEMU's HMP `info pic`, `info ioapic`, `info lapic`): each reads its chip
// through the accelerator's get_irqchip (accel/accelerator.h) and decodes
// it with arch/x86 (pic_dump.h, ioapic_dump.h, lapic_dump.h). What cannot
// be shown is one line naming why, the accelerator's error for an ISA whose
// chips the ABI has no layout for (arm64: the GICv3), a VM without an
// in-kernel irqchip (kernel-irqchip=off) or a plugin without the op, and
// this file's for an unknown vCPU.
//
// Threads: the monitor's (the main thread); the vCPUs are parked while gdb
// asks, and a local APIC is read on its vCPU's thread by the accelerator.
#pragma once

#include <cstdint>
#include <string>

#include "accel/accelerator.h"

namespace kvmdbg::system {

/// `info pic`: both 8259As, master first.
std::string monitor_info_pic(accel::Accelerator& accel);
/// `info ioapic`: the IOAPIC and its 24 redirection entries.
std::string monitor_info_ioapic(accel::Accelerator& accel);
/// `info lapic [N]`: the local APIC of vCPU `cpu` (of `cpus`).
std::string monitor_info_lapic(accel::Accelerator& accel, std::uint64_t cpu, std::uint32_t cpus);

}  // namespace kvmdbg::system
