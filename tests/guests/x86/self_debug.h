/*
 * guest_self_debug: which of its three parts an image runs (README.md).
 */
#ifndef KVMDBG_GUEST_X86_SELF_DEBUG_H
#define KVMDBG_GUEST_X86_SELF_DEBUG_H

#include "guest.h"

#define SELF_DEBUG_PART_BP 1u  /* a) int3 x 3, own #BP handler */
#define SELF_DEBUG_PART_TF 2u  /* b) RFLAGS.TF over 4 nops, own #DB handler */
#define SELF_DEBUG_PART_DR0 4u /* c) own DR0/DR7 execution breakpoint */
#define SELF_DEBUG_PART_ALL 7u

/* Set per image by self_debug_parts.c. */
extern const u32 self_debug_builtin_parts;

#endif
