#include "arch/x86/regs_kvm.h"

#include <cstddef>
#include <cstring>

namespace kvmdbg::arch::x86 {

namespace {

static_assert(sizeof(kvm_regs) == 18 * 8, "kvm_regs layout");
static_assert(offsetof(kvm_regs, rsp) == 6 * 8 && offsetof(kvm_regs, rbp) == 7 * 8,
              "KvmdbgX86State.gpr follows kvm_regs order");
static_assert(sizeof(kvm_fpu) == 416, "kvm_fpu layout");
static_assert(sizeof(kvm_debugregs) == 128, "kvm_debugregs layout");

// kvm_segment and KvmdbgX86Segment have the same field names: one copy
// serves both directions.
template <typename From, typename To>
void copy_segment(const From& s, To& d) {
    d.base = s.base;
    d.limit = s.limit;
    d.selector = s.selector;
    d.type = s.type;
    d.present = s.present;
    d.dpl = s.dpl;
    d.db = s.db;
    d.s = s.s;
    d.l = s.l;
    d.g = s.g;
    d.avl = s.avl;
    d.unusable = s.unusable;
    d.padding = 0;
}

}  // namespace

void from_kvm(const KvmX86Regs& in, KvmdbgX86State& out) {
    std::memset(&out, 0, sizeof out);
    const kvm_regs& r = in.regs;
    const __u64 gprs[16] = {r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rsp, r.rbp,
                            r.r8,  r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15};
    std::memcpy(out.gpr, gprs, sizeof gprs);
    out.rip = r.rip;
    out.rflags = r.rflags;

    const kvm_sregs& s = in.sregs;
    copy_segment(s.cs, out.cs);
    copy_segment(s.ds, out.ds);
    copy_segment(s.es, out.es);
    copy_segment(s.fs, out.fs);
    copy_segment(s.gs, out.gs);
    copy_segment(s.ss, out.ss);
    copy_segment(s.tr, out.tr);
    copy_segment(s.ldt, out.ldt);
    out.gdt.base = s.gdt.base;
    out.gdt.limit = s.gdt.limit;
    out.idt.base = s.idt.base;
    out.idt.limit = s.idt.limit;
    out.cr0 = s.cr0;
    out.cr2 = s.cr2;
    out.cr3 = s.cr3;
    out.cr4 = s.cr4;
    out.cr8 = s.cr8;
    out.efer = s.efer;
    out.apic_base = s.apic_base;
    out.kernel_gs_base = in.kernel_gs_base;

    std::memcpy(out.dr, in.debugregs.db, sizeof out.dr);
    out.dr6 = in.debugregs.dr6;
    out.dr7 = in.debugregs.dr7;

    const kvm_fpu& f = in.fpu;
    std::memcpy(out.fpr, f.fpr, sizeof out.fpr);
    out.fcw = f.fcw;
    out.fsw = f.fsw;
    out.ftwx = f.ftwx;
    out.last_opcode = f.last_opcode;
    out.last_ip = f.last_ip;
    out.last_dp = f.last_dp;
    std::memcpy(out.xmm, f.xmm, sizeof out.xmm);
    out.mxcsr = f.mxcsr;
}

void to_kvm(const KvmdbgX86State& in, KvmX86Regs& out) {
    kvm_regs& r = out.regs;
    r = kvm_regs{};
    __u64* gprs[16] = {&r.rax, &r.rbx, &r.rcx, &r.rdx, &r.rsi, &r.rdi, &r.rsp, &r.rbp,
                       &r.r8,  &r.r9,  &r.r10, &r.r11, &r.r12, &r.r13, &r.r14, &r.r15};
    for (int i = 0; i < 16; ++i) {
        *gprs[i] = in.gpr[i];
    }
    r.rip = in.rip;
    r.rflags = in.rflags;

    kvm_sregs& s = out.sregs;
    copy_segment(in.cs, s.cs);
    copy_segment(in.ds, s.ds);
    copy_segment(in.es, s.es);
    copy_segment(in.fs, s.fs);
    copy_segment(in.gs, s.gs);
    copy_segment(in.ss, s.ss);
    copy_segment(in.tr, s.tr);
    copy_segment(in.ldt, s.ldt);
    s.gdt = kvm_dtable{in.gdt.base, in.gdt.limit, {0, 0, 0}};
    s.idt = kvm_dtable{in.idt.base, in.idt.limit, {0, 0, 0}};
    s.cr0 = in.cr0;
    s.cr2 = in.cr2;
    s.cr3 = in.cr3;
    s.cr4 = in.cr4;
    s.cr8 = in.cr8;
    s.efer = in.efer;
    s.apic_base = in.apic_base;
    out.kernel_gs_base = in.kernel_gs_base;

    kvm_debugregs& d = out.debugregs;
    d = kvm_debugregs{};
    std::memcpy(d.db, in.dr, sizeof d.db);
    d.dr6 = in.dr6;
    d.dr7 = in.dr7;

    kvm_fpu& f = out.fpu;
    f = kvm_fpu{};
    std::memcpy(f.fpr, in.fpr, sizeof f.fpr);
    f.fcw = in.fcw;
    f.fsw = in.fsw;
    f.ftwx = in.ftwx;
    f.last_opcode = in.last_opcode;
    f.last_ip = in.last_ip;
    f.last_dp = in.last_dp;
    std::memcpy(f.xmm, in.xmm, sizeof f.xmm);
    f.mxcsr = in.mxcsr;
}

}  // namespace kvmdbg::arch::x86
