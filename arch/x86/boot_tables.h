// Boot structures for entering an x86 guest directly in protected or long
// mode, as a boot loader would leave it: a flat GDT, identity-mapping page
// tables and the initial vCPU register state (KvmdbgX86State).
//
// Everything here is pure: the builders write into a caller-provided byte
// span (the caller copies it into guest RAM at the address it chose) and the
// state functions return plain values. Any thread may call them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "arch/x86/cpu_state.h"
#include "common/result.h"

namespace kvmdbg::arch::x86 {

// ---------------------------------------------------------------- the GDT
//
// The boot GDT is four 8-byte descriptors (Intel SDM Vol. 3A 3.4.5,
// "Segment Descriptors"), all flat (base 0, limit 0xfffff pages = 4 GiB),
// DPL 0, present, with the accessed bit already set so that loading a
// selector never makes the CPU write to the table:
//
//   selector  descriptor          meaning
//   0x00      0x0000000000000000  null
//   0x08      0x00cf9b000000ffff  32-bit code: type 0xb (exec/read, accessed), D=1, G=1
//   0x10      0x00cf93000000ffff  data:        type 0x3 (read/write, accessed), B=1, G=1
//   0x18      0x00af9b000000ffff  64-bit code: type 0xb, L=1, D=0, G=1
//
// One descriptor, high dword above the low dword:
//
//   31          24 23 22 21 20 19   16 15 14 13 12 11   8 7            0
//  +--------------+--+--+--+--+-------+--+-----+--+------+--------------+
//  | base 31:24   |G |DB|L |AV|lim    |P | DPL |S | type | base 23:16   |  +4
//  |              |  |  |  |L |19:16  |  |     |  |      |              |
//  +--------------+--+--+--+--+-------+--+-----+--+------+--------------+
//  | base 15:0                        | limit 15:0                      |  +0
//  +----------------------------------+---------------------------------+
//   31                              16 15                              0

/// Selector of the flat 32-bit code segment.
inline constexpr std::uint16_t kBootCode32Selector = 0x08;
/// Selector of the flat data segment (used for DS, ES, FS, GS and SS).
inline constexpr std::uint16_t kBootDataSelector = 0x10;
/// Selector of the 64-bit code segment.
inline constexpr std::uint16_t kBootCode64Selector = 0x18;
/// Size in bytes of the boot GDT; GDTR.limit is this minus one.
inline constexpr std::size_t kBootGdtSize = 32;

/// Writes the boot GDT (kBootGdtSize bytes, little endian) at the start of
/// `out`. Errors: EINVAL if `out` is smaller than kBootGdtSize.
Status write_boot_gdt(std::span<std::uint8_t> out);

// The Linux boot GDT: the Linux x86-64 boot protocol (Linux
// Documentation/arch/x86/boot.rst, "64-bit Boot Protocol") wants a GDT with
// flat 4 GiB descriptors for __BOOT_CS (0x10, execute/read) and __BOOT_DS
// (0x18, read/write), CS = __BOOT_CS and DS = ES = SS = __BOOT_DS. Same size
// and descriptor encodings as the boot GDT above, in another order:
//
//   selector  descriptor          meaning
//   0x00      0x0000000000000000  null
//   0x08      0x00cf9b000000ffff  32-bit code (__KERNEL32_CS; unused at entry)
//   0x10      0x00af9b000000ffff  64-bit code, __BOOT_CS
//   0x18      0x00cf93000000ffff  data, __BOOT_DS

/// Selector of the Linux boot GDT's 64-bit code segment (__BOOT_CS).
inline constexpr std::uint16_t kLinuxBootCodeSelector = 0x10;
/// Selector of the Linux boot GDT's data segment (__BOOT_DS).
inline constexpr std::uint16_t kLinuxBootDataSelector = 0x18;

/// Which boot GDT a long-mode entry state uses; it picks the selectors.
enum class BootGdt {
    kvmdbg,       ///< write_boot_gdt(): CS 0x18, data 0x10
    linux_64bit,  ///< write_linux_boot_gdt(): CS 0x10, data 0x18
};

/// Writes the Linux boot GDT (kBootGdtSize bytes, little endian) at the
/// start of `out`. Errors: EINVAL if `out` is smaller than kBootGdtSize.
Status write_linux_boot_gdt(std::span<std::uint8_t> out);

// ------------------------------------------------------- the page tables
//
// 4-level paging (Intel SDM Vol. 3A 4.5, "4-Level Paging and 5-Level
// Paging") identity-mapping [0, max(4 GiB, ram_top)) rounded up to 1 GiB,
// with 2 MiB pages (PDE.PS = 1, Table 4-17). Layout from the table base
// `table_gpa` (4 KiB aligned):
//
//   table_gpa + 0x0000   PML4: entry 0 -> PDPT                  (P|RW)
//   table_gpa + 0x1000   PDPT: entry i -> PD i, one per GiB      (P|RW)
//   table_gpa + 0x2000   PD 0: entry j maps j * 2 MiB            (P|RW|PS)
//   table_gpa + 0x3000   PD 1: entry j maps 1 GiB + j * 2 MiB
//   ...
//
// CR3 = table_gpa. One PDPT covers 512 GiB, which is the limit.

/// Largest ram_top the identity map supports (one PDPT).
inline constexpr std::uint64_t kIdentityMapLimit = 512ull << 30;

/// Bytes the identity page tables for `ram_top` take: (2 + GiB count) pages,
/// where the GiB count is max(4 GiB, ram_top) / 1 GiB rounded up. Returns 0
/// if ram_top exceeds kIdentityMapLimit.
std::uint64_t identity_page_tables_size(std::uint64_t ram_top);

/// Writes the identity page tables (layout above) into `out`, which the
/// caller will place at guest-physical `table_gpa`; zeroes the unused
/// entries. Errors: EINVAL if table_gpa is not 4 KiB aligned, if ram_top
/// exceeds kIdentityMapLimit, or if `out` is smaller than
/// identity_page_tables_size(ram_top).
Status write_identity_page_tables(std::span<std::uint8_t> out, std::uint64_t table_gpa, std::uint64_t ram_top);

// --------------------------------------------------------- vCPU states
//
// Common to every state below: TR is a present busy 32-bit TSS (type 0xb,
// base 0, limit 0xffff; KVM refuses entry with an unusable TR), LDTR is
// unusable, IDTR is base 0 limit 0 (the guest installs its own), the x87/SSE
// state is zero except FCW = 0x37f and MXCSR = 0x1f80 (their FNINIT/reset
// values), DR6 = 0xffff0ff0, DR7 = 0x400 and APIC_BASE = 0xfee00000 |
// enable (0x800) | BSP (0x100, vCPU 0 only). Loading a state with APIC_BASE
// 0 would disable the local APIC, so the accelerator must set it as given.

/// Entry in 32-bit protected mode, paging off (the Multiboot v1 machine
/// state, Multiboot spec 3.2).
struct ProtectedModeEntry {
    std::uint32_t eip = 0;
    std::uint32_t eax = 0;
    std::uint32_t ebx = 0;
    std::uint32_t esp = 0;
    std::uint32_t gdt_base = 0;  ///< guest-physical address of the boot GDT
    bool bsp = true;
};

/// CS = 0x08 flat 32-bit code (type 0xb, S=1, DB=1, G=1, limit 0xffffffff),
/// DS/ES/FS/GS/SS = 0x10 flat data (type 0x3, DB=1, G=1), CR0 = PE|ET
/// (0x11), CR3 = CR4 = EFER = 0, EFLAGS = 0x2, GDTR = {gdt_base, 31}.
KvmdbgX86State protected_mode_entry_state(const ProtectedModeEntry& entry);

/// Entry in 64-bit long mode with paging on.
struct LongModeEntry {
    std::uint64_t rip = 0;
    std::uint64_t rsp = 0;
    std::uint64_t rdi = 0;
    std::uint64_t rsi = 0;
    std::uint64_t cr3 = 0;          ///< root of write_identity_page_tables()
    std::uint64_t gdt_base = 0;     ///< guest-physical address of the boot GDT
    BootGdt gdt = BootGdt::kvmdbg;  ///< the table at gdt_base: the selectors
    bool bsp = true;
};

/// CS = 64-bit code (type 0xb, L=1, DB=0, G=1), DS/ES/FS/GS/SS = flat data,
/// with the selectors of `gdt` (kvmdbg: CS 0x18, data 0x10; linux_64bit: CS 0x10,
/// data 0x18), CR0 = PE|MP|ET|NE|WP|PG (0x80010033), CR4 = PAE|OSFXSR|
/// OSXMMEXCPT (0x620), EFER = LME|LMA (0x500), RFLAGS = 0x2,
/// GDTR = {gdt_base, 31}.
KvmdbgX86State long_mode_entry_state(const LongModeEntry& entry);

/// The architectural power-on/INIT state (Intel SDM Vol. 3A 10.1.1, Table
/// 10-1): real mode, CS = 0xf000 with base 0xffff0000, IP = 0xfff0, EDX = 0x600,
/// CR0 = ET|CD|NW (0x60000010), segments with limit 0xffff. This is the state
/// of an AP that waits for INIT/SIPI. `bsp` only selects APIC_BASE.BSP.
KvmdbgX86State reset_state(bool bsp);

}  // namespace kvmdbg::arch::x86
