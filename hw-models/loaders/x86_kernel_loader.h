// The x86 `-kernel` front door: reads the kernel file, decides its format
// and hands it to the matching loader.
//
//   1. a Linux bzImage (boot flag 0xaa55 at 0x1fe and "HdrS" at 0x202) ->
//      linux_loader.h (the 64-bit boot protocol); as in QEMU, this is
//      checked before a multiboot header;
//   2. else a valid Multiboot v1 header in the first 8 KiB ->
//      multiboot_loader.h (as QEMU does, this wins even for ELF files);
//   3. else an ELF64 file -> elf64_loader.h (direct long-mode boot);
//   4. else a multiboot magic with a wrong checksum -> that error;
//   5. else a file with only one of the two Linux signatures ->
//      linux_loader.h, whose header check names the missing one;
//   6. else a 32-bit ELF without a multiboot header, or anything else ->
//      refused with a message saying what is accepted.
#pragma once

#include <string>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "hw-models/guest_ram.h"
#include "hw-models/loaders/gpa_range.h"
#include "hw-models/loaders/x86_boot_plan.h"

namespace kvmdbg::hw {

/// What the command line gave for the kernel.
struct X86KernelOptions {
    std::string kernel_path;  ///< -kernel
    std::string append;       ///< -append (multiboot or Linux command line)
    std::string initrd;       ///< -initrd: multiboot modules, QEMU syntax
                              ///< "file1 args,file2" (",," = a comma); for
                              ///< a bzImage one initrd file
    /// Guest-physical ranges the machine maps that are not RAM (pc-lite:
    /// the firmware ROM); the Linux e820 map lists them as reserved.
    std::vector<GpaRange> reserved;
};

/// Loads the kernel into `ram` and returns how to start the vCPUs (see
/// x86_boot_plan.h). Main thread, before the vCPUs run. Logs under
/// LogCategory::loader. Errors, each naming the file: the file errors of
/// image_file.h, the loaders' errors (linux_loader.h for a bzImage), and
///   ENOEXEC for "not an ELF file and no multiboot header",
///   a 32-bit ELF without a multiboot header, and -initrd with an ELF64
///   kernel (modules need multiboot). -append with an ELF64 kernel is
///   ignored (logged): direct boot has no command line.
Result<X86BootPlan> load_x86_kernel(const X86KernelOptions& options, GuestRam& ram, Log& log);

}  // namespace kvmdbg::hw
