#include "arch/x86/boot_tables.h"

#include <cstring>

#include "common/byte_order.h"

namespace kvmdbg::arch::x86 {

namespace {

constexpr std::uint64_t kPage = 0x1000;
constexpr std::uint64_t kGiB = 1ull << 30;
constexpr std::uint64_t k2MiB = 2ull << 20;

constexpr std::uint64_t kPteP = 1ull << 0;
constexpr std::uint64_t kPteRw = 1ull << 1;
constexpr std::uint64_t kPtePs = 1ull << 7;

constexpr std::uint64_t kCr0Pe = 1ull << 0;
constexpr std::uint64_t kCr0Mp = 1ull << 1;
constexpr std::uint64_t kCr0Et = 1ull << 4;
constexpr std::uint64_t kCr0Ne = 1ull << 5;
constexpr std::uint64_t kCr0Wp = 1ull << 16;
constexpr std::uint64_t kCr0Nw = 1ull << 29;
constexpr std::uint64_t kCr0Cd = 1ull << 30;
constexpr std::uint64_t kCr0Pg = 1ull << 31;
constexpr std::uint64_t kCr4Pae = 1ull << 5;
constexpr std::uint64_t kCr4Osfxsr = 1ull << 9;
constexpr std::uint64_t kCr4Osxmmexcpt = 1ull << 10;
constexpr std::uint64_t kEferLme = 1ull << 8;
constexpr std::uint64_t kEferLma = 1ull << 10;

constexpr std::uint64_t kApicDefaultBase = 0xfee00000;
constexpr std::uint64_t kApicBaseBsp = 1ull << 8;
constexpr std::uint64_t kApicBaseEnable = 1ull << 11;

constexpr std::uint8_t kTypeCodeExecReadAccessed = 0xb;
constexpr std::uint8_t kTypeDataReadWriteAccessed = 0x3;
constexpr std::uint8_t kTypeLdt = 0x2;
constexpr std::uint8_t kTypeBusyTss32 = 0xb;

// The descriptors of the table drawn in the header, in selector order.
constexpr std::uint64_t kBootGdt[kBootGdtSize / 8] = {
    0x0000000000000000ull,
    0x00cf9b000000ffffull,
    0x00cf93000000ffffull,
    0x00af9b000000ffffull,
};

// The Linux boot GDT drawn in the header, in selector order.
constexpr std::uint64_t kLinuxBootGdt[kBootGdtSize / 8] = {
    0x0000000000000000ull,
    0x00cf9b000000ffffull,
    0x00af9b000000ffffull,
    0x00cf93000000ffffull,
};

void store_le64(std::uint8_t* p, std::uint64_t v) { store_le(p, v, 8); }

KvmdbgX86Segment flat_segment(std::uint16_t selector, std::uint8_t type, bool long_code) {
    KvmdbgX86Segment s{};
    s.base = 0;
    s.limit = 0xffffffff;
    s.selector = selector;
    s.type = type;
    s.present = 1;
    s.dpl = 0;
    s.db = long_code ? 0 : 1;
    s.s = 1;
    s.l = long_code ? 1 : 0;
    s.g = 1;
    return s;
}

// The pieces shared by every state: TR, LDTR, IDTR, FPU, debug registers,
// APIC base. Everything not set here is zero.
KvmdbgX86State common_state(bool bsp) {
    KvmdbgX86State st;
    std::memset(&st, 0, sizeof st);
    st.tr.limit = 0xffff;
    st.tr.type = kTypeBusyTss32;
    st.tr.present = 1;
    st.ldt.limit = 0xffff;
    st.ldt.type = kTypeLdt;
    st.ldt.unusable = 1;
    st.rflags = 0x2;
    st.dr6 = 0xffff0ff0;
    st.dr7 = 0x400;
    st.fcw = 0x37f;
    st.mxcsr = 0x1f80;
    st.apic_base = kApicDefaultBase | kApicBaseEnable | (bsp ? kApicBaseBsp : 0);
    return st;
}

void set_data_segments(KvmdbgX86State& st, std::uint16_t selector = kBootDataSelector) {
    KvmdbgX86Segment data = flat_segment(selector, kTypeDataReadWriteAccessed, false);
    st.ds = data;
    st.es = data;
    st.fs = data;
    st.gs = data;
    st.ss = data;
}

Status write_gdt(std::span<std::uint8_t> out, const std::uint64_t (&table)[kBootGdtSize / 8]) {
    if (out.size() < kBootGdtSize) {
        return make_error(EINVAL, "boot GDT needs " + std::to_string(kBootGdtSize) + " bytes, buffer has " +
                                      std::to_string(out.size()));
    }
    for (std::size_t i = 0; i < kBootGdtSize / 8; ++i) {
        store_le64(out.data() + 8 * i, table[i]);
    }
    return ok_status();
}

}  // namespace

Status write_boot_gdt(std::span<std::uint8_t> out) { return write_gdt(out, kBootGdt); }

Status write_linux_boot_gdt(std::span<std::uint8_t> out) { return write_gdt(out, kLinuxBootGdt); }

std::uint64_t identity_page_tables_size(std::uint64_t ram_top) {
    if (ram_top > kIdentityMapLimit) {
        return 0;
    }
    std::uint64_t top = ram_top < 4 * kGiB ? 4 * kGiB : ram_top;
    std::uint64_t gibs = (top + kGiB - 1) / kGiB;
    return (2 + gibs) * kPage;
}

Status write_identity_page_tables(std::span<std::uint8_t> out, std::uint64_t table_gpa, std::uint64_t ram_top) {
    if ((table_gpa & (kPage - 1)) != 0) {
        return make_error(EINVAL, "page-table base is not 4 KiB aligned");
    }
    std::uint64_t size = identity_page_tables_size(ram_top);
    if (size == 0) {
        return make_error(EINVAL, "identity map supports RAM up to 512 GiB only");
    }
    if (out.size() < size) {
        return make_error(EINVAL, "identity page tables need " + std::to_string(size) + " bytes, buffer has " +
                                      std::to_string(out.size()));
    }
    std::memset(out.data(), 0, size);
    std::uint64_t gibs = size / kPage - 2;
    std::uint8_t* pml4 = out.data();
    std::uint8_t* pdpt = out.data() + kPage;
    store_le64(pml4, (table_gpa + kPage) | kPteP | kPteRw);
    for (std::uint64_t i = 0; i < gibs; ++i) {
        std::uint64_t pd_gpa = table_gpa + (2 + i) * kPage;
        store_le64(pdpt + 8 * i, pd_gpa | kPteP | kPteRw);
        std::uint8_t* pd = out.data() + (2 + i) * kPage;
        for (std::uint64_t j = 0; j < 512; ++j) {
            store_le64(pd + 8 * j, (i * kGiB + j * k2MiB) | kPteP | kPteRw | kPtePs);
        }
    }
    return ok_status();
}

KvmdbgX86State protected_mode_entry_state(const ProtectedModeEntry& entry) {
    KvmdbgX86State st = common_state(entry.bsp);
    st.cs = flat_segment(kBootCode32Selector, kTypeCodeExecReadAccessed, false);
    set_data_segments(st);
    st.gdt.base = entry.gdt_base;
    st.gdt.limit = kBootGdtSize - 1;
    st.cr0 = kCr0Pe | kCr0Et;
    st.rip = entry.eip;
    st.gpr[KVMDBG_X86_RAX] = entry.eax;
    st.gpr[KVMDBG_X86_RBX] = entry.ebx;
    st.gpr[KVMDBG_X86_RSP] = entry.esp;
    return st;
}

KvmdbgX86State long_mode_entry_state(const LongModeEntry& entry) {
    KvmdbgX86State st = common_state(entry.bsp);
    bool linux_gdt = entry.gdt == BootGdt::linux_64bit;
    st.cs = flat_segment(linux_gdt ? kLinuxBootCodeSelector : kBootCode64Selector, kTypeCodeExecReadAccessed, true);
    set_data_segments(st, linux_gdt ? kLinuxBootDataSelector : kBootDataSelector);
    st.gdt.base = entry.gdt_base;
    st.gdt.limit = kBootGdtSize - 1;
    st.cr0 = kCr0Pe | kCr0Mp | kCr0Et | kCr0Ne | kCr0Wp | kCr0Pg;
    st.cr3 = entry.cr3;
    st.cr4 = kCr4Pae | kCr4Osfxsr | kCr4Osxmmexcpt;
    st.efer = kEferLme | kEferLma;
    st.rip = entry.rip;
    st.gpr[KVMDBG_X86_RSP] = entry.rsp;
    st.gpr[KVMDBG_X86_RDI] = entry.rdi;
    st.gpr[KVMDBG_X86_RSI] = entry.rsi;
    return st;
}

KvmdbgX86State reset_state(bool bsp) {
    KvmdbgX86State st = common_state(bsp);
    KvmdbgX86Segment data{};
    data.limit = 0xffff;
    data.type = kTypeDataReadWriteAccessed;
    data.present = 1;
    data.s = 1;
    st.ds = data;
    st.es = data;
    st.fs = data;
    st.gs = data;
    st.ss = data;
    st.cs = data;
    st.cs.selector = 0xf000;
    st.cs.base = 0xffff0000;
    st.cs.type = kTypeCodeExecReadAccessed;
    st.ldt.unusable = 0;
    st.ldt.present = 1;
    st.gdt.limit = 0xffff;
    st.idt.limit = 0xffff;
    st.rip = 0xfff0;
    st.gpr[KVMDBG_X86_RDX] = 0x600;
    st.cr0 = kCr0Et | kCr0Cd | kCr0Nw;
    return st;
}

}  // namespace kvmdbg::arch::x86
