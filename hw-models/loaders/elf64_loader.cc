#include "hw-models/loaders/elf64_loader.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "arch/x86/boot_tables.h"
#include "hw-models/loaders/elf_image.h"
#include "hw-models/loaders/load_messages.h"

namespace kvmdbg::hw {

namespace {

constexpr std::uint64_t kPage = 0x1000;
constexpr std::uint64_t k4GiB = 1ull << 32;

std::uint64_t page_align(std::uint64_t v) { return (v + kPage - 1) & ~(kPage - 1); }

// The RAM region [start, end) holding `gpa`, if any.
bool region_of(const GuestRam& ram, std::uint64_t gpa, std::uint64_t& start, std::uint64_t& end) {
    for (const auto& r : ram.regions()) {
        if (gpa >= r.gpa && gpa - r.gpa < r.memory.size()) {
            start = r.gpa;
            end = r.gpa + r.memory.size();
            return true;
        }
    }
    return false;
}

// Where the boot GDT, the identity-map page tables and the vCPU stacks go.
struct BootLayout {
    std::uint64_t ram_top = 0;  // end of the highest RAM region: what the tables map
    std::uint64_t low_top = 0;  // end of the highest region below 4 GiB: the stacks' top
    std::uint64_t gdt_gpa = 0;  // one page, above the highest segment
    std::uint64_t pt_gpa = 0;   // the page tables (CR3), after the GDT page
    std::uint64_t pt_size = 0;
    std::uint64_t stack_floor = 0;  // the stacks must stay above this

