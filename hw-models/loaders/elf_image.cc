#include "hw-models/loaders/elf_image.h"
#include "hw-models/loaders/load_messages.h"

#include <cstdio>

#include "common/byte_order.h"

namespace kvmdbg::hw {

namespace {

constexpr std::size_t kIdentSize = 16;
constexpr std::size_t kEhdr32Size = 52;
constexpr std::size_t kEhdr64Size = 64;
constexpr std::size_t kPhdr32Size = 32;
constexpr std::size_t kPhdr64Size = 56;
constexpr std::uint16_t kPnXnum = 0xffff;
constexpr std::size_t kMaxLoadSegments = 1024;

std::uint16_t le16(std::span<const std::uint8_t> b, std::size_t off) {
    return static_cast<std::uint16_t>(load_le(b.data() + off, 2));
}

std::uint32_t le32(std::span<const std::uint8_t> b, std::size_t off) {
    return static_cast<std::uint32_t>(load_le(b.data() + off, 4));
}

std::uint64_t le64(std::span<const std::uint8_t> b, std::size_t off) { return load_le(b.data() + off, 8); }

Error elf_error(const std::string& name, const std::string& what) { return make_error(ENOEXEC, name + ": " + what); }

// [offset, offset + len) inside a file of `size` bytes, without overflow.
bool range_in_file(std::uint64_t offset, std::uint64_t len, std::uint64_t size) {
    return offset <= size && len <= size - offset;
}

ElfProgramHeader read_phdr(std::span<const std::uint8_t> b, ElfClass cls) {
    ElfProgramHeader ph;
    if (cls == ElfClass::elf64) {
        ph.type = le32(b, 0);
        ph.flags = le32(b, 4);
        ph.offset = le64(b, 8);
        ph.vaddr = le64(b, 16);
        ph.paddr = le64(b, 24);
        ph.filesz = le64(b, 32);
        ph.memsz = le64(b, 40);
        ph.align = le64(b, 48);
    } else {
        ph.type = le32(b, 0);
        ph.offset = le32(b, 4);
        ph.vaddr = le32(b, 8);
        ph.paddr = le32(b, 12);
        ph.filesz = le32(b, 16);
        ph.memsz = le32(b, 20);
        ph.flags = le32(b, 24);
        ph.align = le32(b, 28);
    }
    return ph;
}

Status check_load_segment(const ElfProgramHeader& ph, std::size_t index, ElfClass cls, std::uint64_t file_size,
                          const std::string& name) {
    std::string seg = "segment " + std::to_string(index) + ": ";
    if (ph.filesz > ph.memsz) {
        return elf_error(name, seg + "file size " + hex_text(ph.filesz) + " is larger than memory size " +
                                   hex_text(ph.memsz));
    }
    if (!range_in_file(ph.offset, ph.filesz, file_size)) {
        return elf_error(name, seg + "file data [" + hex_text(ph.offset) + ", +" + hex_text(ph.filesz) +
                                   ") is past the end of the file (size " + hex_text(file_size) + "): truncated file");
    }
    std::uint64_t limit = cls == ElfClass::elf32 ? (1ull << 32) : ~0ull;
    if (ph.paddr > limit - ph.memsz || ph.vaddr > limit - ph.memsz) {
        return elf_error(name, seg + "address range [" + hex_text(ph.paddr) + ", +" + hex_text(ph.memsz) +
                                   ") overflows the address space");
    }
    return ok_status();
}

}  // namespace

bool has_elf_magic(std::span<const std::uint8_t> file) {
    return file.size() >= 4 && file[0] == 0x7f && file[1] == 'E' && file[2] == 'L' && file[3] == 'F';
}

namespace {

// Where the program header table is: e_phoff, e_phentsize, e_phnum.
struct PhdrTable {
    std::uint64_t offset = 0;
    std::uint16_t entry_size = 0;
    std::uint16_t count = 0;
};

// e_ident: magic, class (sets image.elf_class) and data encoding.
Status check_ident(std::span<const std::uint8_t> file, const std::string& name, ElfArch arch, ElfImage& image) {
    if (!has_elf_magic(file)) {
        return elf_error(name, "not an ELF file");
    }
    if (file.size() < kIdentSize) {
        return elf_error(name, "truncated ELF header (file has " + std::to_string(file.size()) + " bytes)");
    }
    std::uint8_t cls = file[4];
    if (cls != 1 && cls != 2) {
        return elf_error(name, "unsupported ELF class " + std::to_string(cls));
    }
    image.elf_class = static_cast<ElfClass>(cls);
    if (file[5] != 1) {
        return elf_error(name, arch == ElfArch::x86
                                   ? "big-endian ELF is not supported (x86 is little endian)"
                                   : "big-endian ELF is not supported (KVM starts arm64 vCPUs little endian)");
    }
    return ok_status();
}

// The rest of the ELF header: type, machine, entry (into `image`) and the
// program header table's place.
Result<PhdrTable> read_header(std::span<const std::uint8_t> file, const std::string& name, ElfArch arch,
                              ElfImage& image) {
    bool is64 = image.elf_class == ElfClass::elf64;
    std::size_t ehdr_size = is64 ? kEhdr64Size : kEhdr32Size;
    if (file.size() < ehdr_size) {
        return elf_error(name, "truncated ELF header (file has " + std::to_string(file.size()) +
                                   " bytes, the header needs " + std::to_string(ehdr_size) + ")");
    }
    image.type = le16(file, 16);
    image.machine = le16(file, 18);
    if (arch == ElfArch::aarch64) {
        if (image.machine != kElfMachineAarch64) {
            return elf_error(name, "ELF machine " + std::to_string(image.machine) + " is not AArch64 (EM_AARCH64 183)");
        }
    } else if (image.machine != kElfMachineI386 && image.machine != kElfMachineX86_64) {
        return elf_error(name,
                         "ELF machine " + std::to_string(image.machine) + " is not x86 (want EM_386 or EM_X86_64)");
    }
    PhdrTable table;
    if (is64) {
        image.entry = le64(file, 24);
        table = PhdrTable{le64(file, 32), le16(file, 54), le16(file, 56)};
    } else {
        image.entry = le32(file, 24);
        table = PhdrTable{le32(file, 28), le16(file, 42), le16(file, 44)};
    }
    if (table.count == kPnXnum) {
        return elf_error(name, "extended program header numbering (PN_XNUM) is not supported");
    }
    return table;
}

Status read_program_headers(std::span<const std::uint8_t> file, const std::string& name, const PhdrTable& table,
                            ElfImage& image) {
    std::size_t phdr_size = image.elf_class == ElfClass::elf64 ? kPhdr64Size : kPhdr32Size;
    if (table.entry_size < phdr_size) {
        return elf_error(name, "program header size " + std::to_string(table.entry_size) + " is too small (want " +
                                   std::to_string(phdr_size) + ")");
    }
    // phnum and phentsize are 16-bit, so the product cannot overflow.
    std::uint64_t table_size = static_cast<std::uint64_t>(table.count) * table.entry_size;
    if (!range_in_file(table.offset, table_size, file.size())) {
        return elf_error(name, "truncated program headers (table [" + hex_text(table.offset) + ", +" +
                                   hex_text(table_size) + ") is past the end of the file, size " +
                                   hex_text(file.size()) + ")");
    }
    image.program_headers.reserve(table.count);
    for (std::size_t i = 0; i < table.count; ++i) {
        auto bytes = file.subspan(static_cast<std::size_t>(table.offset) + i * table.entry_size, phdr_size);
        ElfProgramHeader ph = read_phdr(bytes, image.elf_class);
        if (ph.type == kElfPtLoad) {
            if (auto st = check_load_segment(ph, i, image.elf_class, file.size(), name); !st) {
                return st;
            }
        }
        image.program_headers.push_back(ph);
    }
    return ok_status();
}

}  // namespace

Result<ElfImage> parse_elf_image(std::span<const std::uint8_t> file, const std::string& name, ElfArch arch) {
    ElfImage image;
    if (auto st = check_ident(file, name, arch, image); !st) {
        return st.error();
    }
    auto table = read_header(file, name, arch, image);
    if (!table) {
        return table.error();
    }
    if (table->count != 0) {
        if (auto st = read_program_headers(file, name, *table, image); !st) {
            return st.error();
        }
    }
    return image;
}

std::uint64_t elf_physical_entry(const ElfImage& image) {
    std::uint64_t entry = image.entry;
    for (const auto& ph : image.program_headers) {
        if (ph.type == kElfPtLoad && (ph.flags & kElfPfX) != 0 && ph.vaddr != ph.paddr && image.entry >= ph.vaddr &&
            image.entry - ph.vaddr < ph.filesz) {
            entry = image.entry - ph.vaddr + ph.paddr;
        }
    }
    return entry;
}

Result<std::vector<ElfLoadSegment>> elf_load_segments(const ElfImage& image, std::span<const std::uint8_t> file,
                                                      const std::string& name) {
    // parse_elf_image() guarantees the file ranges and that no address
    // range overflows, so the sums below are safe.
    const auto& phs = image.program_headers;
    std::size_t loads = 0;
    for (const auto& ph : phs) {
        loads += ph.type == kElfPtLoad ? 1 : 0;
    }
    // The checks below are quadratic; real kernels have a handful of
    // segments, so a cap keeps a crafted file from stalling the loader.
    if (loads > kMaxLoadSegments) {
        return elf_error(name, std::to_string(loads) + " PT_LOAD segments; at most " +
                                   std::to_string(kMaxLoadSegments) + " are supported");
    }
    std::vector<ElfLoadSegment> segs;
    for (std::size_t i = 0; i < phs.size(); ++i) {
        const auto& ph = phs[i];
        if (ph.type != kElfPtLoad) {
            continue;
        }
        std::uint64_t memsz = ph.memsz;
        if (memsz > ph.filesz) {
            std::uint64_t zero_start = ph.paddr + ph.filesz;
            std::uint64_t zero_end = ph.paddr + ph.memsz;
            for (std::size_t j = 0; j < phs.size(); ++j) {
                const auto& other = phs[j];
                if (j != i && other.type == kElfPtLoad && other.paddr < zero_end &&
                    zero_start < other.paddr + other.memsz) {
                    memsz = ph.filesz;
                    break;
                }
            }
        }
        segs.push_back(
            ElfLoadSegment{i, ph.paddr, memsz,
                           file.subspan(static_cast<std::size_t>(ph.offset), static_cast<std::size_t>(ph.filesz))});
    }
    if (segs.empty()) {
        return elf_error(name, "no loadable (PT_LOAD) segment");
    }
    for (std::size_t a = 0; a < segs.size(); ++a) {
        for (std::size_t b = a + 1; b < segs.size(); ++b) {
            const auto& x = segs[a];
            const auto& y = segs[b];
            if (x.memsz != 0 && y.memsz != 0 && x.paddr < y.paddr + y.memsz && y.paddr < x.paddr + x.memsz) {
                return elf_error(name, "segments " + std::to_string(x.index) + " [" + hex_text(x.paddr) + ", " +
                                           hex_text(x.paddr + x.memsz) + ") and " + std::to_string(y.index) + " [" +
                                           hex_text(y.paddr) + ", " + hex_text(y.paddr + y.memsz) + ") overlap");
            }
        }
    }
    return segs;
}

}  // namespace kvmdbg::hw
