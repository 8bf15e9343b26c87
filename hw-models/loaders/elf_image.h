// ElfImage: the ELF header and program headers of an x86 kernel file,
// parsed from memory with every offset and size checked.
//
// Only what loading needs is parsed (System V gABI, "ELF Header" and
// "Program Header"): class, machine, entry and the program header table.
// ELF32 and ELF64, little endian, EM_386 or EM_X86_64 (ElfArch::x86, the
// default) or EM_AARCH64 (ElfArch::aarch64, for the virt machine). Pure
// functions; any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace kvmdbg::hw {

enum class ElfClass : std::uint8_t { elf32 = 1, elf64 = 2 };

inline constexpr std::uint16_t kElfMachineI386 = 3;       ///< EM_386
inline constexpr std::uint16_t kElfMachineX86_64 = 62;    ///< EM_X86_64
inline constexpr std::uint16_t kElfMachineAarch64 = 183;  ///< EM_AARCH64

/// Which machines parse_elf_image() accepts.
enum class ElfArch { x86, aarch64 };
inline constexpr std::uint32_t kElfPtLoad = 1;  ///< PT_LOAD
inline constexpr std::uint32_t kElfPfX = 1;     ///< PF_X

/// One program header, widened to 64 bits for ELF32.
struct ElfProgramHeader {
    std::uint32_t type = 0;
    std::uint32_t flags = 0;
    std::uint64_t offset = 0;
    std::uint64_t vaddr = 0;
    std::uint64_t paddr = 0;
    std::uint64_t filesz = 0;
    std::uint64_t memsz = 0;
    std::uint64_t align = 0;
};

struct ElfImage {
    ElfClass elf_class = ElfClass::elf32;
    std::uint16_t type = 0;                         ///< e_type (ET_EXEC, ET_DYN, ...), not checked
    std::uint16_t machine = 0;                      ///< kElfMachineI386 or kElfMachineX86_64
    std::uint64_t entry = 0;                        ///< e_entry as written (a virtual address)
    std::vector<ElfProgramHeader> program_headers;  ///< in file order, all types
};

/// True if `file` starts with the 4 ELF magic bytes "\x7f" "ELF".
bool has_elf_magic(std::span<const std::uint8_t> file);

/// Parses and checks the ELF header and program header table of `file`;
/// `name` (the file's path) starts every error message. Guarantees on
/// success: for every PT_LOAD header, [offset, offset + filesz) lies inside
/// `file`, filesz <= memsz, and paddr + memsz and vaddr + memsz do not
/// overflow (nor exceed 4 GiB for ELF32). All errors are ENOEXEC:
///   "not an ELF file", "truncated ELF header", "unsupported ELF class N",
///   "big-endian ELF is not supported", "ELF machine N is not x86 ..."
///   (with ElfArch::aarch64: "ELF machine N is not AArch64 (EM_AARCH64 183)"),
///   "truncated program headers ...", "program header size N is too small",
///   "segment N: ..." (file data past the end of the file: truncated file,
///   filesz > memsz, address overflow).
Result<ElfImage> parse_elf_image(std::span<const std::uint8_t> file, const std::string& name,
                                 ElfArch arch = ElfArch::x86);

/// The entry point as a physical address, as QEMU's load_elf() computes it:
/// if an executable PT_LOAD segment has paddr != vaddr and e_entry lies in
/// [vaddr, vaddr + filesz), the entry is moved by (paddr - vaddr) (the last
/// such segment wins, as in QEMU); otherwise e_entry is returned unchanged.
std::uint64_t elf_physical_entry(const ElfImage& image);

/// One PT_LOAD segment as it is to be placed in guest-physical memory:
/// `data` (a view into the file, filesz bytes) at `paddr`, then zeroes up
/// to `memsz`.
struct ElfLoadSegment {
    std::size_t index = 0;  ///< position in the program header table
    std::uint64_t paddr = 0;
    std::uint64_t memsz = 0;
    std::span<const std::uint8_t> data;
};

/// The PT_LOAD segments of `image` (parsed from `file`), in file order,
/// loaded the way QEMU's load_elf() loads them: at p_paddr, and with memsz
/// cut down to filesz when the zero-filled tail would overlap another
/// PT_LOAD segment (ROM images whose .bss is set up at run time). Segments
/// with memsz 0 are kept (QEMU counts them in the image's low/high bounds)
/// but have nothing to load. Errors (ENOEXEC, message starting with
/// `name`): "no loadable (PT_LOAD) segment", "segments N and M overlap ...",
/// more than 1024 PT_LOAD segments.
Result<std::vector<ElfLoadSegment>> elf_load_segments(const ElfImage& image, std::span<const std::uint8_t> file,
                                                      const std::string& name);

}  // namespace kvmdbg::hw
