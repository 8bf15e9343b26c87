#include "hw-models/loaders/linux_boot_header.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "common/byte_order.h"
#include "common/hex_string.h"
#include "hw-models/loaders/load_messages.h"

namespace kvmdbg::hw {

namespace {

constexpr std::size_t kSectorSize = 512;
constexpr std::size_t kDefaultSetupSects = 4;  // setup_sects 0 means 4 (boot.rst)
constexpr std::size_t kJumpOffsetByte = 0x201;

// Offsets of boot.rst's "The Real-Mode Kernel Header" table.
constexpr std::size_t kSetupSects = 0x1f1;
constexpr std::size_t kSyssize = 0x1f4;
constexpr std::size_t kVersion = 0x206;
constexpr std::size_t kLoadflags = 0x211;
constexpr std::size_t kInitrdAddrMax = 0x22c;
constexpr std::size_t kKernelAlignment = 0x230;
constexpr std::size_t kRelocatableKernel = 0x234;
constexpr std::size_t kXloadflags = 0x236;
constexpr std::size_t kCmdlineSize = 0x238;
constexpr std::size_t kPrefAddress = 0x258;
constexpr std::size_t kInitSize = 0x260;
constexpr std::uint64_t kPage = 4096;
/// boot.rst: a kernel of protocol 2.02 or older had initrd_addr_max 0x37ffffff.
constexpr std::uint64_t kDefaultInitrdAddrMax = 0x37ffffff;

// Little-endian `size` bytes at `off`; the caller checked the bounds.
std::uint64_t le(std::span<const std::uint8_t> b, std::size_t off, std::size_t size) {
    return load_le(b.data() + off, size);
}

Error bad_image(const std::string& path, const std::string& what) { return file_error(ENOEXEC, path, what); }

std::string bytes_text(std::size_t n) { return std::to_string(n) + " bytes"; }

// The fields that exist in protocol `version`; older ones stay 0.
void read_versioned_fields(std::span<const std::uint8_t> file, LinuxSetupHeader& h) {
    h.loadflags = static_cast<std::uint8_t>(le(file, kLoadflags, 1));
    h.initrd_addr_max = static_cast<std::uint32_t>(le(file, kInitrdAddrMax, 4));
    h.kernel_alignment = static_cast<std::uint32_t>(le(file, kKernelAlignment, 4));
    h.relocatable = le(file, kRelocatableKernel, 1) != 0;
    h.cmdline_size = static_cast<std::uint32_t>(le(file, kCmdlineSize, 4));
    if (h.version >= 0x020a) {
        h.pref_address = le(file, kPrefAddress, 8);
        h.init_size = static_cast<std::uint32_t>(le(file, kInitSize, 4));
    }
    if (h.version >= 0x020c) {
        h.xloadflags = static_cast<std::uint16_t>(le(file, kXloadflags, 2));
    }
}

// The boot sector, the boot flag, "HdrS" and the version.
Status check_signature(std::span<const std::uint8_t> file, const std::string& path, std::uint16_t& version) {
    if (file.size() < kSectorSize) {
        return bad_image(path, "truncated bzImage: the file has " + bytes_text(file.size()) +
                                   ", less than the 512-byte boot sector that holds the setup header");
    }
    if (!has_linux_boot_flag(file)) {
        return bad_image(path, "no boot flag 0xaa55 at 0x1fe: not a Linux boot image");
    }
    if (!has_linux_header_magic(file)) {
        return bad_image(path,
                         "no \"HdrS\" magic at 0x202: not a Linux kernel with a setup header (boot protocol 2.00 "
                         "or later)");
    }
    if (file.size() < kVersion + 2) {
        return bad_image(path, "truncated bzImage: the file has " + bytes_text(file.size()) +
                                   " and ends before the boot protocol version at 0x206");
    }
    version = static_cast<std::uint16_t>(le(file, kVersion, 2));
    if (version < kLinuxMinProtocol) {
        return bad_image(path, "Linux boot protocol " + linux_protocol_text(version) +
                                   " is too old: kvmdbg needs 2.06 or later");
    }
    return ok_status();
}

// The setup sectors and the protected-mode code are all in the file.
Status check_sizes(std::span<const std::uint8_t> file, const std::string& path, const LinuxSetupHeader& h) {
    if (file.size() <= h.kernel_offset) {
        return bad_image(path, "truncated bzImage: the setup code ends at " + hex_string(h.kernel_offset) +
                                   " (setup_sects " + std::to_string(h.setup_sects) + ") and the file has " +
                                   bytes_text(file.size()) + ", no protected-mode kernel");
    }
    std::uint64_t needed = static_cast<std::uint64_t>(h.syssize) * 16;
    if (needed > h.kernel_size) {
        return bad_image(path, "truncated bzImage: the protected-mode kernel at " + hex_string(h.kernel_offset) +
                                   " is " + hex_string(needed) + " bytes (syssize " + hex_string(h.syssize) +
                                   ") but the file has " + hex_string(h.kernel_size) + " bytes after the setup code");
    }
    return ok_status();
}

Status check_boot_capabilities(const std::string& path, const LinuxSetupHeader& h, LinuxEntry entry) {
    if ((h.loadflags & kLinuxLoadedHigh) == 0) {
        return bad_image(path,
                         "not a bzImage: LOADED_HIGH (loadflags bit 0) is clear, the kernel wants to be loaded "
                         "at 0x10000 (zImage)");
    }
    if (entry == LinuxEntry::direct_64bit && (h.xloadflags & kLinuxXlfKernel64) == 0) {
        return bad_image(path, "the kernel has no 64-bit entry (XLF_KERNEL_64 clear in xloadflags, boot protocol " +
                                   linux_protocol_text(h.version) +
                                   "): kvmdbg boots Linux through the 64-bit boot protocol only");
    }
    return ok_status();
}

}  // namespace

bool has_linux_boot_flag(std::span<const std::uint8_t> file) {
    return file.size() >= kLinuxBootFlagOffset + 2 && le(file, kLinuxBootFlagOffset, 2) == kLinuxBootFlag;
}

bool has_linux_header_magic(std::span<const std::uint8_t> file) {
    return file.size() >= kLinuxHeaderMagicOffset + 4 &&
           std::memcmp(file.data() + kLinuxHeaderMagicOffset, "HdrS", 4) == 0;
}

std::string linux_protocol_text(std::uint16_t version) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%u.%02u", static_cast<unsigned>(version >> 8),
                  static_cast<unsigned>(version & 0xff));
    return buf;
}

