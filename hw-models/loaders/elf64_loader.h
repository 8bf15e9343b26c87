// Direct boot of a non-multiboot ELF64 x86-64 kernel: every vCPU starts at
// the ELF entry in 64-bit long mode, with paging on, as kvmdbg's own simple
// boot protocol (there is no QEMU equivalent to follow):
//
//   * PT_LOAD segments at p_paddr, zero-filled to p_memsz (elf_image.h);
//     the entry is e_entry translated to physical as QEMU does, and must
//     lie inside a loaded segment.
//   * Boot tables at T = the first page boundary at or above the end of
//     the highest segment:
//        T            boot GDT (32 bytes, rest of the page zero)
//        T + 0x1000   identity page tables for [0, max(4 GiB, RAM end))
//                     (arch/x86/boot_tables.h), CR3 = T + 0x1000
//     They must fit in the same RAM region; otherwise loading fails.
//   * Registers: CS = 0x18 (64-bit), data = 0x10, RIP = entry,
//     RDI = vCPU index, RSI = vCPU count, RSP = a private 64 KiB stack
//     per vCPU, from the top of the RAM below 4 GiB downwards
//     (X86BootPlan::vcpu_state()). Interrupts are off (RFLAGS = 0x2) and
//     there is no IDT: the kernel installs its own before enabling them.
#pragma once

#include "common/log.h"
#include "common/result.h"
#include "hw-models/guest_ram.h"
#include "hw-models/loaders/image_file.h"
#include "hw-models/loaders/x86_boot_plan.h"

namespace kvmdbg::hw {

/// Loads `kernel` into `ram` and returns the plan (all_vcpus_start_at_entry,
/// stack_top / stack_floor set; plan.loaded lists each non-empty segment and
/// the GDT page + page tables). Logs placements under LogCategory::loader.
/// Main thread, before the vCPUs run; RAM is written only after every check
/// passed.
///
/// Errors (messages start with the file's path): ENOEXEC for ELF errors
/// (elf_image.h), "not a 64-bit ELF", a machine other than EM_X86_64, an
/// entry outside every segment; EFBIG segments larger than RAM; EFAULT a
/// segment outside RAM (naming its address range); ENOSPC no room for the
/// boot tables above the highest segment or for one vCPU stack below the
/// top of low RAM; EINVAL RAM beyond 512 GiB.
Result<X86BootPlan> load_elf64(const ImageFile& kernel, GuestRam& ram, Log& log);

}  // namespace kvmdbg::hw
