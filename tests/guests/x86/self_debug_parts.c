/*
 * The parts of guest_self_debug that run when nothing else says which:
 * compiled once per image with -DSELF_DEBUG_PARTS=<mask> (meson.build), since
 * the ELF64 images have no command line. The multiboot image takes parts=.
 */
#include "self_debug.h"

#ifndef SELF_DEBUG_PARTS
#error "build with -DSELF_DEBUG_PARTS=<mask of SELF_DEBUG_PART_*>"
#endif

const u32 self_debug_builtin_parts = SELF_DEBUG_PARTS;
