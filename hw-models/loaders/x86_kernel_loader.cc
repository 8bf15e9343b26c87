#include "hw-models/loaders/x86_kernel_loader.h"

#include <cstring>

#include "hw-models/loaders/elf64_loader.h"
#include "hw-models/loaders/elf_image.h"
#include "hw-models/loaders/image_file.h"
#include "hw-models/loaders/multiboot_loader.h"

namespace kvmdbg::hw {

namespace {

constexpr std::size_t kLinuxHeaderMagicOffset = 0x202;  // "HdrS", Linux boot protocol

bool is_linux_bzimage(const std::vector<std::uint8_t>& bytes) {
    return bytes.size() >= kLinuxHeaderMagicOffset + 4 &&
           std::memcmp(bytes.data() + kLinuxHeaderMagicOffset, "HdrS", 4) == 0;
}

Error refuse(const std::string& path, const std::string& what) { return make_error(ENOEXEC, path + ": " + what); }

}  // namespace

Result<X86BootPlan> load_x86_kernel(const X86KernelOptions& options, GuestRam& ram, Log& log) {
    auto kernel = read_image_file(options.kernel_path);
    if (!kernel) {
        return kernel.error();
    }
    const auto& bytes = kernel->bytes;
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
                          "-initrd needs a multiboot kernel; direct ELF64 boot "
                          "has no modules");
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
    if (is_linux_bzimage(bytes)) {
        return refuse(kernel->path,
                      "Linux boot protocol images are not supported; give a "
                      "multiboot or ELF64 kernel");
    }
    if (has_elf_magic(bytes)) {
        if (auto elf = parse_elf_image(bytes, kernel->path); !elf) {
            return elf.error();
        }
        return refuse(kernel->path,
                      "32-bit ELF without a multiboot header; give a multiboot "
                      "or ELF64 kernel");
    }
    return refuse(kernel->path, "not an ELF file and no multiboot header");
}

}  // namespace kvmdbg::hw
