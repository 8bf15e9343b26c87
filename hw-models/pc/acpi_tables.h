// The ACPI tables pc-lite gives a kernel it boots directly: the platform
// description a stock Linux needs for -smp N, its interrupt controllers and
// a power-off it uses by default, in the least ACPI that does it.
//
// Why ACPI and not the MP tables: both describe the CPUs and the IOAPIC
// (MP: ~200 bytes; ACPI's MADT: about the same), but only ACPI gives Linux a
// way to power off (the FADT's PM1a control block and \_S5 in the DSDT) and
// a reference clock for TSC calibration (the FADT's PM timer). Without ACPI
// Linux halts on `poweroff` and prints "System halted". What each table
// costs here: RSDP 36 bytes, RSDT 40, XSDT 52, FADT 244, FACS 64, DSDT 48,
// MADT 44 + 8 per CPU + 12 (IOAPIC) + 10 (SCI override) + 6 (LINT1 NMI);
// about 0x300 bytes in all, built once at load time.
//
// Layout (ACPI 6.5 chapter 5; the RSDP 16-byte aligned in 0xE0000-0xFFFFF,
// where Linux and other kernels look for "RSD PTR " when no firmware tells
// them, the FACS 64-byte aligned):
//
//   base + 0x000  RSDP rev 2 (ACPI 2.0+) -> RSDT (32-bit) and XSDT (64-bit)
//                 RSDT/XSDT -> FADT, MADT
//                 FADT rev 3 (ACPI 2.0) -> FACS, DSDT
//                 DSDT: Name (_S5, Package (4) {0, 0, 0, 0}), nothing else
//                 MADT: one Processor Local APIC per vCPU (UID = APIC ID =
//                       vCPU index, enabled), IOAPIC 0 at 0xFEC00000 GSI 0,
//                       ISA IRQ 9 (SCI) -> GSI 9 level/high, LINT1 = NMI
//
// The machine's hardware behind the FADT (QEMU pc's PIIX4 PM ports):
//
//   PM1a_EVT_BLK  pm_base + 0, 4 bytes  status/enable (acpi_pm1_event.h)
//   PM1a_CNT_BLK  pm_base + 4, 2 bytes  SLP_EN powers off (acpi_poweroff.h)
//   PM_TMR_BLK    pm_base + 8, 4 bytes  24-bit 3.579545 MHz (acpi_pm_timer.h)
//   RESET_REG     system I/O reset_port, RESET_VALUE reset_value (i8042 0xFE)
//   SMI_CMD       0: always in ACPI mode, no SMI handshake
//   IAPC_BOOT_ARCH  legacy devices, no 8042 keyboard, no VGA
//
// Interrupts: the in-kernel irqchip's default routing sends GSI n to IOAPIC
// pin n and, for n < 16, PIC pin n, so ISA IRQ 0 (the PIT) needs no
// override (QEMU, which reroutes IRQ 0 to pin 2, adds one).
//
// The \_S5 package holds SLP_TYP 0, QEMU's value; the PM1a control
// register powers off on SLP_EN with SLP_TYP 0 and ignores the other sleep
// types (acpi_poweroff.h).
#pragma once

#include <cstdint>
#include <vector>

namespace kvmdbg::hw {

/// What the tables describe; the defaults are pc-lite's.
struct AcpiPlatform {
    std::uint32_t cpus = 1;
    std::uint16_t pm_base = 0x600;
    std::uint8_t sci_irq = 9;
    std::uint16_t reset_port = 0x64;
    std::uint8_t reset_value = 0xfe;
    std::uint8_t rtc_century = 0x32;  ///< CMOS index of the century, 0: none
    std::uint64_t local_apic = 0xfee00000;
    std::uint64_t ioapic = 0xfec00000;
};

/// Where pc-lite puts them (in the reserved 0x9FC00-1 MiB of the e820 map).
inline constexpr std::uint64_t kAcpiTablesGpa = 0xe0000;
/// The most they may take there (up to the top of the BIOS area scan).
inline constexpr std::uint64_t kAcpiTablesMaxSize = 0x10000;

/// Offsets of the PM registers from AcpiPlatform::pm_base.
inline constexpr std::uint16_t kAcpiPm1EventOffset = 0;
inline constexpr std::uint16_t kAcpiPm1EventLength = 4;
inline constexpr std::uint16_t kAcpiPm1ControlOffset = 4;
inline constexpr std::uint16_t kAcpiPm1ControlLength = 2;
inline constexpr std::uint16_t kAcpiPmTimerOffset = 8;
inline constexpr std::uint16_t kAcpiPmTimerLength = 4;

/// A field the firmware fixes up after it placed the tables (see
/// AcpiTablesForFirmware): a pointer of `size` bytes at `offset`.
struct AcpiPointerField {
    std::uint32_t offset;
    std::uint8_t size;
};
/// A checksum byte at `offset` over [start, start + length).
struct AcpiChecksumField {
    std::uint32_t offset, start, length;
};

/// The same tables for firmware that places them itself (SeaBIOS, through
/// QEMU's BIOS linker/loader, bios_linker_loader.h), split as QEMU splits
/// them into two fw_cfg files: "etc/acpi/rsdp" (the RSDP alone, for the
/// F-segment) and "etc/acpi/tables" (the rest, for high RAM). Every pointer
/// holds an offset into `tables`; the firmware adds the address where it
/// put `tables` to each field listed, then sets each checksum listed.
/// Placed so that `tables` lands at A, the result equals
/// build_acpi_tables(platform, A - tables_offset) byte for byte.
struct AcpiTablesForFirmware {
    std::vector<std::uint8_t> rsdp;
    std::vector<std::uint8_t> tables;
    std::uint32_t tables_offset = 0;  ///< where `tables` starts in build_acpi_tables()'s blob
    std::vector<AcpiPointerField> rsdp_pointers, table_pointers;
    std::vector<AcpiChecksumField> rsdp_checksums, table_checksums;
};

/// Pure; any thread.
AcpiTablesForFirmware build_acpi_tables_for_firmware(const AcpiPlatform& platform);

/// The tables as they are to sit at guest-physical `base` (16-byte
/// aligned; the RSDP first, every pointer absolute, every checksum set).
/// Pure; any thread.
std::vector<std::uint8_t> build_acpi_tables(const AcpiPlatform& platform, std::uint64_t base);

}  // namespace kvmdbg::hw
