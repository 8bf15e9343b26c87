/*
 * The x86-64 guest of gdb_vmm: 64-bit code started directly in long mode,
 * set up as Firecracker does for a kernel (identity page tables, a flat
 * GDT, CR0.PE|PG, CR4.PAE, EFER.LME|LMA; Intel SDM Vol. 3A 9.8.5).
 *
 * Guest-physical layout (2 MiB of RAM at 0):
 *   0x00500  GDT: null, code 0x08 (64-bit), data 0x10
 *   0x09000  PML4, 0x0a000 PDPT, 0x0b000 PD (512 x 2 MiB: the first 1 GiB 1:1)
 *   0x10000  the code below; 0x10060 the string "tick "
 *   0x20000  counter (u32), 0x20004 spin counter, 0x20008 spin flag
 *   port 0x3f8 serial data (COM1), port 0xf4 exit (isa-debug-exit's port)
 */
#if defined(__x86_64__)

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include <kvmdbg/plugin_abi_x86.h>

#include "vmm.h"

#define GDT_ADDR 0x500u
#define PML4_ADDR 0x9000u
#define PDPT_ADDR 0xa000u
#define PD_ADDR 0xb000u
#define CODE_ADDR 0x10000u
#define DATA_ADDR 0x20000u

const GuestLayout kGuest = {
    .isa = "x86_64",
    .kvmdbg_arch = KVMDBG_ARCH_X86_64,
    .state_size = KVMDBG_X86_64_STATE_SIZE,
    .ram_base = 0,
    .ram_size = 2u << 20,
    .code = CODE_ADDR,
    .loop = CODE_ADDR + 0x0a,
    .tick = CODE_ADDR + 0x0c,
    .data = DATA_ADDR,
    .serial = 0x3f8,
    .exit = 0xf4,
};

/* The code at 0x10000 (GNU as, Intel syntax; offsets from 0x10000). */
static const uint8_t kCode[] = {
    0xba, 0xf8, 0x03, 0x00, 0x00, /* 00 start:   mov edx, 0x3f8 */
    0xbb, 0x00, 0x00, 0x02, 0x00, /* 05          mov ebx, 0x20000 */
    0xff, 0x03,                   /* 0a loop:    inc dword [rbx]      ; counter++ */
    0xbe, 0x60, 0x00, 0x01, 0x00, /* 0c tick:    mov esi, 0x10060     ; "tick " */
    0xac,                         /* 11 print:   lodsb */
    0x84, 0xc0,                   /* 12          test al, al */
    0x74, 0x03,                   /* 14          jz printed */
    0xee,                         /* 16          out dx, al */
    0xeb, 0xf8,                   /* 17          jmp print */
    0x8a, 0x03,                   /* 19 printed: mov al, [rbx] */
    0x04, 0x30,                   /* 1b          add al, '0' */
    0xee,                         /* 1d          out dx, al */
    0xb0, 0x0a,                   /* 1e          mov al, '\n' */
    0xee,                         /* 20          out dx, al */
    0x83, 0x3b, 0x05,             /* 21          cmp dword [rbx], 5 */
    0x72, 0xe4,                   /* 24          jb loop */
    0x83, 0x7b, 0x08, 0x00,       /* 26 spin:    cmp dword [rbx+8], 0 ; spin flag */
    0x74, 0x05,                   /* 2a          jz exit */
    0xff, 0x43, 0x04,             /* 2c          inc dword [rbx+4]    ; spin counter */
    0xeb, 0xf5,                   /* 2f          jmp spin */
    0x31, 0xc0,                   /* 31 exit:    xor eax, eax */
    0xe6, 0xf4,                   /* 33          out 0xf4, al         ; status 0 */
    0xf4,                         /* 35          hlt */
    0xeb, 0xf9,                   /* 36          jmp exit */
};
static const char kMessage[] = "tick "; /* 60 msg */

/* GDT entries (Intel SDM Vol. 3A 3.4.5): flat 4 GiB, code with L=1. */
static const uint64_t kGdt[] = {0, 0x00af9b000000ffffull, 0x00cf93000000ffffull};

static void put_u64(uint8_t* ram, uint64_t addr, uint64_t value) { memcpy(ram + addr, &value, sizeof value); }

void guest_load(uint8_t* ram, int spin) {
    memcpy(ram + GDT_ADDR, kGdt, sizeof kGdt);
    put_u64(ram, PML4_ADDR, PDPT_ADDR | 0x3); /* present, writable */
    put_u64(ram, PDPT_ADDR, PD_ADDR | 0x3);
    for (uint64_t i = 0; i < 512; i++) {
        put_u64(ram, PD_ADDR + i * 8, (i << 21) | 0x83); /* present, writable, 2 MiB page */
    }
    memcpy(ram + CODE_ADDR, kCode, sizeof kCode);
    memcpy(ram + CODE_ADDR + 0x60, kMessage, sizeof kMessage);
    uint32_t flag = spin ? 1 : 0;
    memcpy(ram + DATA_ADDR + 8, &flag, sizeof flag);
}

