#include "hw-models/pc/linux_firmware_handoff.h"

#include <algorithm>
#include <cerrno>
#include <optional>

#include "common/byte_order.h"
#include "hw-models/loaders/linux_boot_header.h"
#include "hw-models/loaders/load_messages.h"

namespace kvmdbg::hw {

namespace {

constexpr std::uint8_t kCanUseHeap = 0x80;

// Setup-header offsets a boot loader writes.
constexpr std::size_t kTypeOfLoader = 0x210;
constexpr std::size_t kLoadflags = 0x211;
constexpr std::size_t kRamdiskImage = 0x218;
constexpr std::size_t kRamdiskSize = 0x21c;
constexpr std::size_t kHeapEndPtr = 0x224;
constexpr std::size_t kCmdLinePtr = 0x228;

// Where the initrd goes (layout in the header), or an error.
Result<std::uint32_t> place_initrd(const LinuxSetupHeader& h, std::uint64_t size, const LinuxFirmwareHandoff& o) {
    std::uint64_t kernel_end = kFirmwareLinuxKernelAddr + std::max<std::uint64_t>(h.init_size, h.kernel_size);
    std::uint64_t ram_limit = o.low_ram_end > kFirmwareHighReserve ? o.low_ram_end - kFirmwareHighReserve : 0;
    std::uint64_t limit = 0;
    auto gpa = place_linux_initrd(h, size, kernel_end, ram_limit, &limit);
    if (!gpa) {
        return file_error(ENOSPC, o.initrd_path,
                          "the initrd (" + std::to_string(size) + " bytes) does not fit between the kernel's end " +
                              hex_text(kernel_end) + " and " + hex_text(limit) +
                              " (the lower of initrd_addr_max + 1 and the end of RAM below 4 GiB less the "
                              "firmware's 1 MiB): give more -m");
    }
    return static_cast<std::uint32_t>(*gpa);
}

}  // namespace

Result<FwCfgKernelItems> linux_firmware_handoff(const ImageFile& kernel, const LinuxFirmwareHandoff& options) {
    auto header = parse_linux_setup_header(kernel.bytes, kernel.path, LinuxEntry::real_mode_setup);
    if (!header) {
        return header.error();
    }
    if (auto s = check_linux_cmdline_size(*header, options.cmdline.size(), kernel.path); !s) {
        return s.error();
    }
    std::optional<ImageFile> initrd;
    std::uint32_t initrd_gpa = 0;
    if (!options.initrd_path.empty()) {
        auto file = read_image_file(options.initrd_path);
        if (!file) {
            return file.error();
        }
        auto gpa = place_initrd(*header, file->bytes.size(), options);
        if (!gpa) {
            return gpa.error();
        }
        initrd_gpa = *gpa;
        initrd.emplace(std::move(file).value());
    }

    FwCfgKernelItems items;
    auto split = kernel.bytes.begin() + static_cast<std::ptrdiff_t>(header->kernel_offset);
    items.setup.assign(kernel.bytes.begin(), split);
    items.kernel.assign(split, kernel.bytes.end());
    std::uint8_t* setup = items.setup.data();
    setup[kTypeOfLoader] = kQemuLoaderType;
    setup[kLoadflags] |= kCanUseHeap;
    store_le(setup + kRamdiskImage, initrd_gpa, 4);
    store_le(setup + kRamdiskSize, initrd ? initrd->bytes.size() : 0, 4);
    store_le(setup + kHeapEndPtr, kFirmwareLinuxCmdlineAddr - kFirmwareLinuxSetupAddr - 0x200, 2);
    store_le(setup + kCmdLinePtr, kFirmwareLinuxCmdlineAddr, 4);
    if (initrd) {
        items.initrd = std::move(initrd->bytes);
    }
    items.cmdline = options.cmdline;
    items.setup_addr = kFirmwareLinuxSetupAddr;
    items.kernel_addr = kFirmwareLinuxKernelAddr;
    items.initrd_addr = initrd_gpa;
    items.cmdline_addr = kFirmwareLinuxCmdlineAddr;
    return items;
}

}  // namespace kvmdbg::hw
