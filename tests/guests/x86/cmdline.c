/* Whole-token "key=<decimal>" and "key=<text>" lookup on the multiboot command line. */
#include "cmdline.h"

static bool is_space(char c) { return c == ' ' || c == '\t'; }

static bool token_end(const char* s, usize i, usize max_len) { return i >= max_len || s[i] == '\0' || is_space(s[i]); }

/* Parses a decimal number filling the whole token starting at s[i]. */
static enum cmdline_result parse_u32(const char* s, usize i, usize max_len, u32* value) {
    u64 v = 0;

    if (token_end(s, i, max_len)) return CMDLINE_BAD;
    for (; !token_end(s, i, max_len); i++) {
        if (s[i] < '0' || s[i] > '9') return CMDLINE_BAD;
        v = v * 10 + (u64)(s[i] - '0');
        if (v > 0xffffffffu) return CMDLINE_BAD;
    }
    *value = (u32)v;
    return CMDLINE_OK;
}

/* Finds the first token starting with "key="; *at = the index just past '='. */
static bool find_value(const char* cmdline, usize max_len, const char* key, usize* at) {
    usize i = 0;

    while (i < max_len && cmdline[i]) {
        while (i < max_len && is_space(cmdline[i]))
            i++;
        /* Does the token at i start with "key="? */
        usize k = 0;
        while (key[k] && i + k < max_len && cmdline[i + k] == key[k])
            k++;
        if (!key[k] && i + k < max_len && cmdline[i + k] == '=') {
            *at = i + k + 1;
            return true;
        }
        while (!token_end(cmdline, i, max_len))
            i++;
    }
    return false;
}

enum cmdline_result cmdline_get_uint(const char* cmdline, usize max_len, const char* key, u32* value) {
    usize i;

    if (!find_value(cmdline, max_len, key, &i)) return CMDLINE_ABSENT;
    return parse_u32(cmdline, i, max_len, value);
}

bool cmdline_get_value(const char* cmdline, usize max_len, const char* key, const char** value, usize* len) {
    usize i;

    if (!find_value(cmdline, max_len, key, &i)) return false;
    usize end = i;
    while (!token_end(cmdline, end, max_len))
        end++;
    *value = cmdline + i;
    *len = end - i;
    return true;
}
