/* SPDX-License-Identifier: MIT */
/*
 * Memory and string routines.  This file is built with -fno-builtin (or
 * -ffreestanding), which keeps the compiler from turning the loops below
 * back into calls to the very functions they implement.
 */

/* By path, not <string.h>: host tests rename our functions and must not get libc's. */
#include "include/string.h"

#include <limits.h>
#include <stdint.h>

/*
 * "rep movsq"/"rep stosq" for the 8-byte body, then "rep movsb"/"stosb"
 * for the tail.  On hardware this is as fast as ERMS "rep movsb"; under
 * QEMU's -icount every repetition counts as one instruction, so moving 8
 * bytes per repetition keeps a 4 KiB copy at 512 counted instructions
 * instead of 4096 (docs/BENCHMARKS.md says how copies are counted).  Host
 * tests use the C loops so that ASan sees each access.
 */
#if defined(__x86_64__) && !defined(LIB_HOST_TEST)
#define STRING_USE_REP 1
#else
#define STRING_USE_REP 0
#endif

/*
 * No restrict here: memmove also uses this for overlapping buffers where
 * dst < src, which a strictly ascending byte copy handles correctly.
 */
static void copy_forward(void *dst, const void *src, size_t n)
{
#if STRING_USE_REP
	size_t words = n / 8, tail = n % 8;

	/* Ascending qwords are safe for dst < src overlaps too: each store
	 * lands below every source byte still to be read. */
	__asm__ volatile("rep movsq"
			 : "+D"(dst), "+S"(src), "+c"(words)
			 :
			 : "memory");
	__asm__ volatile("rep movsb"
			 : "+D"(dst), "+S"(src), "+c"(tail)
			 :
			 : "memory");
#else
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
#endif
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	copy_forward(dst, src, n);
	return dst;
}

/*
 * The backward case stays a plain loop: "std; rep movsb" would leave the
 * direction flag set for any interrupt or signal handler that runs in the
 * middle, and handlers may assume it is clear.
 */
void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	if ((uintptr_t)d - (uintptr_t)s >= n) {
		copy_forward(dst, src, n);	/* dst below src, or no overlap */
		return dst;
	}
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *ret = dst;

#if STRING_USE_REP
	size_t words = n / 8, tail = n % 8;
	uint64_t pattern = (uint8_t)c * 0x0101010101010101ULL;

	__asm__ volatile("rep stosq"
			 : "+D"(dst), "+c"(words)
			 : "a"(pattern)
			 : "memory");
	__asm__ volatile("rep stosb"
			 : "+D"(dst), "+c"(tail)
			 : "a"(pattern)
			 : "memory");
#else
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
#endif
	return ret;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++) {
		if (*x != *y)
			return *x < *y ? -1 : 1;
	}
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (; n; n--, p++) {
		if (*p == (unsigned char)c)
			return (void *)p;
	}
	return NULL;
}

size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t maxlen)
{
	size_t n = 0;

	while (n < maxlen && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	return strncmp(a, b, SIZE_MAX);
}

/* Bytes compare as unsigned char, as C requires. */
int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;

		if (x != y)
			return x < y ? -1 : 1;
		if (!x)
			break;
	}
	return 0;
}

/* Searching for '\0' finds the terminator, as in C. */
char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (!*s)
			return (char *)last;
	}
}

size_t strlcpy(char *restrict dst, const char *restrict src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return INT_MAX;
}

/*
 * Works out the base and skips a "0x" prefix.  Like strtoul, the prefix is
 * only taken when a hex digit follows, so "0xg" parses as 0 ending at 'x'.
 */
static const char *parse_prefix(const char *s, int *base)
{
	int hex_prefix = s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
			 digit_value(s[2]) < 16;

	if (*base == 0) {
		if (hex_prefix)
			*base = 16;
		else
			*base = s[0] == '0' ? 8 : 10;
	}
	return *base == 16 && hex_prefix ? s + 2 : s;
}

/*
 * Rejecting signs and whitespace is deliberate: a stray '-' must fail
 * rather than wrap around as it does with strtoul.
 */
int str_to_u64(const char *s, int base, uint64_t *out, const char **end)
{
	const char *p;
	uint64_t val = 0;
	int overflow = 0;

	if (base < 0 || base == 1 || base > 36) {
		if (end)
			*end = s;
		return -1;
	}
	p = parse_prefix(s, &base);
	for (; digit_value(*p) < base; p++) {
		unsigned int d = (unsigned int)digit_value(*p);

		if (val > (UINT64_MAX - d) / (unsigned int)base)
			overflow = 1;
		val = val * (unsigned int)base + d;
	}
	if (p == s) {
		if (end)
			*end = s;
		return -1;
	}
	if (end)
		*end = p;
	else if (*p)
		return -1;
	if (overflow)
		return -1;
	*out = val;
	return 0;
}
