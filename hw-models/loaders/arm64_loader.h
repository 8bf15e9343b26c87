// Direct boot of an aarch64 kernel on the virt machine, as QEMU's
// hw/arm/boot.c does for `-kernel` without firmware:
//
//   * ELF64 EM_AARCH64: PT_LOAD segments at p_paddr, zero-filled to p_memsz
//     (elf_image.h); the entry is e_entry made physical as QEMU does, and
//     must lie inside a loaded segment. Every segment must lie in RAM.
//   * Linux arm64 Image (arm64_image.h): loaded at the RAM base (2 MiB
//     aligned, the lowest possible base as flags.placement 0 asks) plus
//     text_offset; the kernel occupies image_size bytes from there
//     (booting.rst: "the image must be placed text_offset bytes from a 2MB
//     aligned base address anywhere in usable system RAM ... At least
//     image_size bytes from the start of the image must be free").
//     The entry is the load address.
//   * A gzip-compressed Image (`Image.gz`, gzip magic 1f 8b), as QEMU's
//     load_aarch64_image() takes it: decompressed in memory (gzip_image.h),
//     to at most the RAM's size, then loaded as an Image.
//   * -initrd: at the first 4 KiB boundary above the kernel (booting.rst
//     only asks for the initrd to be in RAM; the DT's /chosen
//     linux,initrd-start/end name it).
//   * The DTB: at the first 2 MiB boundary above the kernel and the initrd
//     (booting.rst: "The device tree blob (dtb) must be placed on an 8-byte
//     boundary and must not exceed 2 megabytes in size. Since the dtb will
//     be mapped cacheable using blocks of up to 2 megabytes in size, it must
//     not be placed within any 2M region which must be mapped with any
//     specific attributes"; asm/boot.h MIN_FDT_ALIGN 8, MAX_FDT_SIZE 2M).
//     A 2 MiB aligned slot of its own keeps it out of the kernel's and the
//     initrd's 2 MiB blocks.
//
// Two steps, because the DTB names the initrd: load_arm64_kernel() writes
// kernel and initrd and reserves the DTB slot; place_arm64_dtb() writes the
// DTB into it. Main thread, before the vCPUs run; RAM is written only after
// every check of that step passed.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/log.h"
#include "common/result.h"
#include "hw-models/guest_ram.h"
#include "hw-models/loaders/arm64_boot_plan.h"
#include "hw-models/loaders/image_file.h"

namespace kvmdbg::hw {

/// The largest DTB booting.rst allows.
inline constexpr std::uint64_t kArm64MaxDtbSize = 2ull << 20;

/// Loads `kernel` (ELF64 EM_AARCH64, Linux Image or gzip'd Image, told
/// apart by their magic) and, if `initrd` is non-null, the initrd, into `ram` (one region,
/// the virt RAM). Returns the plan with entry, kernel, initrd, loaded and
/// dtb_addr (the reserved slot) filled; dtb_size is 0 until
/// place_arm64_dtb(). Logs placements under LogCategory::loader.
///
/// Errors (messages start with the file's path): ENOEXEC "neither an ELF
/// file nor an arm64 Image", the gzip errors of gunzip_image() (corrupt or
/// truncated stream; EFBIG when it decompresses to more than the RAM),
/// ENOEXEC "gzip-compressed, but not an arm64 Image once decompressed", ELF
/// errors (elf_image.h), "ELF machine N is
/// not AArch64 (EM_AARCH64 183)", "not a 64-bit ELF", big-endian ELF or
/// Image, an entry outside every segment; EFBIG a kernel or initrd larger
/// than RAM; EFAULT a segment outside RAM (naming its range); ENOSPC no room
/// for the Image at the RAM base, for the initrd above the kernel or for a
/// 2 MiB DTB slot above both.
Result<Arm64BootPlan> load_arm64_kernel(const ImageFile& kernel, const ImageFile* initrd, GuestRam& ram, Log& log);

/// Writes `dtb` at plan.dtb_addr and sets plan.dtb_size, adding the range to
/// plan.loaded. Errors: EFBIG a DTB over 2 MiB or larger than the reserved
/// room (the end of RAM), EFAULT outside RAM.
Status place_arm64_dtb(Arm64BootPlan& plan, std::span<const std::uint8_t> dtb, GuestRam& ram, Log& log);

}  // namespace kvmdbg::hw
