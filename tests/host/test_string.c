/* SPDX-License-Identifier: MIT */
/*
 * Tests lib/string.c under lib_-prefixed names: built with the real names,
 * it would replace the host libc's functions (which ASan intercepts).
 */
#include "htest.h"

#include <stdint.h>

#define memcpy lib_memcpy
#define memmove lib_memmove
#define memset lib_memset
#define memcmp lib_memcmp
#define memchr lib_memchr
#define strlen lib_strlen
#define strnlen lib_strnlen
#define strcmp lib_strcmp
#define strncmp lib_strncmp
#define strchr lib_strchr
#define strrchr lib_strrchr
#define strlcpy lib_strlcpy
#include "../../lib/string.c"
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef memchr
#undef strlen
#undef strnlen
#undef strcmp
#undef strncmp
#undef strchr
#undef strrchr
#undef strlcpy

/* The host's own, as a reference; its include guard differs from ours. */
#include <string.h>

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static void fill(unsigned char *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 7);
}

HTEST(memcpy_sizes_and_offsets)
{
	unsigned char src[300], dst[300], ref[300];

	fill(src, sizeof(src), 3);
	for (size_t off = 0; off < 9; off++) {
		for (size_t n = 0; n + off <= 280; n += 13) {
			memset(dst, 0xaa, sizeof(dst));
			memset(ref, 0xaa, sizeof(ref));
			HCHECK(lib_memcpy(dst + off, src + 1, n) == dst + off);
			memcpy(ref + off, src + 1, n);
			HCHECK(memcmp(dst, ref, sizeof(dst)) == 0);
		}
	}
}

HTEST(memmove_overlap)
{
	unsigned char buf[160], ref[160];

	for (int shift = -40; shift <= 40; shift += 3) {
		for (size_t n = 0; n <= 60; n += 7) {
			size_t from = 50, to = (size_t)(50 + shift);

			fill(buf, sizeof(buf), 1);
			fill(ref, sizeof(ref), 1);
			HCHECK(lib_memmove(buf + to, buf + from, n) == buf + to);
			memmove(ref + to, ref + from, n);
			HCHECK(memcmp(buf, ref, sizeof(buf)) == 0);
		}
	}
}

HTEST(memset_values)
{
	unsigned char buf[100];

	memset(buf, 1, sizeof(buf));
	HCHECK(lib_memset(buf + 3, 0x1ff, 90) == buf + 3);
	HCHECK_EQ(buf[2], 1);
	HCHECK_EQ(buf[3], 0xff);
	HCHECK_EQ(buf[92], 0xff);
	HCHECK_EQ(buf[93], 1);
	lib_memset(buf, 0, 0);
	HCHECK_EQ(buf[0], 1);
}

HTEST(memcmp_unsigned_bytes)
{
	HCHECK_EQ(lib_memcmp("abc", "abd", 3), -1);
	HCHECK_EQ(lib_memcmp("abd", "abc", 3), 1);
	HCHECK_EQ(lib_memcmp("abc", "abd", 2), 0);
	HCHECK_EQ(lib_memcmp("x", "y", 0), 0);
	HCHECK_EQ(lib_memcmp("\x80", "\x7f", 1), 1);
	HCHECK_EQ(sign(lib_memcmp("\x01\xff", "\x01\x00", 2)),
		  sign(memcmp("\x01\xff", "\x01\x00", 2)));
}

HTEST(memchr_finds_first)
{
	const char s[] = "hello\0world";

	HCHECK(lib_memchr(s, 'l', sizeof(s)) == s + 2);
	HCHECK(lib_memchr(s, 'w', sizeof(s)) == s + 6);
	HCHECK(lib_memchr(s, 'w', 6) == NULL);
	HCHECK(lib_memchr(s, 0x100 + 'h', 5) == s);
	HCHECK(lib_memchr(s, 'h', 0) == NULL);
}

HTEST(strlen_strnlen)
{
	HCHECK_EQ(lib_strlen(""), 0);
	HCHECK_EQ(lib_strlen("ferry"), 5);
	HCHECK_EQ(lib_strnlen("ferry", 3), 3);
	HCHECK_EQ(lib_strnlen("ferry", 10), 5);
	HCHECK_EQ(lib_strnlen("ferry", 0), 0);
	/* strnlen must not read past maxlen: "ab" has no terminator here. */
	char unterminated[2] = { 'a', 'b' };
	HCHECK_EQ(lib_strnlen(unterminated, 2), 2);
}

