#include "accel/kvm/x86_vcpu_state.h"

#include <linux/kvm.h>

#include <string>

#include "accel/kvm/kvm_flex_structs.h"
#include "accel/kvm/kvm_system.h"
#include "accel/kvm/kvm_vm.h"
#include "arch/x86/page_walk.h"
#include "arch/x86/regs_kvm.h"
#include "common/ioctl_status.h"

namespace kvmdbg::accel::kvm {

Status load_x86_state(int fd, KvmdbgX86State& out) {
    arch::x86::KvmX86Regs k;
    if (auto s = ioctl_status(xioctl(fd, KVM_GET_REGS, &k.regs), "KVM_GET_REGS"); !s) return s;
    if (auto s = ioctl_status(xioctl(fd, KVM_GET_SREGS, &k.sregs), "KVM_GET_SREGS"); !s) return s;
    if (auto s = ioctl_status(xioctl(fd, KVM_GET_FPU, &k.fpu), "KVM_GET_FPU"); !s) return s;
    if (auto s = ioctl_status(xioctl(fd, KVM_GET_DEBUGREGS, &k.debugregs), "KVM_GET_DEBUGREGS"); !s) return s;
    KvmOneMsr msr{};
    msr.header.nmsrs = 1;
    msr.entry.index = arch::x86::kMsrKernelGsBase;
    if (xioctl(fd, kKvmGetMsrs, &msr) == 1) {
        k.kernel_gs_base = msr.entry.data;
    }
    arch::x86::from_kvm(k, out);
    return ok_status();
}

Status store_x86_state(int fd, const KvmdbgX86State& in) {
    arch::x86::KvmX86Regs k;
    // Keep pending interrupts (interrupt_bitmap) as the kernel has them.
    if (auto s = ioctl_status(xioctl(fd, KVM_GET_SREGS, &k.sregs), "KVM_GET_SREGS"); !s) return s;
    arch::x86::to_kvm(in, k);
    if (auto s = ioctl_status(xioctl(fd, KVM_SET_SREGS, &k.sregs), "KVM_SET_SREGS"); !s) return s;
    if (auto s = ioctl_status(xioctl(fd, KVM_SET_REGS, &k.regs), "KVM_SET_REGS"); !s) return s;
    if (auto s = ioctl_status(xioctl(fd, KVM_SET_FPU, &k.fpu), "KVM_SET_FPU"); !s) return s;
    if (auto s = ioctl_status(xioctl(fd, KVM_SET_DEBUGREGS, &k.debugregs), "KVM_SET_DEBUGREGS"); !s) return s;
    KvmOneMsr msr{};
    msr.header.nmsrs = 1;
    msr.entry.index = arch::x86::kMsrKernelGsBase;
    msr.entry.data = k.kernel_gs_base;
    if (xioctl(fd, kKvmSetMsrs, &msr) != 1) {
        return make_error(EIO, "KVM_SET_MSRS(KERNEL_GS_BASE) failed");
    }
    return ok_status();
}

Result<KvmdbgX86State> x86_vcpu_state(KvmVm& vm, std::uint32_t cpu) {
    KvmdbgX86State st{};
    if (auto s = vm.get_state(cpu, &st, sizeof st); !s) {
        return s.error();
    }
    return st;
}

GuestMemory x86_guest_memory(const KvmVm& vm, const KvmdbgX86State& state) {
    arch::x86::PagingState paging{state.cr0, state.cr3, state.cr4, state.efer};
    return GuestMemory(vm, [&vm, paging](std::uint64_t va) -> std::optional<std::uint64_t> {
        auto reader = [&vm](std::uint64_t pa, unsigned size) { return GuestMemory::read_physical(vm, pa, size); };
        auto t = arch::x86::translate(paging, va, reader);
        if (!t) {
            return std::nullopt;
        }
        return t->physical;
    });
}

}  // namespace kvmdbg::accel::kvm
