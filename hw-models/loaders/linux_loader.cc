#include "hw-models/loaders/linux_loader.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "arch/x86/boot_tables.h"
#include "common/hex_string.h"
#include "hw-models/loaders/linux_boot_params.h"
#include "hw-models/loaders/load_messages.h"

namespace kvmdbg::hw {

namespace {

constexpr std::uint64_t k1MiB = 1ull << 20;
constexpr std::uint64_t k4GiB = 1ull << 32;
constexpr std::uint64_t kBootTablesStart = kLinuxBootGdtGpa;
constexpr std::uint64_t kBootTablesEnd = kLinuxBootStackTop;
constexpr std::uint64_t kEbdaStart = 0x9fc00;  // to 1 MiB: EBDA, VGA hole, BIOS area

// The end of the RAM region holding [start, end), 0 if none holds it.
std::uint64_t ram_region_end(const GuestRam& ram, std::uint64_t start, std::uint64_t end) {
    for (const auto& r : ram.regions()) {
        std::uint64_t r_end = r.gpa + r.memory.size();
        if (start >= r.gpa && end <= r_end) {
            return r_end;
        }
    }
    return 0;
}

std::uint64_t kernel_load_address(const LinuxSetupHeader& h) {
    std::uint64_t load = h.pref_address != 0 ? h.pref_address : kLinuxClassicLoadAddress;
    std::uint64_t align = h.kernel_alignment;
    if (h.relocatable && align != 0 && (align & (align - 1)) == 0) {
        load = (load + align - 1) & ~(align - 1);
    }
    return load;
}

Status place_kernel(const LinuxSetupHeader& h, const GuestRam& ram, const std::string& path, LinuxLayout& out) {
    out.kernel_load = kernel_load_address(h);
    if (out.kernel_load < k1MiB) {
        return file_error(ENOEXEC, path,
                          "load address " + hex_string(out.kernel_load) + " (pref_address) is below 1 MiB");
    }
    out.kernel_end = out.kernel_load + std::max<std::uint64_t>(h.init_size, h.kernel_size);
    if (out.kernel_end > k4GiB || ram_region_end(ram, out.kernel_load, out.kernel_end) == 0) {
        return file_error(ENOMEM, path,
                          "the kernel needs RAM at " + range_text(out.kernel_load, out.kernel_end) + " (init_size " +
                              hex_string(h.init_size) + ") and the guest has no RAM there: give more -m");
    }
    return ok_status();
}

Status place_cmdline(const LinuxSetupHeader& h, std::uint64_t length, const std::string& path) {
    if (auto s = check_linux_cmdline_size(h, length, path); !s) {
        return s;
    }
    if (kLinuxCmdlineGpa + length + 1 > kLinuxCmdlineLimit) {
        return file_error(E2BIG, path,
                          "-append is " + std::to_string(length) + " bytes, more than fits at " +
                              hex_string(kLinuxCmdlineGpa) + " below the EBDA");
    }
    return ok_status();
}

Status place_initrd(const LinuxSetupHeader& h, std::uint64_t size, const GuestRam& ram, const std::string& initrd_path,
                    LinuxLayout& out) {
    std::uint64_t limit = 0;
    auto gpa = place_linux_initrd(h, size, out.kernel_end,
                                  std::min(ram_region_end(ram, out.kernel_load, out.kernel_end), k4GiB), &limit);
    if (!gpa) {
        return file_error(ENOSPC, initrd_path,
                          "the initrd (" + std::to_string(size) + " bytes) does not fit between the kernel's end " +
                              hex_string(out.kernel_end) + " and " + hex_string(limit) +
                              " (the lowest of initrd_addr_max + 1, the end of RAM, 4 GiB): give more -m");
    }
    out.initrd_gpa = *gpa;
    out.initrd_size = size;
    return ok_status();
}

std::vector<GpaRange> ram_ranges(const GuestRam& ram) {
    std::vector<GpaRange> ranges;
    for (const auto& r : ram.regions()) {
        ranges.push_back({r.gpa, r.gpa + r.memory.size()});
    }
    return ranges;
}

// GDT, page tables and the zeroed stack page.
Status write_boot_tables(GuestRam& ram) {
    std::uint8_t* tables = ram.host_ptr(kBootTablesStart, kBootTablesEnd - kBootTablesStart);
    if (tables == nullptr) {
        return make_error(ENOMEM,
                          "no RAM for the Linux boot tables at " + range_text(kBootTablesStart, kBootTablesEnd));
    }
    std::memset(tables, 0, kBootTablesEnd - kBootTablesStart);
    if (auto s = arch::x86::write_linux_boot_gdt({tables, arch::x86::kBootGdtSize}); !s) {
        return s;
    }
    std::uint64_t pt_size = arch::x86::identity_page_tables_size(kLinuxIdentityMapTop);
    return arch::x86::write_identity_page_tables({tables + (kLinuxPageTablesGpa - kBootTablesStart), pt_size},
                                                 kLinuxPageTablesGpa, kLinuxIdentityMapTop);
}

struct LinuxPayload {
    const ImageFile& kernel;
    const LinuxSetupHeader& header;
    const std::string& cmdline;
    const ImageFile* initrd;  // nullptr: none
};

Status write_linux_image(const LinuxPayload& p, const LinuxLayout& layout, const std::vector<GpaRange>& reserved,
                         GuestRam& ram) {
    if (auto s = write_boot_tables(ram); !s) {
        return s;
    }
    const auto& bytes = p.kernel.bytes;
    LinuxBootParamsInput params;
    params.setup_header = std::span(bytes).subspan(kLinuxSetupHeaderOffset,
                                                   p.header.header_end - kLinuxSetupHeaderOffset);
    params.cmd_line_ptr = layout.cmdline_gpa;
    params.ramdisk_image = layout.initrd_gpa;
    params.ramdisk_size = layout.initrd_size;
    auto ranges = ram_ranges(ram);
    params.e820 = build_e820_map(ranges, reserved);
    auto zero_page = build_linux_boot_params(params);
    if (!zero_page) {
        return zero_page.error();
    }
    if (auto s = ram.write(kLinuxBootParamsGpa, *zero_page); !s) {
        return s;
    }
    std::vector<std::uint8_t> cmdline(p.cmdline.begin(), p.cmdline.end());
    cmdline.push_back(0);
    if (auto s = ram.write(layout.cmdline_gpa, cmdline); !s) {
        return s;
    }
    if (auto s = ram.write(layout.kernel_load, std::span(bytes).subspan(p.header.kernel_offset)); !s) {
        return s;
    }
    if (p.initrd != nullptr) {
        return ram.write(layout.initrd_gpa, p.initrd->bytes);
    }
    return ok_status();
}

X86BootPlan linux_boot_plan(const LinuxSetupHeader& h, const LinuxLayout& layout, std::uint64_t cmdline_length) {
    arch::x86::LongModeEntry lm;
    lm.rip = layout.kernel_load + kLinux64BitEntryOffset;
    lm.rsp = kLinuxBootStackTop;
    lm.rsi = kLinuxBootParamsGpa;
    lm.cr3 = kLinuxPageTablesGpa;
    lm.gdt_base = kLinuxBootGdtGpa;
    lm.gdt = arch::x86::BootGdt::linux_64bit;
    X86BootPlan plan;
    plan.protocol = "Linux";
    plan.bsp_state = arch::x86::long_mode_entry_state(lm);
    plan.all_vcpus_start_at_entry = false;
    plan.entry = lm.rip;
    plan.loaded.push_back({kBootTablesStart, kBootTablesEnd});
    plan.loaded.push_back({kLinuxBootParamsGpa, kLinuxBootParamsGpa + kLinuxBootParamsSize});
    plan.loaded.push_back({layout.cmdline_gpa, layout.cmdline_gpa + cmdline_length + 1});
    plan.loaded.push_back({layout.kernel_load, layout.kernel_load + h.kernel_size});
    if (layout.initrd_size != 0) {
        plan.loaded.push_back({layout.initrd_gpa, layout.initrd_gpa + layout.initrd_size});
    }
    return plan;
}

void log_linux_load(Log& log, const std::string& path, const LinuxSetupHeader& h, const LinuxLayout& layout) {
    log.write(LogCategory::loader,
              "linux: %s: boot protocol %s, kernel 0x%zx bytes at 0x%llx (init_size 0x%x, up to 0x%llx), "
              "64-bit entry 0x%llx, boot_params 0x%llx, command line 0x%llx",
              path.c_str(), linux_protocol_text(h.version).c_str(), h.kernel_size,
              static_cast<unsigned long long>(layout.kernel_load), h.init_size,
              static_cast<unsigned long long>(layout.kernel_end),
              static_cast<unsigned long long>(layout.kernel_load + kLinux64BitEntryOffset),
              static_cast<unsigned long long>(kLinuxBootParamsGpa),
              static_cast<unsigned long long>(layout.cmdline_gpa));
    if (layout.initrd_size != 0) {
        log.write(LogCategory::loader, "linux: initrd 0x%llx bytes at 0x%llx",
                  static_cast<unsigned long long>(layout.initrd_size),
                  static_cast<unsigned long long>(layout.initrd_gpa));
    }
}

}  // namespace

Result<LinuxLayout> plan_linux_layout(const LinuxSetupHeader& header, std::uint64_t cmdline_length,
                                      std::uint64_t initrd_size, const GuestRam& ram, const std::string& path,
                                      const std::string& initrd_path) {
    LinuxLayout layout;
    if (auto s = place_kernel(header, ram, path, layout); !s) {
        return s.error();
    }
    if (auto s = place_cmdline(header, cmdline_length, path); !s) {
        return s.error();
    }
    if (initrd_size != 0) {
        if (auto s = place_initrd(header, initrd_size, ram, initrd_path, layout); !s) {
            return s.error();
        }
    }
    return layout;
}

Result<X86BootPlan> load_linux(const ImageFile& kernel, const LinuxLoadOptions& options, GuestRam& ram, Log& log) {
    auto header = parse_linux_setup_header(kernel.bytes, kernel.path);
    if (!header) {
        return header.error();
    }
    std::optional<ImageFile> initrd;
    if (!options.initrd_path.empty()) {
        auto file = read_image_file(options.initrd_path);
        if (!file) {
            return file.error();
        }
        initrd = std::move(file).value();
    }
    auto layout = plan_linux_layout(*header, options.cmdline.size(), initrd ? initrd->bytes.size() : 0, ram,
                                    kernel.path, options.initrd_path);
    if (!layout) {
        return layout.error();
    }
    std::vector<GpaRange> reserved = {{kBootTablesStart, kBootTablesEnd}, {kEbdaStart, k1MiB}};
    reserved.insert(reserved.end(), options.reserved.begin(), options.reserved.end());
    LinuxPayload payload{kernel, *header, options.cmdline, initrd ? &*initrd : nullptr};
    if (auto s = write_linux_image(payload, *layout, reserved, ram); !s) {
        return s.error();
    }
    log_linux_load(log, kernel.path, *header, *layout);
    return linux_boot_plan(*header, *layout, options.cmdline.size());
}

}  // namespace kvmdbg::hw
