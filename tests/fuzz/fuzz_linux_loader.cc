// libFuzzer target: the Linux boot protocol loader (hw-models/loaders/
// linux_boot_header, linux_boot_params, linux_loader) on arbitrary kernel
// file bytes: the setup header checks (Linux Documentation/arch/x86/
// boot.rst), the placement of the kernel, command line and boot_params,
// loaded into a GuestRam of 16 MiB at 0 and 2 MiB at 4 GiB, reused across
// inputs, with a fixed command line and no initrd (the initrd is a file
// named on the command line, not guest-controlled bytes).
// Checks: a header that parses puts the protected-mode kernel inside the
// file, and a successful load enters at the kernel's load address + 0x200.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "common/log.h"
#include "hw-models/guest_ram.h"
#include "hw-models/loaders/image_file.h"
#include "hw-models/loaders/linux_boot_header.h"
#include "hw-models/loaders/linux_loader.h"
#include "tests/fuzz/fuzz_guest_ram.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::hw;

GuestRam& fuzz_ram() { return fuzz::fuzz_guest_ram(fuzz::kX86RamLayout); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> file(data, size);
    auto header = parse_linux_setup_header(file, "fuzz.bzImage");
    if (!header) {
        return 0;
    }
    if (header->kernel_offset + header->kernel_size != size || header->kernel_size == 0 ||
        header->header_end > header->kernel_offset) {
        std::abort();
    }
    ImageFile kernel{"fuzz.bzImage", std::vector<std::uint8_t>(data, data + size)};
    LinuxLoadOptions options;
    options.cmdline = "console=ttyS0 fuzz";
    Log log;
    auto plan = load_linux(kernel, options, fuzz_ram(), log);
    if (plan && plan->entry != plan->loaded[3].start + kLinux64BitEntryOffset) {
        std::abort();
    }
    return 0;
}
