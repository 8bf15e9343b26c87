// The x86 `-kernel` front door: reads the kernel file, decides its format
// and hands it to the matching loader.
//
//   1. a valid Multiboot v1 header in the first 8 KiB -> multiboot_loader.h
//      (as QEMU does, this wins even for ELF files);
//   2. else an ELF64 file -> elf64_loader.h (direct long-mode boot);
//   3. else a multiboot magic with a wrong checksum -> that error;
//   4. else a Linux bzImage ("HdrS" at 0x202) -> refused: the Linux boot
//      protocol is not implemented;
//   5. else a 32-bit ELF without a multiboot header, or anything else ->
//      refused with a message saying what is accepted.
#pragma once

#include <string>

#include "common/log.h"
#include "common/result.h"
#include "hw-models/guest_ram.h"
#include "hw-models/loaders/x86_boot_plan.h"

namespace kvmdbg::hw {

/// What the command line gave for the kernel.
struct X86KernelOptions {
    std::string kernel_path;  ///< -kernel
    std::string append;       ///< -append (multiboot command line)
    std::string initrd;       ///< -initrd: multiboot modules, QEMU syntax
                              ///< "file1 args,file2" (",," = a comma)
};

/// Loads the kernel into `ram` and returns how to start the vCPUs (see
/// x86_boot_plan.h). Main thread, before the vCPUs run. Logs under
/// LogCategory::loader. Errors, each naming the file: the file errors of
/// image_file.h, the loaders' errors, and ENOEXEC for
///   "Linux boot protocol images are not supported; give a multiboot or
///    ELF64 kernel", "not an ELF file and no multiboot header",
///   a 32-bit ELF without a multiboot header, and -initrd with an ELF64
///   kernel (modules need multiboot). -append with an ELF64 kernel is
///   ignored (logged): direct boot has no command line.
Result<X86BootPlan> load_x86_kernel(const X86KernelOptions& options, GuestRam& ram, Log& log);

}  // namespace kvmdbg::hw
