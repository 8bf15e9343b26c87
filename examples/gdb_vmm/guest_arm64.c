/*
 * The arm64 guest of gdb_vmm: the same program as the x86-64 one, at EL1h
 * with the MMU off (data accesses are Device memory, so all are aligned),
 * as KVM_ARM_VCPU_INIT leaves the vCPU apart from PC and PSTATE.
 *
 * Guest-physical layout (2 MiB of RAM at 0x40000000, as QEMU's virt):
 *   0x40000000  the code below; 0x40000070 the string "tick "
 *   0x40010000  counter (u32), 0x40010004 spin counter, 0x40010008 spin flag
 *   0x09000000  serial data register (a PL011's UARTDR, MMIO)
 *   0x09010000  exit register (MMIO): the guest writes its status
 */
#if defined(__aarch64__)

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include <kvmdbg/plugin_abi_arm64.h>

#include "vmm.h"

#define RAM_BASE 0x40000000u
#define DATA_ADDR (RAM_BASE + 0x10000u)
#define PSTATE_EL1H_DAIF 0x3c5u /* EL1h, D, A, I, F masked: the reset PSTATE */

const GuestLayout kGuest = {
    .isa = "arm64",
    .kvmdbg_arch = KVMDBG_ARCH_ARM64,
    .state_size = KVMDBG_ARM64_STATE_SIZE,
    .ram_base = RAM_BASE,
    .ram_size = 2u << 20,
    .code = RAM_BASE,
    .loop = RAM_BASE + 0x08,
    .tick = RAM_BASE + 0x14,
    .data = DATA_ADDR,
    .serial = 0x09000000,
    .exit = 0x09010000,
};

/* The code at 0x40000000 (GNU as; offsets from it), little-endian words. */
static const uint32_t kCode[] = {
    0xd2a12001, /* 00 start:   movz x1, #0x0900, lsl #16  ; serial */
    0xd2a80022, /* 04          movz x2, #0x4001, lsl #16  ; data */
    0xb9400040, /* 08 loop:    ldr  w0, [x2] */
    0x11000400, /* 0c          add  w0, w0, #1 */
    0xb9000040, /* 10          str  w0, [x2]              ; counter++ */
    0x100002e3, /* 14 tick:    adr  x3, msg */
    0x38401464, /* 18 print:   ldrb w4, [x3], #1 */
    0x34000064, /* 1c          cbz  w4, printed */
    0x39000024, /* 20          strb w4, [x1] */
    0x17fffffd, /* 24          b    print */
    0xb9400040, /* 28 printed: ldr  w0, [x2] */
    0x1100c000, /* 2c          add  w0, w0, #'0' */
    0x39000020, /* 30          strb w0, [x1] */
    0x52800140, /* 34          mov  w0, #'\n' */
    0x39000020, /* 38          strb w0, [x1] */
    0xb9400040, /* 3c          ldr  w0, [x2] */
    0x7100141f, /* 40          cmp  w0, #5 */
    0x54fffe23, /* 44          b.lo loop */
    0xb9400840, /* 48 spin:    ldr  w0, [x2, #8]          ; spin flag */
    0x340000a0, /* 4c          cbz  w0, exit */
    0xb9400440, /* 50          ldr  w0, [x2, #4] */
    0x11000400, /* 54          add  w0, w0, #1 */
    0xb9000440, /* 58          str  w0, [x2, #4]          ; spin counter++ */
    0x17fffffb, /* 5c          b    spin */
    0xd2a12025, /* 60 exit:    movz x5, #0x0901, lsl #16 */
    0xb90000bf, /* 64          str  wzr, [x5]             ; status 0 */
    0x17fffffe, /* 68          b    exit */
    0xd503201f, /* 6c          nop */
};
static const char kMessage[] = "tick "; /* 70 msg */

void guest_load(uint8_t* ram, int spin) {
    memcpy(ram, kCode, sizeof kCode);
    memcpy(ram + 0x70, kMessage, sizeof kMessage);
    uint32_t flag = spin ? 1 : 0;
    memcpy(ram + (DATA_ADDR - RAM_BASE) + 8, &flag, sizeof flag);
}

void guest_boot_state(void* blob) {
    KvmdbgArm64State* state = blob;
    state->pc = kGuest.code;
    state->pstate = PSTATE_EL1H_DAIF;
}

static int set_core_reg(int vcpu_fd, uint64_t id, uint64_t value) {
    struct kvm_one_reg reg = {.id = id, .addr = (uint64_t)(uintptr_t)&value};
    return ioctl(vcpu_fd, KVM_SET_ONE_REG, &reg);
}

#define CORE_REG(field) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(regs.field))

/* The vCPU as KVM_ARM_VCPU_INIT with the preferred target makes it (api.rst
 * 4.82), then PC and PSTATE (4.68, KVM_SET_ONE_REG). */
int guest_setup_vcpu(int kvm_fd, int vm_fd, int vcpu_fd, char* err, size_t err_size) {
    (void)kvm_fd;
    struct kvm_vcpu_init init;
    memset(&init, 0, sizeof init);
    if (ioctl(vm_fd, KVM_ARM_PREFERRED_TARGET, &init) < 0) {
        snprintf(err, err_size, "KVM_ARM_PREFERRED_TARGET: %s", strerror(errno));
        return -errno;
    }
    if (ioctl(vcpu_fd, KVM_ARM_VCPU_INIT, &init) < 0) {
        snprintf(err, err_size, "KVM_ARM_VCPU_INIT: %s", strerror(errno));
        return -errno;
    }
    if (set_core_reg(vcpu_fd, CORE_REG(pc), kGuest.code) < 0 ||
        set_core_reg(vcpu_fd, CORE_REG(pstate), PSTATE_EL1H_DAIF) < 0) {
        snprintf(err, err_size, "KVM_SET_ONE_REG (pc, pstate): %s", strerror(errno));
        return -errno;
    }
    return 0;
}

#else
typedef int gdb_vmm_no_arm64_guest; /* ISO C: no empty translation unit */
#endif /* __aarch64__ */
