/* SPDX-License-Identifier: MIT */
/*
 * Ferry's string and memory routines, shared by the kernel and user
 * programs.  The names match libc on purpose: the compiler emits calls to
 * memcpy, memmove, memset and memcmp on its own, even in freestanding code.
 */
#ifndef FERRY_LIB_STRING_H
#define FERRY_LIB_STRING_H

#include <stddef.h>
#include <stdint.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);

size_t strlen(const char *s);
size_t strnlen(const char *s, size_t maxlen);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);

/*
 * Copies at most size - 1 bytes and always terminates when size > 0.
 * Returns strlen(src), so truncation is "ret >= size".
 */
size_t strlcpy(char *restrict dst, const char *restrict src, size_t size);

/*
 * Parses an unsigned number in base 2..36, or base 0 to pick 16 for a
 * "0x"/"0X" prefix, 8 for a leading "0" and 10 otherwise.  Base 16 also
 * accepts the prefix.  No whitespace or sign is accepted.
 *
 * Returns 0 and stores the value in *out, or -1 when there are no digits,
 * the value does not fit in 64 bits or the base is invalid (*out is then
 * left alone).  When end is non-NULL it receives the first unparsed
 * character; when end is NULL the whole string must be the number.
 */
int str_to_u64(const char *s, int base, uint64_t *out, const char **end);

#endif
