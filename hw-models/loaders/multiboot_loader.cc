#include "hw-models/loaders/multiboot_loader.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "arch/x86/boot_tables.h"
#include "common/byte_order.h"
#include "hw-models/loaders/elf_image.h"
#include "hw-models/loaders/load_messages.h"

namespace kvmdbg::hw {

namespace {

constexpr std::uint64_t kPage = 0x1000;
constexpr std::uint64_t k4GiB = 1ull << 32;
constexpr std::uint64_t k1MiB = 1ull << 20;
// The SeaBIOS memory layout QEMU's multiboot info reports (see the header).
constexpr std::uint64_t kEbdaBase = 0x9fc00;
constexpr std::uint64_t kVgaBase = 0xa0000;
constexpr std::uint64_t kBiosAreaBase = 0xf0000;
constexpr std::uint64_t kBiosHighReserve = 0x20000;
constexpr std::uint64_t kBiosRomBase = 0xfffc0000;
constexpr std::size_t kHeaderSize = 48;     // 12 dwords, the longest header form
constexpr std::size_t kAoutFieldsEnd = 32;  // magic .. entry_addr
constexpr std::uint32_t kFlagAoutKludge = 1u << 16;

// multiboot_info offsets and flags (Multiboot spec 3.3).
constexpr std::size_t kMbiFlags = 0;
constexpr std::size_t kMbiMemLower = 4;
constexpr std::size_t kMbiMemUpper = 8;
constexpr std::size_t kMbiBootDevice = 12;
constexpr std::size_t kMbiCmdline = 16;
constexpr std::size_t kMbiModsCount = 20;
constexpr std::size_t kMbiModsAddr = 24;
constexpr std::size_t kMbiMmapLength = 44;
constexpr std::size_t kMbiMmapAddr = 48;
constexpr std::size_t kMbiBootLoaderName = 64;
constexpr std::size_t kMbiSize = 88;
constexpr std::uint32_t kMbiFlagsValue = (1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9);
constexpr std::size_t kModEntrySize = 16;
constexpr std::size_t kMmapEntrySize = 24;

// The boot information page (see the header).
constexpr std::size_t kInfoMmapOffset = kMbiSize;
constexpr std::size_t kInfoGdtOffset = 0x800;
constexpr std::size_t kInfoPageSize = kPage;

constexpr char kBootLoaderName[] = "kvmdbg";
constexpr std::uint32_t kMemLowerKiB = 639;  // int 0x12 under SeaBIOS
constexpr std::uint32_t kBootDevice = 0x8000ffff;

std::uint64_t page_align(std::uint64_t v) { return (v + kPage - 1) & ~(kPage - 1); }

std::uint32_t le32(std::span<const std::uint8_t> b, std::size_t off) {
    return static_cast<std::uint32_t>(load_le(b.data() + off, 4));
}

void put32(std::uint8_t* p, std::uint32_t v) { store_le(p, v, 4); }

void put64(std::uint8_t* p, std::uint64_t v) { store_le(p, v, 8); }

// A piece of the kernel image: `data` at `gpa`, zeroes up to `size`.
struct Piece {
    std::uint64_t gpa = 0;
    std::span<const std::uint8_t> data;
    std::uint64_t size = 0;
};

// Where the kernel image goes, before anything is written.
struct KernelLayout {
    std::uint32_t load_addr = 0;
    std::uint64_t size = 0;  // QEMU's mb_kernel_size: load + bss
    std::uint32_t entry = 0;
    std::vector<Piece> pieces;
    std::string description;
};

Status check_in_ram(const GuestRam& ram, std::uint64_t gpa, std::uint64_t size, const std::string& path,
                    const std::string& what) {
    if (gpa + size < gpa || ram.host_ptr(gpa, size) == nullptr) {
        return file_error(EFAULT, path, what + " " + range_text(gpa, gpa + size) + " is outside guest RAM");
    }
    return ok_status();
}

Status check_fits_ram(const GuestRam& ram, std::uint64_t size, const std::string& path, const std::string& what) {
    if (size > ram.total_size()) {
        return file_error(EFBIG, path,
                          what + " needs " + hex_text(size) + " bytes but the guest has only " +
                              hex_text(ram.total_size()) + " bytes of RAM");
    }
    return ok_status();
}

// The a.out kludge (flags bit 16): the header's address fields say which
// file bytes go where (Multiboot spec 3.1.3), checked as QEMU checks them.
Result<KernelLayout> layout_aout(const ImageFile& kernel, std::size_t off) {
    const auto& file = kernel.bytes;
    if (off + kAoutFieldsEnd > file.size()) {
        return file_error(ENOEXEC, kernel.path, "truncated multiboot header at offset " + hex_text(off));
    }
    std::uint32_t header_addr = le32(file, off + 12);
    std::uint32_t load_addr = le32(file, off + 16);
    std::uint32_t load_end_addr = le32(file, off + 20);
    std::uint32_t bss_end_addr = le32(file, off + 24);
    std::uint32_t entry_addr = le32(file, off + 28);
    const std::string aout = "multiboot a.out kludge: ";
    if (header_addr < load_addr) {
        return file_error(ENOEXEC, kernel.path,
                          aout + "header_addr " + hex_text(header_addr) + " is below load_addr " + hex_text(load_addr));
    }
    if (header_addr - load_addr > off) {
        return file_error(ENOEXEC, kernel.path,
                          aout + "header_addr - load_addr (" + hex_text(header_addr - load_addr) +
                              ") is larger than the header's file offset " + hex_text(off));
    }
    std::uint64_t text_offset = off - (header_addr - load_addr);
    std::uint64_t load_size;
    if (load_end_addr != 0) {
        if (load_end_addr < load_addr) {
            return file_error(ENOEXEC, kernel.path,
                              aout + "load_end_addr " + hex_text(load_end_addr) + " is below load_addr " +
                                  hex_text(load_addr));
        }
        load_size = load_end_addr - load_addr;
    } else {
        load_size = file.size() - text_offset;  // text_offset <= off < size
    }
    if (load_size > UINT32_MAX - load_addr) {
        return file_error(ENOEXEC, kernel.path,
                          aout + "the load range from " + hex_text(load_addr) + " (size " + hex_text(load_size) +
                              ") goes beyond 4 GiB");
    }
    std::uint64_t kernel_size = load_size;
    if (bss_end_addr != 0) {
        if (bss_end_addr < load_addr + load_size) {
            return file_error(ENOEXEC, kernel.path,
                              aout + "bss_end_addr " + hex_text(bss_end_addr) +
                                  " is below the end of the loaded data " + hex_text(load_addr + load_size));
        }
        kernel_size = bss_end_addr - load_addr;
    }
    if (load_size > file.size() - text_offset) {
        return file_error(ENOEXEC, kernel.path,
                          "truncated file: the a.out kludge loads file bytes " +
                              range_text(text_offset, text_offset + load_size) + " but the file has " +
                              hex_text(file.size()) + " bytes");
    }
    KernelLayout layout;
    layout.load_addr = load_addr;
    layout.size = kernel_size;
    layout.entry = entry_addr;
    layout.pieces.push_back(Piece{load_addr,
                                  std::span<const std::uint8_t>(file).subspan(static_cast<std::size_t>(text_offset),
                                                                              static_cast<std::size_t>(load_size)),
                                  kernel_size});
    layout.description = "a.out kludge, file offset " + hex_text(text_offset) + " -> " +
                         range_text(load_addr, load_addr + load_size) + ", bss to " + hex_text(load_addr + kernel_size);
    return layout;
}

// Without the a.out kludge the image must be a 32-bit ELF; QEMU loads its
// PT_LOAD segments and treats [lowest, highest) as the kernel.
Result<KernelLayout> layout_elf(const ImageFile& kernel) {
    const auto& file = kernel.bytes;
    if (!has_elf_magic(file)) {
        return file_error(ENOEXEC, kernel.path,
                          "multiboot header without the a.out kludge (flags bit 16) but not an "
                          "ELF file");
    }
    bool elf64 = file.size() > 4 && file[4] == 2;
    bool x86_64 = file.size() >= 20 && file[18] == kElfMachineX86_64 && file[19] == 0;
    if (elf64 || x86_64) {
        return file_error(ENOEXEC, kernel.path, "cannot load a 64-bit ELF as multiboot; give a 32-bit one");
    }
    auto elf = parse_elf_image(file, kernel.path);
    if (!elf) {
        return elf.error();
    }
    if (elf->machine != kElfMachineI386) {
        return file_error(ENOEXEC, kernel.path,
                          "multiboot ELF machine " + std::to_string(elf->machine) + " is not EM_386");
    }
    auto segs = elf_load_segments(*elf, file, kernel.path);
    if (!segs) {
        return segs.error();
    }
    std::uint64_t low = UINT64_MAX;
    std::uint64_t high = 0;
    KernelLayout layout;
    for (const auto& s : *segs) {
        low = std::min(low, s.paddr);
        high = std::max(high, s.paddr + s.memsz);
    }
    // ELF32 addresses end at 4 GiB at most (parse_elf_image checks).
    layout.load_addr = static_cast<std::uint32_t>(low);
    layout.size = high - low;
    layout.entry = static_cast<std::uint32_t>(elf_physical_entry(*elf));
    // QEMU writes the whole span; gaps between segments read as zero.
    layout.pieces.push_back(Piece{low, {}, high - low});
    for (const auto& s : *segs) {
        if (s.memsz != 0) {
            layout.pieces.push_back(Piece{s.paddr, s.data, s.memsz});
        }
    }
    layout.description = "ELF32, " + std::to_string(segs->size()) + " PT_LOAD segment(s) in " + range_text(low, high);
    return layout;
}

Status check_kernel_layout(const KernelLayout& layout, const GuestRam& ram, const std::string& path) {
    if (auto st = check_fits_ram(ram, layout.size, path, "the kernel image"); !st) {
        return st;
    }
    // Each piece first, so that an ELF error names the segment.
    for (std::size_t i = 1; i < layout.pieces.size(); ++i) {
        const auto& p = layout.pieces[i];
        if (auto st = check_in_ram(ram, p.gpa, p.size, path, "segment"); !st) {
            return st;
        }
    }
    return check_in_ram(ram, layout.load_addr, layout.size, path, "kernel image");
}

void write_piece(GuestRam& ram, const Piece& p) {
    std::uint8_t* host = ram.host_ptr(p.gpa, p.size);  // checked before
    if (!p.data.empty()) {
        std::memcpy(host, p.data.data(), p.data.size());
    }
    std::memset(host + p.data.size(), 0, p.size - p.data.size());
}

struct MmapEntry {
    std::uint64_t base;
    std::uint64_t length;
    std::uint32_t type;  // 1 available, 2 reserved
};

constexpr std::uint32_t kMmapAvailable = 1;
constexpr std::uint32_t kMmapReserved = 2;

// The e820 map SeaBIOS gives QEMU's multiboot option ROM (see the header).
std::vector<MmapEntry> build_mmap(const GuestRam& ram) {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> regions;
    for (const auto& r : ram.regions()) {
        regions.emplace_back(r.gpa, r.gpa + r.memory.size());
    }
    std::sort(regions.begin(), regions.end());
    std::vector<MmapEntry> map;
    bool bios_rom_listed = false;
    for (auto [start, end] : regions) {
        if (start >= k4GiB && !bios_rom_listed) {
            map.push_back({kBiosRomBase, k4GiB - kBiosRomBase, kMmapReserved});
            bios_rom_listed = true;
        }
        if (start != 0) {
            map.push_back({start, end - start, kMmapAvailable});
            continue;
        }
        map.push_back({0, std::min(end, kEbdaBase), kMmapAvailable});
        map.push_back({kEbdaBase, kVgaBase - kEbdaBase, kMmapReserved});
        map.push_back({kBiosAreaBase, k1MiB - kBiosAreaBase, kMmapReserved});
        // SeaBIOS keeps its high tables in the top 128 KiB of low RAM.
        if (end >= k1MiB + kBiosHighReserve) {
            std::uint64_t top = end - kBiosHighReserve;
            if (top > k1MiB) {
                map.push_back({k1MiB, top - k1MiB, kMmapAvailable});
            }
            map.push_back({top, kBiosHighReserve, kMmapReserved});
        } else if (end > k1MiB) {
            map.push_back({k1MiB, end - k1MiB, kMmapAvailable});
        }
    }
    if (!bios_rom_listed) {
        map.push_back({kBiosRomBase, k4GiB - kBiosRomBase, kMmapReserved});
    }
    return map;
}

// As QEMU's multiboot.S computes it: the KiB of the map entry that starts
// at 1 MiB, i.e. the memory between 1 MiB and the first hole above it.
std::uint32_t mem_upper_kib(const std::vector<MmapEntry>& map) {
    for (const auto& e : map) {
        if (e.base == k1MiB && e.type == kMmapAvailable) {
            return static_cast<std::uint32_t>(std::min<std::uint64_t>(e.length / 1024, UINT32_MAX));
        }
    }
    return 0;
}

struct LoadedModule {
    MultibootModule module;
    ImageFile file;
    std::uint64_t gpa = 0;
};

}  // namespace

MultibootHeaderScan scan_multiboot_header(std::span<const std::uint8_t> file) {
    MultibootHeaderScan scan;
    std::size_t limit = std::min(file.size(), kMultibootSearchLimit);
    for (std::size_t i = 0; i + 12 <= limit && i < kMultibootSearchLimit - kHeaderSize; i += 4) {
        if (le32(file, i) != kMultibootHeaderMagic) {
            continue;
        }
        std::uint32_t sum = kMultibootHeaderMagic + le32(file, i + 4) + le32(file, i + 8);
        if (sum == 0) {
            scan.header = i;
            return scan;
        }
        if (!scan.bad_checksum) {
            scan.bad_checksum = i;
        }
    }
    return scan;
}

std::vector<MultibootModule> parse_multiboot_modules(std::string_view spec) {
    std::vector<MultibootModule> modules;
    std::size_t pos = 0;
    while (pos < spec.size()) {
        std::string item;
        while (pos < spec.size()) {
            if (spec[pos] == ',') {
                if (pos + 1 < spec.size() && spec[pos + 1] == ',') {
                    item += ',';
                    pos += 2;
                    continue;
                }
                ++pos;  // the separator
                break;
            }
            item += spec[pos++];
        }
        MultibootModule m;
        auto space = item.find(' ');
        if (space == std::string::npos) {
            m.path = item;
        } else {
            m.path = item.substr(0, space);
            m.args = item.substr(space + 1);
        }
        modules.push_back(std::move(m));
    }
    return modules;
}

namespace {

// Where the boot area goes: offsets from the kernel's load address, computed
// as QEMU computes them so that the addresses match. The module list and
// its strings follow the page-aligned kernel, then the boot loader name,
// then the modules (each page aligned), then the information page.
struct BootArea {
    std::uint64_t base = 0;      // the kernel's load address
    std::uint64_t mods_off = 0;  // module list, then the strings
    std::uint64_t strings_off = 0;
    std::uint64_t loader_name_off = 0;
    std::uint64_t first_module_off = 0;
    std::uint64_t end_off = 0;  // after the last module: the information page

