// The BIOS data area (BDA): the 256 bytes at guest-physical 0x400 that a PC
// BIOS fills before it boots anything, as far as kernels read it.
//
// pc-lite runs no BIOS, but kernels written for PCs (and QEMU, whose
// SeaBIOS fills the BDA before its multiboot option ROM runs) read a few
// words of it. What pc-lite writes, the values SeaBIOS leaves on QEMU's pc
// machine with one serial port (IBM PC/AT Technical Reference, "BIOS data
// area"; SeaBIOS src/std/bda.h):
//
//   offset  size  field                      value
//   0x400   u16   COM1 base I/O port         0x03f8
//   0x402   u16   COM2..COM4 base ports      0 (absent)
//   0x408   u16   LPT1..LPT3 base ports      0 (absent)
//   0x40e   u16   EBDA segment               0x9fc0 (EBDA at 0x9fc00, 1 KiB)
//   0x410   u16   equipment word             0x0202, see below
//   0x413   u16   base memory size in KiB    639 (what int 0x12 returns)
//   others                                   0
//
//   equipment word (0x410):
//    15 14 13 12 11 10  9  8  7  6  5  4  3  2  1  0
//   +-----+--+--+--------+--+-----+-----+--+--+--+--+
//   | LPT |  |  | serial |  |flopp|video|  |  |FP|fd|
//   +-----+--+--+--------+--+-----+-----+--+--+--+--+
//   serial (11:9) = 1 port; FP (1) = x87 present; floppies, video (00 =
//   EGA/VGA or none), parallel ports: 0.
//
// Xen, for one, places its real-mode trampoline below min(EBDA, base
// memory, multiboot mem_lower): with zeroes here it computes an address just
// below 4 GiB and faults. Linux reads 0x40e and 0x413 to reserve the EBDA.
// The EBDA itself (0x9fc00) is left zero: SeaBIOS keeps its size byte and
// private data there, which no kernel we know of reads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace kvmdbg::hw {

inline constexpr std::uint64_t kBiosDataAreaBase = 0x400;
inline constexpr std::size_t kBiosDataAreaSize = 0x100;

/// What goes into the BIOS data area; defaults are pc-lite's (see above).
struct BiosDataAreaConfig {
    std::uint16_t com1_port = 0x3f8;      ///< 0: no serial port
    std::uint16_t base_memory_kib = 639;  ///< 0x413
    std::uint16_t ebda_segment = 0x9fc0;  ///< 0x40e
};

/// Offsets of the fields written, from the start of the area (0x400).
inline constexpr std::size_t kBdaCom1Port = 0x00;
inline constexpr std::size_t kBdaEbdaSegment = 0x0e;
inline constexpr std::size_t kBdaEquipment = 0x10;
inline constexpr std::size_t kBdaBaseMemoryKib = 0x13;

/// The equipment word for `serial_ports` (0..4) serial ports and an x87.
std::uint16_t bda_equipment_word(unsigned serial_ports);

/// The 256 bytes of the area, little-endian, for guest-physical
/// [0x400, 0x500). Pure; any thread.
std::array<std::uint8_t, kBiosDataAreaSize> bios_data_area(const BiosDataAreaConfig& config);

}  // namespace kvmdbg::hw
