/*
 * Multiboot v1 (Multiboot Specification 0.6.96): the header the guests carry
 * and the information structure the loader passes in EBX. Included from
 * assembly too, so C declarations sit behind __ASSEMBLER__.
 */
#ifndef KVMDBG_GUEST_X86_MULTIBOOT_H
#define KVMDBG_GUEST_X86_MULTIBOOT_H

#define MB_HEADER_MAGIC 0x1BADB002
#define MB_BOOT_MAGIC 0x2BADB002 /* in EAX at entry */

/* Header flags (spec 3.1.2). */
#define MB_FLAG_PAGE_ALIGN (1 << 0)   /* modules page aligned */
#define MB_FLAG_MEMORY_INFO (1 << 1)  /* we want mem_lower/mem_upper, mmap */
#define MB_FLAG_AOUT_KLUDGE (1 << 16) /* load address fields are valid */

/* GDT selectors set up by mb_start.S (also used by the AP trampoline). */
#define GDT_CODE32 0x08
#define GDT_DATA32 0x10
#define GDT_SIZE (3 * 8) /* null, code, data */

#ifndef __ASSEMBLER__
#include "guest.h"

/* Info flags (spec 3.3). */
#define MBI_FLAG_MEM (1u << 0)
#define MBI_FLAG_CMDLINE (1u << 2)

/*
 * Boot information, only the fields the guests read; offsets per spec 3.3:
 *
 *   0  flags        4  mem_lower    8  mem_upper   12  boot_device
 *  16  cmdline     20  mods_count  24  mods_addr   ...
 */
struct multiboot_info {
    u32 flags;
    u32 mem_lower; /* KiB below 1 MiB, valid if MBI_FLAG_MEM */
    u32 mem_upper; /* KiB from 1 MiB to the first hole, valid if MBI_FLAG_MEM */
    u32 boot_device;
    u32 cmdline; /* physical address of a NUL-terminated string */
    u32 mods_count;
    u32 mods_addr;
};

/* Longest command line the guests read (QEMU prepends the kernel path). */
#define MB_CMDLINE_MAX 4096
#endif

#endif