    std::uint64_t info() const { return base + end_off; }
};

// The strings the information page points at, as written to the guest.
struct BootStrings {
    std::string cmdline;
    std::uint32_t cmdline_gpa = 0;
    std::uint32_t loader_name_gpa = 0;
};

Result<std::size_t> find_multiboot_header(const ImageFile& kernel) {
    MultibootHeaderScan scan = scan_multiboot_header(kernel.bytes);
    if (scan.header) {
        return *scan.header;
    }
    if (scan.bad_checksum) {
        return file_error(ENOEXEC, kernel.path,
                          "multiboot header at offset " + hex_text(*scan.bad_checksum) +
                              " has a bad checksum (magic + flags + checksum != 0)");
    }
    return file_error(ENOEXEC, kernel.path, "no multiboot header in the first 8 KiB");
}

BootArea plan_boot_area(const KernelLayout& layout, const MultibootOptions& options, const std::string& path,
                        std::size_t module_count) {
    BootArea area;
    area.base = layout.load_addr;
    area.mods_off = page_align(layout.size);
    std::uint64_t strings_len = path.size() + 1 + options.append.size() + 1;
    if (!options.modules.empty()) {
        strings_len += options.modules.size() + 1;
    }
    area.strings_off = area.mods_off + module_count * kModEntrySize;
    area.loader_name_off = area.strings_off + strings_len;
    area.first_module_off = page_align(area.loader_name_off + sizeof kBootLoaderName);
    area.end_off = area.first_module_off;
    return area;
}

// Reads the modules and places them one after the other from
// area.first_module_off, moving area.end_off past the last.
Result<std::vector<LoadedModule>> read_modules(std::vector<MultibootModule> modules, const MultibootOptions& options,
                                               const std::string& path, BootArea& area) {
    std::vector<LoadedModule> loaded;
    for (auto& m : modules) {
        if (m.path.empty()) {
            return file_error(EINVAL, path, "empty module file name in the -initrd list '" + options.modules + "'");
        }
        auto file = read_image_file(m.path, EmptyImage::allow);
        if (!file) {
            return file.error();
        }
        std::uint64_t gpa = area.base + area.end_off;
        area.end_off = page_align(area.end_off + file->bytes.size());
        if (area.base + area.end_off > k4GiB) {
            return file_error(EFAULT, m.path,
                              "module at " + hex_text(gpa) + " (size " + hex_text(file->bytes.size()) +
                                  ") goes beyond 4 GiB");
        }
        loaded.push_back(LoadedModule{std::move(m), std::move(file).value(), gpa});
    }
    return loaded;
}

Status check_boot_area(const BootArea& area, const GuestRam& ram, const std::string& path) {
    if (auto st = check_fits_ram(ram, area.end_off + kInfoPageSize, path,
                                 "the kernel, its modules and the boot information");
        !st) {
        return st;
    }
    if (auto st = check_in_ram(ram, area.base + area.mods_off, area.end_off - area.mods_off, path,
                               "the module list and strings plus modules");
        !st) {
        return st;
    }
    if (area.info() + kInfoPageSize > k4GiB) {
        return file_error(EFAULT, path, "multiboot information at " + hex_text(area.info()) + " would be beyond 4 GiB");
    }
    return check_in_ram(ram, area.info(), kInfoPageSize, path, "multiboot information page");
}

// [mods_off, first_module_off): the module list, then the strings; then
// the modules themselves.
BootStrings write_modules(GuestRam& ram, const BootArea& area, const std::vector<LoadedModule>& loaded,
                          const std::string& path, const MultibootOptions& options) {
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(area.first_module_off - area.mods_off), 0);
    std::uint64_t next_string = area.strings_off;
    auto add_string = [&](const std::string& s) {
        std::memcpy(bytes.data() + (next_string - area.mods_off), s.c_str(), s.size() + 1);
        std::uint64_t gpa = area.base + next_string;
        next_string += s.size() + 1;
        return static_cast<std::uint32_t>(gpa);
    };
    for (std::size_t i = 0; i < loaded.size(); ++i) {
        const auto& lm = loaded[i];
        std::uint8_t* entry = bytes.data() + i * kModEntrySize;
        put32(entry + 0, static_cast<std::uint32_t>(lm.gpa));
        put32(entry + 4, static_cast<std::uint32_t>(lm.gpa + lm.file.bytes.size()));
        put32(entry + 8, add_string(lm.module.string()));
    }
    BootStrings strings;
    strings.cmdline = path + " " + options.append;
    strings.cmdline_gpa = add_string(strings.cmdline);
    next_string = area.loader_name_off;
    strings.loader_name_gpa = add_string(kBootLoaderName);
    write_piece(ram, Piece{area.base + area.mods_off, bytes, bytes.size()});
    for (const auto& lm : loaded) {
        write_piece(ram, Piece{lm.gpa, lm.file.bytes, page_align(lm.file.bytes.size())});
    }
    return strings;
}

// The information page: multiboot_info, the memory map after it and the
// boot GDT at kInfoGdtOffset.
Status write_info_page(GuestRam& ram, const BootArea& area, std::size_t module_count,
                       const std::vector<MmapEntry>& mmap, const BootStrings& strings) {
    std::vector<std::uint8_t> page(kInfoPageSize, 0);
    std::uint8_t* mbi = page.data();
    put32(mbi + kMbiFlags, kMbiFlagsValue);
    put32(mbi + kMbiMemLower, kMemLowerKiB);
    put32(mbi + kMbiMemUpper, mem_upper_kib(mmap));
    put32(mbi + kMbiBootDevice, kBootDevice);
    put32(mbi + kMbiCmdline, strings.cmdline_gpa);
    put32(mbi + kMbiModsCount, static_cast<std::uint32_t>(module_count));
    put32(mbi + kMbiModsAddr, static_cast<std::uint32_t>(area.base + area.mods_off));
    put32(mbi + kMbiMmapLength, static_cast<std::uint32_t>(mmap.size() * kMmapEntrySize));
    put32(mbi + kMbiMmapAddr, static_cast<std::uint32_t>(area.info() + kInfoMmapOffset));
    put32(mbi + kMbiBootLoaderName, strings.loader_name_gpa);
    for (std::size_t i = 0; i < mmap.size(); ++i) {
        std::uint8_t* e = page.data() + kInfoMmapOffset + i * kMmapEntrySize;
        put32(e, kMmapEntrySize - 4);
        put64(e + 4, mmap[i].base);
        put64(e + 12, mmap[i].length);
        put32(e + 20, mmap[i].type);
    }
    auto gdt = std::span<std::uint8_t>(page).subspan(kInfoGdtOffset, arch::x86::kBootGdtSize);
    if (auto st = arch::x86::write_boot_gdt(gdt); !st) {
        return st;
    }
    write_piece(ram, Piece{area.info(), page, page.size()});
    return ok_status();
}

void log_multiboot_load(Log& log, const std::string& path, std::size_t header_off, std::uint32_t flags,
                        const KernelLayout& layout, const std::vector<LoadedModule>& loaded, const BootArea& area,
                        std::size_t mmap_entries, const std::string& cmdline) {
    log.write(LogCategory::loader, "multiboot: %s: header at file offset 0x%zx, flags 0x%x, %s", path.c_str(),
              header_off, flags, layout.description.c_str());
    for (std::size_t i = 0; i < loaded.size(); ++i) {
        const auto& lm = loaded[i];
        log.write(LogCategory::loader, "multiboot: module %zu '%s' at [0x%llx, 0x%llx)", i, lm.module.string().c_str(),
                  static_cast<unsigned long long>(lm.gpa),
                  static_cast<unsigned long long>(lm.gpa + lm.file.bytes.size()));
    }
    log.write(LogCategory::loader,
              "multiboot: info at 0x%llx (mmap %zu entries, GDT at 0x%llx), cmdline '%s', "
              "entry 0x%x",
              static_cast<unsigned long long>(area.info()), mmap_entries,
              static_cast<unsigned long long>(area.info() + kInfoGdtOffset), cmdline.c_str(), layout.entry);
}

// The BSP enters in protected mode at the kernel's entry with EAX the boot
// loader magic and EBX the information page (Multiboot spec 3.2).
X86BootPlan multiboot_boot_plan(const KernelLayout& layout, const BootArea& area) {
    X86BootPlan plan;
    plan.protocol = "multiboot";
    arch::x86::ProtectedModeEntry entry;
    entry.eip = layout.entry;
    entry.eax = kMultibootBootloaderMagic;
    entry.ebx = static_cast<std::uint32_t>(area.info());
    entry.gdt_base = static_cast<std::uint32_t>(area.info() + kInfoGdtOffset);
    plan.bsp_state = arch::x86::protected_mode_entry_state(entry);
    plan.all_vcpus_start_at_entry = false;
    plan.entry = layout.entry;
    plan.loaded.push_back({layout.load_addr, layout.load_addr + layout.size});
    plan.loaded.push_back({area.base + area.mods_off, area.base + area.end_off});
    plan.loaded.push_back({area.info(), area.info() + kInfoPageSize});
    return plan;
}

}  // namespace

