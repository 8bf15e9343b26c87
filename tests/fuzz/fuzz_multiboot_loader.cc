// libFuzzer target: the Multiboot v1 loader (hw-models/loaders/
// multiboot_loader) on arbitrary kernel file bytes: the header scan in the
// first 8 KiB, the a.out kludge addresses and ELF32 images (Multiboot
// Specification 0.6.96, 3.1 "OS image format"), loaded into a GuestRam of
// 16 MiB at 0 and 2 MiB at 4 GiB, reused across inputs, with a fixed
// command line and no modules (modules are files named on the command
// line, not guest-controlled bytes).
// Checks: a header the scan reports lies inside the file's first 8 KiB.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "common/log.h"
#include "hw-models/guest_ram.h"
#include "hw-models/loaders/image_file.h"
#include "hw-models/loaders/multiboot_loader.h"
#include "tests/fuzz/fuzz_guest_ram.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::hw;

GuestRam& fuzz_ram() { return fuzz::fuzz_guest_ram(fuzz::kX86RamLayout); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> file(data, size);
    auto scan = scan_multiboot_header(file);
    if (scan.header && (*scan.header + 12 > size || *scan.header >= kMultibootSearchLimit)) {
        std::abort();
    }
    if (!scan.header) {
        return 0;  // load_multiboot is only called on images with a header
    }
    ImageFile kernel{"fuzz.mb", std::vector<std::uint8_t>(data, data + size)};
    MultibootOptions options;
    options.append = "console=ttyS0 fuzz";
    Log log;
    (void)load_multiboot(kernel, options, fuzz_ram(), log);
    return 0;
}