/* The CPU mode, once, in the plugin ABI's state blob: module mode sets it
 * with set_cpu_state, and guest_setup_vcpu copies it into kvm_sregs. */
static void fill_segment(KvmdbgX86Segment* s, uint16_t selector, int code) {
    memset(s, 0, sizeof *s);
    s->base = 0;
    s->limit = 0xffffffff;
    s->selector = selector;
    s->type = code ? 0xb : 0x3; /* execute/read accessed, read/write accessed */
    s->present = 1;
    s->s = 1;
    s->l = code ? 1 : 0;
    s->db = code ? 0 : 1;
    s->g = 1;
}

void guest_boot_state(void* blob) {
    KvmdbgX86State* state = blob;
    fill_segment(&state->cs, 0x08, 1);
    fill_segment(&state->ds, 0x10, 0);
    state->es = state->fs = state->gs = state->ss = state->ds;
    state->gdt.base = GDT_ADDR;
    state->gdt.limit = sizeof kGdt - 1;
    state->cr0 = 0x80000011; /* PG, ET, PE */
    state->cr3 = PML4_ADDR;
    state->cr4 = 0x20;   /* PAE */
    state->efer = 0x500; /* LMA, LME */
    state->rip = CODE_ADDR;
    state->rflags = 0x2;
    state->gpr[KVMDBG_X86_RSP] = DATA_ADDR + 0x1000;
}

static void to_kvm_segment(struct kvm_segment* k, const KvmdbgX86Segment* s) {
    k->base = s->base;
    k->limit = s->limit;
    k->selector = s->selector;
    k->type = s->type;
    k->present = s->present;
    k->dpl = s->dpl;
    k->db = s->db;
    k->s = s->s;
    k->l = s->l;
    k->g = s->g;
    k->avl = s->avl;
    k->unusable = s->unusable;
}

/* KVM only allows EFER.LME with CPUID's long-mode bit: the vCPU gets what
 * KVM supports (KVM_GET_SUPPORTED_CPUID, api.rst 4.46). */
static int set_cpuid(int kvm_fd, int vcpu_fd, char* err, size_t err_size) {
    for (uint32_t n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2* cpuid = calloc(1, sizeof *cpuid + n * sizeof(struct kvm_cpuid_entry2));
        if (!cpuid) {
            return -ENOMEM;
        }
        cpuid->nent = n;
        int rc = ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid);
        if (rc == 0) {
            rc = ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid);
            free(cpuid);
            if (rc < 0) {
                snprintf(err, err_size, "KVM_SET_CPUID2: %s", strerror(errno));
                return -errno;
            }
            return 0;
        }
        int e = errno;
        free(cpuid);
        if (e != E2BIG) {
            snprintf(err, err_size, "KVM_GET_SUPPORTED_CPUID: %s", strerror(e));
            return -e;
        }
    }
    snprintf(err, err_size, "KVM_GET_SUPPORTED_CPUID: too many entries");
    return -E2BIG;
}

int guest_setup_vcpu(int kvm_fd, int vm_fd, int vcpu_fd, char* err, size_t err_size) {
    (void)vm_fd;
    int rc = set_cpuid(kvm_fd, vcpu_fd, err, err_size);
    if (rc < 0) {
        return rc;
    }
    KvmdbgX86State boot;
    memset(&boot, 0, sizeof boot);
    guest_boot_state(&boot);
    struct kvm_sregs sregs;
    if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0) {
        snprintf(err, err_size, "KVM_GET_SREGS: %s", strerror(errno));
        return -errno;
    }
    to_kvm_segment(&sregs.cs, &boot.cs);
    to_kvm_segment(&sregs.ds, &boot.ds);
    to_kvm_segment(&sregs.es, &boot.es);
    to_kvm_segment(&sregs.fs, &boot.fs);
    to_kvm_segment(&sregs.gs, &boot.gs);
    to_kvm_segment(&sregs.ss, &boot.ss);
    sregs.gdt.base = boot.gdt.base;
    sregs.gdt.limit = boot.gdt.limit;
    sregs.cr0 = boot.cr0;
    sregs.cr3 = boot.cr3;
    sregs.cr4 = boot.cr4;
    sregs.efer = boot.efer;
    if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0) {
        snprintf(err, err_size, "KVM_SET_SREGS: %s", strerror(errno));
        return -errno;
    }
    struct kvm_regs regs;
    memset(&regs, 0, sizeof regs);
    regs.rip = boot.rip;
    regs.rflags = boot.rflags;
    regs.rsp = boot.gpr[KVMDBG_X86_RSP];
    if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0) {
        snprintf(err, err_size, "KVM_SET_REGS: %s", strerror(errno));
        return -errno;
    }
    return 0;
}

#else
typedef int gdb_vmm_no_x86_64_guest; /* ISO C: no empty translation unit */
#endif /* __x86_64__ */