Result<X86BootPlan> load_multiboot(const ImageFile& kernel, const MultibootOptions& options, GuestRam& ram, Log& log) {
    const std::string& path = kernel.path;
    auto header_off = find_multiboot_header(kernel);
    if (!header_off) {
        return header_off.error();
    }
    std::uint32_t flags = le32(kernel.bytes, *header_off + 4);
    auto layout = (flags & kFlagAoutKludge) != 0 ? layout_aout(kernel, *header_off) : layout_elf(kernel);
    if (!layout) {
        return layout.error();
    }
    if (auto st = check_kernel_layout(*layout, ram, path); !st) {
        return st.error();
    }

    std::vector<MultibootModule> modules = parse_multiboot_modules(options.modules);
    BootArea area = plan_boot_area(*layout, options, path, modules.size());
    auto loaded = read_modules(std::move(modules), options, path, area);
    if (!loaded) {
        return loaded.error();
    }
    if (auto st = check_boot_area(area, ram, path); !st) {
        return st.error();
    }
    std::vector<MmapEntry> mmap = build_mmap(ram);
    if (kInfoMmapOffset + mmap.size() * kMmapEntrySize > kInfoGdtOffset) {
        return file_error(EINVAL, path, "too many RAM regions for the multiboot memory map");
    }

    // Everything checked: write.
    for (const auto& p : layout->pieces) {
        write_piece(ram, p);
    }
    BootStrings strings = write_modules(ram, area, *loaded, path, options);
    if (auto st = write_info_page(ram, area, loaded->size(), mmap, strings); !st) {
        return st.error();
    }
    log_multiboot_load(log, path, *header_off, flags, *layout, *loaded, area, mmap.size(), strings.cmdline);
    return multiboot_boot_plan(*layout, area);
}

}  // namespace kvmdbg::hw
