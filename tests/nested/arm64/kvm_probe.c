// kvm_probe: proves that the nested rig's arm64 kernel has a working KVM.
//
// Runs inside the rig's initramfs (static, no libraries): opens /dev/kvm,
// reads the guest-debug capabilities, creates a VM and one vCPU
// (KVM_ARM_PREFERRED_TARGET + KVM_ARM_VCPU_INIT), maps one page holding
// `brk #0x7`, enables KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP and runs
// it. A working arm64 KVM exits with KVM_EXIT_DEBUG and ESR_EL2.EC = 0x3c
// (BRK64, ARM ARM D17.2.37) in kvm_run->debug.arch.hsr, PC at the BRK.
//
// Prints one line "kvm-probe: ok api=12 hw_bps=N hw_wps=N guest_debug=N
// hsr=0x... pc=0x..." and exits 0, or "kvm-probe: FAIL <step>: <errno text>"
// and exits 1. Kernel ABI: Documentation/virt/kvm/api.rst (4.1 KVM_GET_API_VERSION,
// 4.82 KVM_ARM_VCPU_INIT, 4.68 KVM_SET_ONE_REG, 4.59 KVM_SET_GUEST_DEBUG).
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUEST_CODE_GPA 0x40000000ull
#define BRK_7 0xd42000e0u  // brk #0x7

static int fail(const char* step) {
    printf("kvm-probe: FAIL %s: %s\n", step, strerror(errno));
    return 1;
}

static uint64_t core_reg_id(size_t offset) {
    return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (offset / sizeof(uint32_t));
}

int main(void) {
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) return fail("open /dev/kvm");
    int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION) {
        printf("kvm-probe: FAIL api version %d, expected %d\n", api, KVM_API_VERSION);
        return 1;
    }
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) return fail("KVM_CREATE_VM");
    int hw_bps = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_DEBUG_HW_BPS);
    int hw_wps = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_DEBUG_HW_WPS);
    int guest_debug = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG);

    void* page = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return fail("mmap guest page");
    uint32_t code[2] = {BRK_7, BRK_7};
    memcpy(page, code, sizeof code);
    struct kvm_userspace_memory_region region = {
        .slot = 0,
        .flags = 0,
        .guest_phys_addr = GUEST_CODE_GPA,
        .memory_size = 0x10000,
        .userspace_addr = (uint64_t)(uintptr_t)page,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) return fail("KVM_SET_USER_MEMORY_REGION");

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0) return fail("KVM_CREATE_VCPU");
    struct kvm_vcpu_init init;
    memset(&init, 0, sizeof init);
    if (ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init) < 0) return fail("KVM_ARM_PREFERRED_TARGET");
    if (ioctl(vcpu, KVM_ARM_VCPU_INIT, &init) < 0) return fail("KVM_ARM_VCPU_INIT");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size <= 0) return fail("KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run* run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED) return fail("mmap kvm_run");

    uint64_t pc = GUEST_CODE_GPA;
    struct kvm_one_reg reg = {
        .id = core_reg_id(offsetof(struct kvm_regs, regs.pc)),
        .addr = (uint64_t)(uintptr_t)&pc,
    };
    if (ioctl(vcpu, KVM_SET_ONE_REG, &reg) < 0) return fail("KVM_SET_ONE_REG pc");
    struct kvm_guest_debug dbg;
    memset(&dbg, 0, sizeof dbg);
    dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP;
    if (ioctl(vcpu, KVM_SET_GUEST_DEBUG, &dbg) < 0) return fail("KVM_SET_GUEST_DEBUG");
    if (ioctl(vcpu, KVM_RUN, 0) < 0) return fail("KVM_RUN");
    if (run->exit_reason != KVM_EXIT_DEBUG) {
        printf("kvm-probe: FAIL exit reason %u, expected KVM_EXIT_DEBUG (%u)\n", run->exit_reason, KVM_EXIT_DEBUG);
        return 1;
    }
    uint32_t hsr = run->debug.arch.hsr;
    uint64_t stop_pc = 0;
    reg.addr = (uint64_t)(uintptr_t)&stop_pc;
    if (ioctl(vcpu, KVM_GET_ONE_REG, &reg) < 0) return fail("KVM_GET_ONE_REG pc");
    if ((hsr >> 26) != 0x3c || (hsr & 0xffff) != 0x7 || stop_pc != GUEST_CODE_GPA) {
        printf("kvm-probe: FAIL debug exit hsr=0x%x pc=0x%llx, expected EC 0x3c imm 7 at 0x%llx\n", hsr,
               (unsigned long long)stop_pc, GUEST_CODE_GPA);
        return 1;
    }
    printf("kvm-probe: ok api=%d hw_bps=%d hw_wps=%d guest_debug=%d hsr=0x%x pc=0x%llx\n", api, hw_bps, hw_wps,
           guest_debug, hsr, (unsigned long long)stop_pc);
    return 0;
}
