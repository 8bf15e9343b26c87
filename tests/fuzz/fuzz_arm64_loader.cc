// libFuzzer target: the arm64 kernel loader (hw-models/loaders/
// arm64_loader, arm64_image, gzip_image) on arbitrary `-kernel` file bytes:
// an ELF64 EM_AARCH64 image, a Linux arm64 Image (Documentation/arch/arm64/
// booting.rst: the 64-byte header with text_offset, image_size, flags) or a
// gzip'd Image (decompressed to at most the RAM's 16 MiB),
// loaded with no initrd into a GuestRam of 16 MiB at 0x40000000 (the virt
// machine's RAM base), reused across inputs; then a device tree blob of
// fixed size is placed after it. parse_arm64_image_header is also called
// on every input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "common/log.h"
#include "hw-models/guest_ram.h"
#include "hw-models/loaders/arm64_image.h"
#include "hw-models/loaders/arm64_loader.h"
#include "hw-models/loaders/image_file.h"
#include "tests/fuzz/fuzz_guest_ram.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::hw;

// 16 MiB at the virt machine's RAM base.
GuestRam& fuzz_ram() { return fuzz::fuzz_guest_ram({{0x40000000, 16ull << 20}}); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> file(data, size);
    if (has_arm64_image_magic(file)) {
        (void)parse_arm64_image_header(file, "fuzz.Image");
    }
    ImageFile kernel{"fuzz.Image", std::vector<std::uint8_t>(data, data + size)};
    Log log;
    auto plan = load_arm64_kernel(kernel, nullptr, fuzz_ram(), log);
    if (plan.ok()) {
        static const std::vector<std::uint8_t> dtb(4096, 0xd0);
        (void)place_arm64_dtb(plan.value(), dtb, fuzz_ram(), log);
    }
    return 0;
}
