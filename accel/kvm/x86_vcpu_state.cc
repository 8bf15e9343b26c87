#include "accel/kvm/x86_vcpu_state.h"

#include <linux/kvm.h>

#include <cstring>
#include <string>

#include "accel/kvm/kvm_system.h"
#include "arch/x86/regs_kvm.h"

namespace kvmdbg::accel::kvm {

namespace {

// kvm_msrs ends in a flexible array: give it room for one entry.
struct alignas(kvm_msrs) OneMsr {
    unsigned char bytes[sizeof(kvm_msrs) + sizeof(kvm_msr_entry)];
    kvm_msrs* header() { return reinterpret_cast<kvm_msrs*>(bytes); }
    kvm_msr_entry& entry() { return header()->entries[0]; }
};

Status check(long rc, const char* what) {
    if (rc < 0) {
        return make_error(static_cast<int>(-rc), std::string(what) + " failed: " + std::strerror(static_cast<int>(-rc)));
    }
    return ok_status();
}

}  // namespace

Status load_x86_state(int fd, KvmdbgX86State& out) {
    arch::x86::KvmX86Regs k;
    if (auto s = check(xioctl(fd, KVM_GET_REGS, &k.regs), "KVM_GET_REGS"); !s) return s;
    if (auto s = check(xioctl(fd, KVM_GET_SREGS, &k.sregs), "KVM_GET_SREGS"); !s) return s;
    if (auto s = check(xioctl(fd, KVM_GET_FPU, &k.fpu), "KVM_GET_FPU"); !s) return s;
    if (auto s = check(xioctl(fd, KVM_GET_DEBUGREGS, &k.debugregs), "KVM_GET_DEBUGREGS"); !s) return s;
    OneMsr msr{};
    msr.header()->nmsrs = 1;
    msr.entry().index = arch::x86::kMsrKernelGsBase;
    if (xioctl(fd, KVM_GET_MSRS, msr.header()) == 1) {
        k.kernel_gs_base = msr.entry().data;
    }
    arch::x86::from_kvm(k, out);
    return ok_status();
}

Status store_x86_state(int fd, const KvmdbgX86State& in) {
    arch::x86::KvmX86Regs k;
    // Keep pending interrupts (interrupt_bitmap) as the kernel has them.
    if (auto s = check(xioctl(fd, KVM_GET_SREGS, &k.sregs), "KVM_GET_SREGS"); !s) return s;
    arch::x86::to_kvm(in, k);
    if (auto s = check(xioctl(fd, KVM_SET_SREGS, &k.sregs), "KVM_SET_SREGS"); !s) return s;
    if (auto s = check(xioctl(fd, KVM_SET_REGS, &k.regs), "KVM_SET_REGS"); !s) return s;
    if (auto s = check(xioctl(fd, KVM_SET_FPU, &k.fpu), "KVM_SET_FPU"); !s) return s;
    if (auto s = check(xioctl(fd, KVM_SET_DEBUGREGS, &k.debugregs), "KVM_SET_DEBUGREGS"); !s) return s;
    OneMsr msr{};
    msr.header()->nmsrs = 1;
    msr.entry().index = arch::x86::kMsrKernelGsBase;
    msr.entry().data = k.kernel_gs_base;
    if (xioctl(fd, KVM_SET_MSRS, msr.header()) != 1) {
        return make_error(EIO, "KVM_SET_MSRS(KERNEL_GS_BASE) failed");
    }
    return ok_status();
}

}  // namespace kvmdbg::accel::kvm
