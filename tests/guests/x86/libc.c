/*
 * The two functions a freestanding GCC/Clang may emit calls to (struct
 * copies and zeroing). String instructions keep them short and stop the
 * compiler from turning a byte loop back into a call to itself.
 */
#include "guest.h"

void* memcpy(void* dst, const void* src, usize n) {
    void* d = dst;

    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}

void* memset(void* dst, int c, usize n) {
    void* d = dst;

    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}
