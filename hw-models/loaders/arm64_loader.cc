#include "hw-models/loaders/arm64_loader.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "hw-models/loaders/arm64_image.h"
#include "hw-models/loaders/elf_image.h"
#include "hw-models/loaders/gzip_image.h"
#include "hw-models/loaders/load_messages.h"

namespace kvmdbg::hw {

namespace {

constexpr std::uint64_t kPage = 0x1000;
constexpr std::uint64_t k2MiB = 2ull << 20;

// Rounds up to `align` (a power of two); false on overflow.
bool align_up(std::uint64_t v, std::uint64_t align, std::uint64_t& out) {
    if (v > UINT64_MAX - (align - 1)) {
        return false;
    }
    out = (v + align - 1) & ~(align - 1);
    return true;
}

struct RamSpan {
    std::uint64_t start = 0;
    std::uint64_t end = 0;
};

// The virt machine has one RAM region; take the first.
Result<RamSpan> ram_span(const GuestRam& ram) {
    if (ram.regions().empty()) {
        return make_error(EINVAL, "the machine has no RAM");
    }
    const auto& r = ram.regions().front();
    return RamSpan{r.gpa, r.gpa + r.memory.size()};
}

struct Placed {
    std::uint64_t gpa = 0;
    std::uint64_t memsz = 0;
    std::span<const std::uint8_t> data;
};

Result<Arm64BootPlan> plan_elf(const ImageFile& kernel, const GuestRam& ram, std::vector<Placed>& out) {
    const std::string& path = kernel.path;
    auto elf = parse_elf_image(kernel.bytes, path, ElfArch::aarch64);
    if (!elf) {
        return elf.error();
    }
    if (elf->elf_class != ElfClass::elf64) {
        return file_error(ENOEXEC, path, "not a 64-bit ELF (the virt machine boots AArch64 ELF64)");
    }
    auto segs = elf_load_segments(*elf, kernel.bytes, path);
    if (!segs) {
        return segs.error();
    }
    std::uint64_t total = 0;
    Arm64BootPlan plan;
    plan.format = Arm64BootPlan::Format::elf64;
    plan.kernel.start = UINT64_MAX;
    for (const auto& s : *segs) {
        total += s.memsz;  // segments do not overlap, so no overflow
    }
    if (total > ram.total_size()) {
        return file_error(EFBIG, path,
                          "the segments need " + hex_text(total) + " bytes but the guest has only " +
                              hex_text(ram.total_size()) + " bytes of RAM");
    }
    for (const auto& s : *segs) {
        if (s.memsz == 0) {
            continue;
        }
        if (ram.host_ptr(s.paddr, s.memsz) == nullptr) {
            return file_error(EFAULT, path,
                              "segment " + std::to_string(s.index) + " " + range_text(s.paddr, s.paddr + s.memsz) +
                                  " is outside guest RAM");
        }
        plan.kernel.start = std::min(plan.kernel.start, s.paddr);
        plan.kernel.end = std::max(plan.kernel.end, s.paddr + s.memsz);
        out.push_back(Placed{s.paddr, s.memsz, s.data});
    }
    if (out.empty()) {
        return file_error(ENOEXEC, path, "no PT_LOAD segment has any bytes to load");
    }
    plan.entry = elf_physical_entry(*elf);
    bool entry_loaded = std::any_of(out.begin(), out.end(), [&](const Placed& p) {
        return plan.entry >= p.gpa && plan.entry - p.gpa < p.memsz;
    });
    if (!entry_loaded) {
        return file_error(ENOEXEC, path, "entry point " + hex_text(plan.entry) + " is not inside any loaded segment");
    }
    return plan;
}

Result<Arm64BootPlan> plan_image(const ImageFile& kernel, RamSpan span, std::vector<Placed>& out) {
    const std::string& path = kernel.path;
    auto header = parse_arm64_image_header(kernel.bytes, path);
    if (!header) {
        return header.error();
    }
    // booting.rst: a 2 MiB aligned base + text_offset; the lowest base in
    // RAM (the virt RAM base is 2 MiB aligned), whatever the placement flag.
    std::uint64_t base;
    if (!align_up(span.start, k2MiB, base)) {
        return file_error(ENOSPC, path, "no 2 MiB aligned base in RAM");
    }
    std::uint64_t ram_size = span.end - span.start;
    if (header->image_size > ram_size) {
        return file_error(EFBIG, path,
                          "image_size " + hex_text(header->image_size) + " is larger than the guest's RAM (" +
                              hex_text(ram_size) + " bytes)");
    }
    std::uint64_t load = base + header->text_offset;
    if (load < base || load > span.end || span.end - load < header->image_size) {
        return file_error(ENOSPC, path,
                          "the Image " + range_text(load, load + header->image_size) + " (text_offset " +
                              hex_text(header->text_offset) + ") does not fit in RAM " +
                              range_text(span.start, span.end));
    }
    Arm64BootPlan plan;
    plan.format = Arm64BootPlan::Format::linux_image;
    plan.entry = load;
    plan.kernel = GpaRange{load, load + header->image_size};
    out.push_back(Placed{load, header->image_size, kernel.bytes});
    return plan;
}

// A gzip'd Image (QEMU's load_aarch64_image does the same): decompressed,
// at most the RAM's size, and it must be an Image then.
Result<ImageFile> gunzip_kernel(const ImageFile& kernel, RamSpan span, Log& log) {
    auto bytes = gunzip_image(kernel.bytes, span.end - span.start, kernel.path, "the guest's RAM size");
    if (!bytes) {
        return bytes.error();
    }
    if (!has_arm64_image_magic(*bytes)) {
        return file_error(ENOEXEC, kernel.path,
                          "gzip-compressed, but not an arm64 Image once decompressed (no ARM\\x64 magic at offset 56)");
    }
    log.write(LogCategory::loader, "arm64: %s: gzip, %s bytes decompressed to %s", kernel.path.c_str(),
              hex_text(kernel.bytes.size()).c_str(), hex_text(bytes->size()).c_str());
    return ImageFile{kernel.path, std::move(bytes).value()};
}

}  // namespace

Result<Arm64BootPlan> load_arm64_kernel(const ImageFile& file, const ImageFile* initrd, GuestRam& ram, Log& log) {
    auto span = ram_span(ram);
    if (!span) {
        return span.error();
    }
    std::optional<ImageFile> unpacked;  // the decompressed Image; RAM is written from it
    if (has_gzip_magic(file.bytes)) {
        auto r = gunzip_kernel(file, *span, log);
        if (!r) {
            return r.error();
        }
        unpacked = std::move(r).value();
    }
    const ImageFile& kernel = unpacked ? *unpacked : file;
    std::vector<Placed> placed;
    Result<Arm64BootPlan> plan = make_error(ENOEXEC, "unset");
    if (has_elf_magic(kernel.bytes)) {
        plan = plan_elf(kernel, ram, placed);
    } else if (has_arm64_image_magic(kernel.bytes)) {
        plan = plan_image(kernel, *span, placed);
    } else {
        return file_error(ENOEXEC, kernel.path,
                          "neither an ELF file nor an arm64 Image (no ARM\\x64 magic at offset 56)");
    }
    if (!plan) {
        return plan.error();
    }

    std::uint64_t top = plan->kernel.end;
    if (initrd != nullptr) {
        std::uint64_t size = initrd->bytes.size();
        if (size > span->end - span->start) {
            return file_error(EFBIG, initrd->path,
                              "the initrd (" + hex_text(size) + " bytes) is larger than the guest's RAM");
        }
        std::uint64_t start;
        if (!align_up(top, kPage, start) || start > span->end || span->end - start < size) {
            return file_error(ENOSPC, initrd->path,
                              "no room for the initrd (" + hex_text(size) +
                                  " bytes) in RAM above the kernel (which ends at " + hex_text(top) + ")");
        }
        plan->initrd = GpaRange{start, start + size};
        placed.push_back(Placed{start, size, initrd->bytes});
        top = plan->initrd.end;
    }
    std::uint64_t dtb;
    if (!align_up(top, k2MiB, dtb) || dtb >= span->end) {
        return file_error(ENOSPC, kernel.path,
                          "no 2 MiB aligned room for the device tree in RAM above " + hex_text(top) + " (RAM ends at " +
                              hex_text(span->end) + ")");
    }
    plan->dtb_addr = dtb;

    // Every check passed: write.
    for (const auto& p : placed) {
        std::uint8_t* host = ram.host_ptr(p.gpa, p.memsz);
        std::memcpy(host, p.data.data(), p.data.size());
        std::memset(host + p.data.size(), 0, p.memsz - p.data.size());
        plan->loaded.push_back(GpaRange{p.gpa, p.gpa + p.memsz});
    }
    log.write(LogCategory::loader, "arm64: %s: %s %s, entry 0x%llx", kernel.path.c_str(),
              plan->format == Arm64BootPlan::Format::elf64 ? "ELF64" : "Image",
              range_text(plan->kernel.start, plan->kernel.end).c_str(), static_cast<unsigned long long>(plan->entry));
    if (initrd != nullptr) {
        log.write(LogCategory::loader, "arm64: initrd %s -> %s", initrd->path.c_str(),
                  range_text(plan->initrd.start, plan->initrd.end).c_str());
    }
    return plan;
}

Status place_arm64_dtb(Arm64BootPlan& plan, std::span<const std::uint8_t> dtb, GuestRam& ram, Log& log) {
    if (dtb.size() > kArm64MaxDtbSize) {
        return make_error(EFBIG, "the device tree (" + hex_text(dtb.size()) +
                                     " bytes) is larger than the 2 MiB booting.rst allows");
    }
    std::uint8_t* host = ram.host_ptr(plan.dtb_addr, dtb.size());
    if (host == nullptr) {
        return make_error(EFBIG, "the device tree (" + hex_text(dtb.size()) + " bytes) does not fit in RAM at " +
                                     hex_text(plan.dtb_addr));
    }
    std::memcpy(host, dtb.data(), dtb.size());
    plan.dtb_size = dtb.size();
    plan.loaded.push_back(GpaRange{plan.dtb_addr, plan.dtb_addr + dtb.size()});
    log.write(LogCategory::loader, "arm64: device tree -> %s",
              range_text(plan.dtb_addr, plan.dtb_addr + dtb.size()).c_str());
    return ok_status();
}

}  // namespace kvmdbg::hw
