/*
 * Reading "key=value" tokens from the multiboot command line. QEMU passes
 * "<kernel path> <-append text>", so tokens are matched whole, never as
 * substrings.
 */
#ifndef KVMDBG_GUEST_X86_CMDLINE_H
#define KVMDBG_GUEST_X86_CMDLINE_H

#include "guest.h"

enum cmdline_result {
    CMDLINE_ABSENT, /* no token "key=..." */
    CMDLINE_OK,     /* *value set from the first such token */
    CMDLINE_BAD,    /* the value is not a decimal number that fits in u32 */
};

/*
 * Looks for the first space-separated token "key=<decimal>" in the first
 * max_len bytes of the NUL-terminated cmdline.
 */
enum cmdline_result cmdline_get_uint(const char* cmdline, usize max_len, const char* key, u32* value);

/*
 * Finds the first token "key=..." like cmdline_get_uint() and points *value
 * at the text after '=' (inside cmdline, not NUL-terminated; *len bytes,
 * possibly 0). Returns false, leaving *value and *len alone, if there is none.
 */
bool cmdline_get_value(const char* cmdline, usize max_len, const char* key, const char** value, usize* len);

#endif
