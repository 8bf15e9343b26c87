// libFuzzer target: the ELF reader and the ELF64 kernel loader
// (hw-models/loaders/elf_image, elf64_loader) on arbitrary file bytes, as
// `-kernel FILE` would read them (System V gABI, "ELF Header" and
// "Program Header"). parse_elf_image and elf_load_segments are called
// directly on every input; when they accept it, load_elf64 loads it into
// a GuestRam of 16 MiB at 0 and 2 MiB at 4 GiB, reused across inputs.
// Checks: every segment elf_load_segments returns lies inside the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "common/log.h"
#include "hw-models/guest_ram.h"
#include "hw-models/loaders/elf64_loader.h"
#include "hw-models/loaders/elf_image.h"
#include "hw-models/loaders/image_file.h"
#include "tests/fuzz/fuzz_guest_ram.h"

namespace {

using namespace kvmdbg;
using namespace kvmdbg::hw;

GuestRam& fuzz_ram() { return fuzz::fuzz_guest_ram(fuzz::kX86RamLayout); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> file(data, size);
    (void)has_elf_magic(file);
    auto image = parse_elf_image(file, "fuzz.elf");
    if (!image.ok()) {
        return 0;
    }
    (void)elf_physical_entry(image.value());
    auto segments = elf_load_segments(image.value(), file, "fuzz.elf");
    if (segments.ok()) {
        for (const auto& s : segments.value()) {
            if (!s.data.empty() && (s.data.data() < data || s.data.data() + s.data.size() > data + size)) {
                std::abort();
            }
        }
    }
    ImageFile kernel{"fuzz.elf", std::vector<std::uint8_t>(data, data + size)};
    Log log;
    (void)load_elf64(kernel, fuzz_ram(), log);
    return 0;
}
