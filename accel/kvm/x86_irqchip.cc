#include "accel/kvm/x86_irqchip.h"

#include <linux/kvm.h>

#include <cstddef>
#include <cstring>
#include <string>

#include "accel/kvm/kvm_system.h"
#include "accel/kvm/kvm_vcpu.h"
#include "accel/kvm/kvm_vm.h"
#include "accel/plugin_abi_x86.h"
#include "common/ioctl_status.h"

namespace kvmdbg::accel::kvm {

// The ABI's layouts are the kernel's (arch/x86/include/uapi/asm/kvm.h).
static_assert(KVMDBG_X86_IRQCHIP_PIC_MASTER == KVM_IRQCHIP_PIC_MASTER);
static_assert(KVMDBG_X86_IRQCHIP_PIC_SLAVE == KVM_IRQCHIP_PIC_SLAVE);
static_assert(KVMDBG_X86_IRQCHIP_IOAPIC == KVM_IRQCHIP_IOAPIC);
static_assert(sizeof(kvm_pic_state) == sizeof(KvmdbgX86PicState));
static_assert(offsetof(kvm_pic_state, irq_base) == offsetof(KvmdbgX86PicState, irq_base));
static_assert(offsetof(kvm_pic_state, init_state) == offsetof(KvmdbgX86PicState, init_state));
static_assert(offsetof(kvm_pic_state, elcr_mask) == offsetof(KvmdbgX86PicState, elcr_mask));
static_assert(sizeof(kvm_ioapic_state) == sizeof(KvmdbgX86IoapicState));
static_assert(offsetof(kvm_ioapic_state, id) == offsetof(KvmdbgX86IoapicState, id));
static_assert(offsetof(kvm_ioapic_state, irr) == offsetof(KvmdbgX86IoapicState, irr));
static_assert(offsetof(kvm_ioapic_state, redirtbl) == offsetof(KvmdbgX86IoapicState, redirtbl));
static_assert(KVM_IOAPIC_NUM_PINS == KVMDBG_X86_IOAPIC_PINS);
static_assert(sizeof(kvm_lapic_state) == sizeof(KvmdbgX86LapicState));

namespace {

std::uint64_t chip_size(std::uint32_t chip) {
    switch (chip) {
    case KVMDBG_X86_IRQCHIP_PIC_MASTER:
    case KVMDBG_X86_IRQCHIP_PIC_SLAVE: return KVMDBG_X86_PIC_STATE_SIZE;
    case KVMDBG_X86_IRQCHIP_IOAPIC: return KVMDBG_X86_IOAPIC_STATE_SIZE;
    case KVMDBG_X86_IRQCHIP_LAPIC: return KVMDBG_X86_LAPIC_STATE_SIZE;
    default: return 0;
    }
}

Status read_lapic(KvmVm& vm, std::uint32_t cpu, void* out) {
    KvmVcpu* vcpu = vm.vcpu_at(cpu);
    if (vcpu == nullptr) {
        return make_error(EINVAL, "get_irqchip: no vCPU " + std::to_string(cpu));
    }
    // A vCPU ioctl: on the vCPU's own thread. It changes nothing, so the
    // state cache (kvm_vm.h) stays valid.
    return vcpu->run_on_vcpu([out](KvmVcpu& self) {
        kvm_lapic_state lapic{};
        if (auto s = ioctl_status(xioctl(self.fd(), KVM_GET_LAPIC, &lapic), "KVM_GET_LAPIC"); !s) {
            return s;
        }
        std::memcpy(out, &lapic, sizeof lapic);
        return ok_status();
    });
}

}  // namespace

Status read_x86_irqchip(KvmVm& vm, std::uint32_t chip, std::uint32_t cpu, void* out, std::uint64_t size) {
    const std::uint64_t want = chip_size(chip);
    if (want == 0) {
        return make_error(EINVAL, "get_irqchip: no x86 interrupt controller " + std::to_string(chip));
    }
    if (size != want) {
        return make_error(EINVAL, "get_irqchip: chip " + std::to_string(chip) + " has " + std::to_string(want) +
                                      " bytes of state, not " + std::to_string(size));
    }
    if (chip == KVMDBG_X86_IRQCHIP_LAPIC) {
        return read_lapic(vm, cpu, out);
    }
    kvm_irqchip irqchip{};
    irqchip.chip_id = chip;
    if (auto s = ioctl_status(xioctl(vm.fd(), KVM_GET_IRQCHIP, &irqchip), "KVM_GET_IRQCHIP"); !s) {
        return s;
    }
    if (chip == KVMDBG_X86_IRQCHIP_IOAPIC) {
        std::memcpy(out, &irqchip.chip.ioapic, sizeof irqchip.chip.ioapic);
    } else {
        std::memcpy(out, &irqchip.chip.pic, sizeof irqchip.chip.pic);
    }
    return ok_status();
}

}  // namespace kvmdbg::accel::kvm
