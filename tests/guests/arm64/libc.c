/* The two functions GCC may call on its own even in freestanding code. */
#include "guest.h"

void* memset(void* dst, int c, usize n);
void* memcpy(void* dst, const void* src, usize n);

void* memset(void* dst, int c, usize n) {
    volatile u8* d = dst;
    while (n--)
        *d++ = (u8)c;
    return dst;
}

void* memcpy(void* dst, const void* src, usize n) {
    volatile u8* d = dst;
    const u8* s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}