HTEST(strcmp_strncmp)
{
	static const char *const words[] = {
		"", "a", "ab", "abc", "abd", "b", "\x80", "\x7f", "ab\xff",
	};
	size_t nw = sizeof(words) / sizeof(words[0]);

	for (size_t i = 0; i < nw; i++) {
		for (size_t j = 0; j < nw; j++) {
			HCHECK_EQ(sign(lib_strcmp(words[i], words[j])),
				  sign(strcmp(words[i], words[j])));
			for (size_t n = 0; n < 5; n++)
				HCHECK_EQ(sign(lib_strncmp(words[i], words[j], n)),
					  sign(strncmp(words[i], words[j], n)));
		}
	}
}

HTEST(strchr_strrchr)
{
	const char *s = "a/b/c";

	HCHECK(lib_strchr(s, '/') == s + 1);
	HCHECK(lib_strrchr(s, '/') == s + 3);
	HCHECK(lib_strchr(s, 'x') == NULL);
	HCHECK(lib_strrchr(s, 'x') == NULL);
	HCHECK(lib_strchr(s, '\0') == s + 5);
	HCHECK(lib_strrchr(s, '\0') == s + 5);
	HCHECK(lib_strchr(s, 'a') == s);
	HCHECK(lib_strrchr("", 'a') == NULL);
}

HTEST(strlcpy_truncates)
{
	char buf[6];

	memset(buf, 'x', sizeof(buf));
	HCHECK_EQ(lib_strlcpy(buf, "hi", sizeof(buf)), 2);
	HCHECK(strcmp(buf, "hi") == 0);
	HCHECK_EQ(lib_strlcpy(buf, "ferryboat", sizeof(buf)), 9);
	HCHECK(strcmp(buf, "ferry") == 0);
	HCHECK_EQ(lib_strlcpy(buf, "abcdef", 1), 6);
	HCHECK_EQ(buf[0], '\0');
	buf[0] = 'q';
	HCHECK_EQ(lib_strlcpy(buf, "abc", 0), 3);
	HCHECK_EQ(buf[0], 'q');
}

struct num_case {
	const char *s;
	int base;
	int ret;
	uint64_t val;
	size_t used;		/* characters consumed */
};

HTEST(str_to_u64_table)
{
	static const struct num_case cases[] = {
		{ "0", 0, 0, 0, 1 },
		{ "123", 10, 0, 123, 3 },
		{ "123abc", 10, 0, 123, 3 },
		{ "0x1F", 0, 0, 31, 4 },
		{ "0X1f", 16, 0, 31, 4 },
		{ "ff", 16, 0, 255, 2 },
		{ "017", 0, 0, 15, 3 },
		{ "019", 0, 0, 1, 2 },
		{ "0xg", 0, 0, 0, 1 },
		{ "0x", 16, 0, 0, 1 },
		{ "1010", 2, 0, 10, 4 },
		{ "zz", 36, 0, 1295, 2 },
		{ "18446744073709551615", 10, 0, UINT64_MAX, 20 },
		{ "0xffffffffffffffff", 0, 0, UINT64_MAX, 18 },
		{ "18446744073709551616", 10, -1, 0, 20 },
		{ "0x10000000000000000", 0, -1, 0, 19 },
		{ "99999999999999999999999", 10, -1, 0, 23 },
		{ "", 10, -1, 0, 0 },
		{ "x", 0, -1, 0, 0 },
		{ "-1", 10, -1, 0, 0 },
		{ "+1", 10, -1, 0, 0 },
		{ " 1", 10, -1, 0, 0 },
		{ "12", 1, -1, 0, 0 },
		{ "12", 37, -1, 0, 0 },
		{ "12", -2, -1, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct num_case *c = &cases[i];
		uint64_t v = 0x5a5a;
		const char *end = NULL;
		int ret = str_to_u64(c->s, c->base, &v, &end);

		if (ret != c->ret || end != c->s + c->used ||
		    v != (ret ? 0x5a5a : c->val))
			fprintf(stderr, "  case \"%s\" base %d\n", c->s, c->base);
		HCHECK_EQ(ret, c->ret);
		HCHECK(end == c->s + c->used);
		HCHECK(v == (ret ? 0x5a5a : c->val));
	}
}

HTEST(str_to_u64_whole_string_without_end)
{
	uint64_t v = 7;

	HCHECK_EQ(str_to_u64("4096", 0, &v, NULL), 0);
	HCHECK_EQ(v, 4096);
	HCHECK_EQ(str_to_u64("4096k", 0, &v, NULL), -1);
	HCHECK_EQ(v, 4096);
	HCHECK_EQ(str_to_u64("", 0, &v, NULL), -1);
}
