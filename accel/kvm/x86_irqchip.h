// The x86 in-kernel interrupt controllers' state for the plugin ABI's
// get_irqchip (accel/plugin_abi_x86.h): the two 8259A PICs and the IOAPIC
// with KVM_GET_IRQCHIP (a VM ioctl, any thread), a vCPU's local APIC with
// KVM_GET_LAPIC (a vCPU ioctl, run on that vCPU's thread through its
// run-on-vCPU queue; a parked vCPU answers without running the guest).
//
// Linux Documentation/virt/kvm/api.rst "KVM_GET_IRQCHIP", "KVM_GET_LAPIC".
// The kernel's structs are copied as they are: this file checks at compile
// time that they are the ABI's layouts (arch/x86/irqchip_state.h).
#pragma once

#include <cstdint>

#include "common/result.h"

namespace kvmdbg::accel::kvm {

class KvmVm;

/// Copies chip `chip` (enum KvmdbgX86Irqchip; `cpu` for the local APIC) of
/// `vm`, which has an in-kernel irqchip, into `out` (`size` bytes: the
/// chip's KVMDBG_X86_*_STATE_SIZE). Errors: EINVAL for an unknown chip or
/// vCPU or a wrong size (nothing copied), the ioctl's errno. Any thread but
/// a vCPU's.
Status read_x86_irqchip(KvmVm& vm, std::uint32_t chip, std::uint32_t cpu, void* out, std::uint64_t size);

}  // namespace kvmdbg::accel::kvm
