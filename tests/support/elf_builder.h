// Builds little-endian ELF32/ELF64 executables in memory for the loader unit
// tests (elf_image, elf64_loader, multiboot_loader), so that every header
// field and every malformed case is spelled out in the test. Test-only: no
// input checking beyond what the layout needs; pure functions, any thread.
//
// Layout of an image from build_elf() (offsets in bytes):
//
//   0            ELF header (52 bytes ELF32, 64 bytes ELF64)
//   ehsize       program headers, one per Seg, back to back
//                (32 bytes ELF32, 56 bytes ELF64), e_phoff = ehsize
//   0x1000       data of segment 0, padded to the next 0x1000 boundary
//   ...          data of segment 1, 2, ... each at a 0x1000 boundary
//
// Header fields (System V gABI, "ELF Header" and "Program Header"):
// EI_CLASS from is64, EI_DATA = ELFDATA2LSB, EI_VERSION = 1, e_type = ET_EXEC,
// e_version = 1; every program header has p_offset as above, p_filesz =
// data.size() and p_align = 0x1000. Fields not named here are zero.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kvmdbg::test {

using Bytes = std::vector<std::uint8_t>;

/// Little-endian stores of 2, 4 and 8 bytes at `b[off]`. The caller makes
/// sure `off + size <= b.size()`; tests use them to corrupt single fields of
/// a built image (e.g. `put64(image, 32, ...)` overwrites e_phoff).
void put16(Bytes& b, std::size_t off, std::uint16_t v);
void put32(Bytes& b, std::size_t off, std::uint32_t v);
void put64(Bytes& b, std::size_t off, std::uint64_t v);

/// `n` bytes `seed, seed + 7, seed + 14, ...` (mod 256): repeats every 256
/// bytes.
Bytes pattern(std::size_t n, std::uint8_t seed);

/// `n` bytes where byte i is `seed + 13 * i + i / 256` (mod 256): does not
/// repeat within 64 KiB, so data copied to an offset that is wrong by a
/// multiple of 256 does not compare equal.
Bytes long_pattern(std::size_t n, std::uint8_t seed);

/// ELF program header type PT_LOAD.
inline constexpr std::uint32_t kPtLoad = 1;

/// One program header and its file data. p_filesz is `data.size()`; `memsz`
/// may be larger (the rest is .bss) or, for malformed cases, smaller.
struct Seg {
    std::uint32_t type = kPtLoad;
    std::uint32_t flags = 5;  // PF_R | PF_X
    std::uint64_t vaddr = 0;
    std::uint64_t paddr = 0;
    Bytes data;
    std::uint64_t memsz = 0;
};

/// A PT_LOAD segment at vaddr = paddr = `addr` holding `data`.
Seg seg(std::uint64_t addr, Bytes data, std::uint64_t memsz);

/// A PT_LOAD segment at vaddr = paddr = `addr` holding `filesz` bytes of
/// `fill`.
Seg seg(std::uint64_t addr, std::size_t filesz, std::uint64_t memsz, std::uint8_t fill = 0x5a);

/// An ELF32 (`is64` false) or ELF64 executable for e_machine `machine` with
/// e_entry `entry` and one program header per entry of `segs`, laid out as
/// described at the top of this file. The image is at least as long as its
/// headers, so an empty `segs` gives a bare ELF header.
Bytes build_elf(bool is64, std::uint16_t machine, std::uint64_t entry, const std::vector<Seg>& segs);

/// build_elf(true, EM_X86_64, entry, segs).
Bytes build_elf64(std::uint64_t entry, const std::vector<Seg>& segs);

}  // namespace kvmdbg::test