    std::uint64_t tables_end() const { return pt_gpa + pt_size; }
};

Result<std::vector<ElfLoadSegment>> read_x86_64_segments(const ImageFile& kernel, std::uint64_t& entry) {
    const std::string& path = kernel.path;
    auto elf = parse_elf_image(kernel.bytes, path);
    if (!elf) {
        return elf.error();
    }
    if (elf->elf_class != ElfClass::elf64) {
        return file_error(ENOEXEC, path, "not a 64-bit ELF");
    }
    if (elf->machine != kElfMachineX86_64) {
        return file_error(ENOEXEC, path, "ELF machine " + std::to_string(elf->machine) + " is not EM_X86_64");
    }
    entry = elf_physical_entry(*elf);
    return elf_load_segments(*elf, kernel.bytes, path);
}

// The segments fit the guest's RAM and the entry point is inside one.
Status check_segments(const std::vector<ElfLoadSegment>& segs, std::uint64_t entry, const GuestRam& ram,
                      const std::string& path) {
    std::uint64_t total = 0;
    for (const auto& s : segs) {
        total += s.memsz;  // no overflow: segments do not overlap
    }
    if (total > ram.total_size()) {
        return file_error(EFBIG, path,
                          "the segments need " + hex_text(total) + " bytes but the guest has only " +
                              hex_text(ram.total_size()) + " bytes of RAM");
    }
    for (const auto& s : segs) {
        if (s.memsz != 0 && ram.host_ptr(s.paddr, s.memsz) == nullptr) {
            return file_error(EFAULT, path,
                              "segment " + std::to_string(s.index) + " " + range_text(s.paddr, s.paddr + s.memsz) +
                                  " is outside guest RAM");
        }
    }
    bool entry_loaded = std::any_of(segs.begin(), segs.end(), [&](const ElfLoadSegment& s) {
        return entry >= s.paddr && entry - s.paddr < s.memsz;
    });
    if (!entry_loaded) {
        return file_error(ENOEXEC, path, "entry point " + hex_text(entry) + " is not inside any loaded segment");
    }
    return ok_status();
}

// The GDT page and the page tables go right above the highest segment.
Result<BootLayout> place_boot_tables(const std::vector<ElfLoadSegment>& segs, const GuestRam& ram,
                                     const std::string& path) {
    std::uint64_t highest = 0;
    for (const auto& s : segs) {
        if (s.memsz != 0) {
            highest = std::max(highest, s.paddr + s.memsz);
        }
    }
    BootLayout layout;
    for (const auto& r : ram.regions()) {
        std::uint64_t end = r.gpa + r.memory.size();
        layout.ram_top = std::max(layout.ram_top, end);
        if (end <= k4GiB) {
            layout.low_top = std::max(layout.low_top, end);
        }
    }
    layout.pt_size = arch::x86::identity_page_tables_size(layout.ram_top);
    if (layout.pt_size == 0) {
        return file_error(EINVAL, path, "direct ELF64 boot maps at most 512 GiB of RAM");
    }
    layout.gdt_gpa = page_align(highest);
    layout.pt_gpa = layout.gdt_gpa + kPage;
    if (ram.host_ptr(layout.gdt_gpa, layout.tables_end() - layout.gdt_gpa) == nullptr) {
        return file_error(ENOSPC, path,
                          "no room in RAM for the boot GDT and page tables " +
                              range_text(layout.gdt_gpa, layout.tables_end()) + " above the highest segment");
    }
    return layout;
}

// Stacks grow down from low_top; they must stay in that region and above
// everything loaded below it.
Status place_stacks(const std::vector<ElfLoadSegment>& segs, const GuestRam& ram, const std::string& path,
                    BootLayout& layout) {
    std::uint64_t stack_floor = 0;
    std::uint64_t region_start = 0;
    std::uint64_t region_end = 0;
    if (layout.low_top != 0 && region_of(ram, layout.low_top - 1, region_start, region_end)) {
        stack_floor = region_start;
    }
    for (const auto& s : segs) {
        std::uint64_t end = s.paddr + s.memsz;
        if (s.memsz != 0 && end <= layout.low_top) {
            stack_floor = std::max(stack_floor, end);
        }
    }
    if (layout.tables_end() <= layout.low_top) {
        stack_floor = std::max(stack_floor, layout.tables_end());
    }
    if (layout.low_top < stack_floor + X86BootPlan::kVcpuStackSize) {
        return file_error(ENOSPC, path,
                          "no room for a 64 KiB vCPU stack between the loaded "
                          "image (ends at " +
                              hex_text(stack_floor) + ") and the top of RAM below 4 GiB (" + hex_text(layout.low_top) +
                              ")");
    }
    layout.stack_floor = stack_floor;
    return ok_status();
}

Status write_image(const std::vector<ElfLoadSegment>& segs, const BootLayout& layout, GuestRam& ram) {
    for (const auto& s : segs) {
        if (s.memsz == 0) {
            continue;
        }
        std::uint8_t* host = ram.host_ptr(s.paddr, s.memsz);
        if (!s.data.empty()) {
            std::memcpy(host, s.data.data(), s.data.size());
        }
        std::memset(host + s.data.size(), 0, s.memsz - s.data.size());
    }
    std::uint8_t* gdt_host = ram.host_ptr(layout.gdt_gpa, kPage);
    std::memset(gdt_host, 0, kPage);
    if (auto st = arch::x86::write_boot_gdt({gdt_host, arch::x86::kBootGdtSize}); !st) {
        return st;
    }
    return arch::x86::write_identity_page_tables({ram.host_ptr(layout.pt_gpa, layout.pt_size), layout.pt_size},
                                                 layout.pt_gpa, layout.ram_top);
}

void log_elf64_load(Log& log, const std::string& path, const std::vector<ElfLoadSegment>& segs,
                    const BootLayout& layout, std::uint64_t entry) {
    for (const auto& s : segs) {
        log.write(LogCategory::loader, "elf64: %s: segment %zu -> [0x%llx, 0x%llx) (0x%zx from file)", path.c_str(),
                  s.index, static_cast<unsigned long long>(s.paddr), static_cast<unsigned long long>(s.paddr + s.memsz),
                  s.data.size());
    }
    log.write(LogCategory::loader,
              "elf64: GDT at 0x%llx, page tables (CR3) at 0x%llx..0x%llx, stacks below 0x%llx, "
              "entry 0x%llx",
              static_cast<unsigned long long>(layout.gdt_gpa), static_cast<unsigned long long>(layout.pt_gpa),
              static_cast<unsigned long long>(layout.tables_end()), static_cast<unsigned long long>(layout.low_top),
              static_cast<unsigned long long>(entry));
}

// Every vCPU enters in long mode at the entry, on the identity map.
X86BootPlan elf64_boot_plan(const std::vector<ElfLoadSegment>& segs, const BootLayout& layout, std::uint64_t entry) {
    arch::x86::LongModeEntry lm;
    lm.rip = entry;
    lm.rsp = layout.low_top;
    lm.rdi = 0;
    lm.rsi = 1;
    lm.cr3 = layout.pt_gpa;
    lm.gdt_base = layout.gdt_gpa;
    X86BootPlan plan;
    plan.protocol = "ELF64";
    plan.bsp_state = arch::x86::long_mode_entry_state(lm);
    plan.all_vcpus_start_at_entry = true;
    plan.entry = entry;
    plan.stack_top = layout.low_top;
    plan.stack_floor = layout.stack_floor;
    for (const auto& s : segs) {
        if (s.memsz != 0) {
            plan.loaded.push_back({s.paddr, s.paddr + s.memsz});
        }
    }
    plan.loaded.push_back({layout.gdt_gpa, layout.tables_end()});
    return plan;
}

}  // namespace

Result<X86BootPlan> load_elf64(const ImageFile& kernel, GuestRam& ram, Log& log) {
    const std::string& path = kernel.path;
    std::uint64_t entry = 0;
    auto segs = read_x86_64_segments(kernel, entry);
    if (!segs) {
        return segs.error();
    }
    if (auto st = check_segments(*segs, entry, ram, path); !st) {
        return st.error();
    }
    auto layout = place_boot_tables(*segs, ram, path);
    if (!layout) {
        return layout.error();
    }
    if (auto st = place_stacks(*segs, ram, path, *layout); !st) {
        return st.error();
    }

    // Everything checked: write.
    if (auto st = write_image(*segs, *layout, ram); !st) {
        return st.error();
    }
    log_elf64_load(log, path, *segs, *layout, entry);
    return elf64_boot_plan(*segs, *layout, entry);
}

}  // namespace kvmdbg::hw