Result<LinuxSetupHeader> parse_linux_setup_header(std::span<const std::uint8_t> file, const std::string& path,
                                                  LinuxEntry entry) {
    LinuxSetupHeader h;
    if (auto s = check_signature(file, path, h.version); !s) {
        return s.error();
    }
    h.setup_sects = file[kSetupSects];
    std::size_t sects = h.setup_sects == 0 ? kDefaultSetupSects : h.setup_sects;
    h.kernel_offset = (sects + 1) * kSectorSize;
    h.kernel_size = file.size() > h.kernel_offset ? file.size() - h.kernel_offset : 0;
    h.header_end = kLinuxHeaderMagicOffset + file[kJumpOffsetByte];
    h.syssize = static_cast<std::uint32_t>(le(file, kSyssize, 4));
    if (auto s = check_sizes(file, path, h); !s) {
        return s.error();
    }
    // kernel_offset >= 5 * 512 covers every field read below.
    read_versioned_fields(file, h);
    if (auto s = check_boot_capabilities(path, h, entry); !s) {
        return s.error();
    }
    return h;
}

Status check_linux_cmdline_size(const LinuxSetupHeader& header, std::uint64_t length, const std::string& path) {
    if (length > header.cmdline_size) {
        return file_error(E2BIG, path,
                          "-append is " + std::to_string(length) + " bytes, longer than the kernel's cmdline_size (" +
                              std::to_string(header.cmdline_size) + ")");
    }
    return ok_status();
}

std::optional<std::uint64_t> place_linux_initrd(const LinuxSetupHeader& header, std::uint64_t size,
                                                std::uint64_t kernel_end, std::uint64_t limit,
                                                std::uint64_t* end_limit) {
    std::uint64_t addr_max = header.initrd_addr_max != 0 ? header.initrd_addr_max : kDefaultInitrdAddrMax;
    limit = std::min(limit, addr_max + 1);
    if (end_limit != nullptr) {
        *end_limit = limit;
    }
    if (size > limit) {
        return std::nullopt;
    }
    std::uint64_t gpa = (limit - size) & ~(kPage - 1);
    return gpa >= kernel_end ? std::optional(gpa) : std::nullopt;
}

}  // namespace kvmdbg::hw
