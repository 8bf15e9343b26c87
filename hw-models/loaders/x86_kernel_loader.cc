#include "hw-models/loaders/x86_kernel_loader.h"

#include "hw-models/loaders/elf64_loader.h"
#include "hw-models/loaders/elf_image.h"
#include "hw-models/loaders/image_file.h"
#include "hw-models/loaders/linux_boot_header.h"
#include "hw-models/loaders/linux_loader.h"
#include "hw-models/loaders/multiboot_loader.h"

namespace kvmdbg::hw {

namespace {

Error refuse(const std::string& path, const std::string& what) { return make_error(ENOEXEC, path + ": " + what); }

Result<X86BootPlan> load_bzimage(const ImageFile& kernel, const X86KernelOptions& options, GuestRam& ram, Log& log) {
    log.write(LogCategory::loader, "%s: Linux boot protocol kernel, 64-bit entry", kernel.path.c_str());
    return load_linux(kernel, LinuxLoadOptions{options.append, options.initrd, options.reserved}, ram, log);
}

}  // namespace

Result<X86BootPlan> load_x86_kernel(const X86KernelOptions& options, GuestRam& ram, Log& log) {
    auto kernel = read_image_file(options.kernel_path);
    if (!kernel) {
        return kernel.error();
    }
    const auto& bytes = kernel->bytes;
    bool boot_flag = has_linux_boot_flag(bytes);
    bool header_magic = has_linux_header_magic(bytes);
    if (boot_flag && header_magic) {
        return load_bzimage(*kernel, options, ram, log);
    }
    MultibootHeaderScan scan = scan_multiboot_header(bytes);
    // Anything ELF-tagged that is not clearly ELF32 goes to the ELF64 loader,
    // whose parser names what is wrong (truncated header, class, machine).
    bool elf64 = has_elf_magic(bytes) && (bytes.size() <= 4 || bytes[4] != 1);

    if (scan.header || (scan.bad_checksum && !elf64)) {
        log.write(LogCategory::loader, "%s: multiboot kernel", kernel->path.c_str());
        return load_multiboot(*kernel, MultibootOptions{options.append, options.initrd}, ram, log);
    }
    if (elf64) {
        if (!options.initrd.empty()) {
            return refuse(kernel->path,
                          "-initrd needs a multiboot kernel or a Linux bzImage; "
                          "direct ELF64 boot has no modules");
        }
        if (!options.append.empty()) {
            log.write(LogCategory::loader,
                      "%s: -append ignored: direct ELF64 boot has no "
                      "command line",
                      kernel->path.c_str());
        }
        log.write(LogCategory::loader, "%s: ELF64 kernel, direct long-mode boot", kernel->path.c_str());
        return load_elf64(*kernel, ram, log);
    }
    if (header_magic || (boot_flag && !has_elf_magic(bytes))) {
        return load_bzimage(*kernel, options, ram, log);
    }
    if (has_elf_magic(bytes)) {
        if (auto elf = parse_elf_image(bytes, kernel->path); !elf) {
            return elf.error();
        }
        return refuse(kernel->path,
                      "32-bit ELF without a multiboot header; give a Linux bzImage, a multiboot "
                      "or ELF64 kernel");
    }
    return refuse(kernel->path, "not a Linux bzImage, an ELF file or a multiboot kernel");
}

}  // namespace kvmdbg::hw
