/* SPDX-License-Identifier: MIT */
/*
 * Tests lib/fmt.c against the host's printf.  snprintf and vsnprintf are
 * renamed while fmt.c is included so that they do not replace libc's.
 */
#include "htest.h"

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define snprintf lib_snprintf
#define vsnprintf lib_vsnprintf
#include "../../lib/fmt.c"
#undef snprintf
#undef vsnprintf

#define OUT_MAX 512

/* Formats with both engines and reports any difference. */
__attribute__((format(printf, 1, 2)))
static void same(const char *fmt, ...)
{
	char lib[OUT_MAX], host[OUT_MAX];
	va_list ap, aq;
	int ln, hn;

	va_start(ap, fmt);
	va_copy(aq, ap);
	ln = lib_vsnprintf(lib, sizeof(lib), fmt, ap);
	hn = vsnprintf(host, sizeof(host), fmt, aq);
	va_end(aq);
	va_end(ap);
	/* Compare raw bytes: %c may legitimately produce a NUL. */
	if (ln != hn || hn < 0 || hn >= OUT_MAX || memcmp(lib, host, (size_t)hn + 1)) {
		fprintf(stderr, "  format \"%s\": lib \"%s\" (%d), host \"%s\" (%d)\n",
			fmt, lib, ln, host, hn);
		HCHECK(!"output differs from host printf");
	}
}

HTEST(literal_table)
{
	int x = 5;

	same("");
	same("plain text");
	same("100%% sure, %%%%|");
	same("%d %i %u %x %X %o", -17, 23, 4000000000u, 0xbeefu, 0xbeefu, 0755u);
	same("%c%c%c", 'F', 'e', 'r');
	same("[%s] [%10s] [%-10s] [%.2s] [%10.3s]", "ab", "ab", "ab", "abcdef", "abcdef");
	same("[%*d] [%-*d] [%*d]", 6, 42, 6, 42, -6, 42);
	same("[%.*d] [%.*d] [%*.*d]", 4, 7, -1, 7, 8, 3, -5);
	same("[%.*s] [%.*s] [%*s]", 3, "abcdef", -3, "abc", -4, "z");
	same("%hhd %hhu %hd %hu", (signed char)-3, (unsigned char)200,
	     (short)-30000, (unsigned short)60000);
	same("%hhx %hx %lx %llx", (unsigned char)0xab, (unsigned short)0xabcd,
	     -1UL, -1ULL);
	same("%ld %lu %lld %llu", LONG_MIN, ULONG_MAX, LLONG_MIN, ULLONG_MAX);
	same("%zu %zx %zd %td %tu", SIZE_MAX, (size_t)4096, (ptrdiff_t)-3,
	     PTRDIFF_MIN, (size_t)PTRDIFF_MAX);
	same("%jd %ju %jx", INTMAX_MIN, UINTMAX_MAX, UINTMAX_MAX);
	same("%p %20p %-20p|", (void *)&x, (void *)&x, (void *)&x);
	same("%#x %#X %#o %#.0o %#.0x %#5o %#-8x|", 0u, 255u, 8u, 0u, 0u, 8u, 31u);
	same("%+d % d %+.0d % .0d %.0d|", 0, 0, 0, 0, 0);
	same("%05.2d|%-+8.3d|% 07d|", 4, 9, -12);
	same("%08.3x %08x %#010x %#010.4x", 0xabu, 0xabu, 0xabu, 0xabu);
	same("%40d|%-40u|%050d", 1, 2u, -3);
	same("%s=%d, %s=%#x (%c)\n", "pid", 1, "cr3", 0x1000u, '!');
	same("%1s|%1c|%1d|%0d|", "long", 'c', 12345, 7);
}

enum arg_kind {
	K_INT, K_UINT, K_LONG, K_ULONG, K_LLONG, K_ULLONG,
	K_INTMAX, K_UINTMAX, K_SIZE, K_PTRDIFF,
};

/* Passes bits as the exact type the conversion reads. */
static void same_int(const char *fmt, enum arg_kind k, unsigned long long bits)
{
	switch (k) {
	case K_INT: same(fmt, (int)bits); break;
	case K_UINT: same(fmt, (unsigned int)bits); break;
	case K_LONG: same(fmt, (long)bits); break;
	case K_ULONG: same(fmt, (unsigned long)bits); break;
	case K_LLONG: same(fmt, (long long)bits); break;
	case K_ULLONG: same(fmt, bits); break;
	case K_INTMAX: same(fmt, (intmax_t)bits); break;
	case K_UINTMAX: same(fmt, (uintmax_t)bits); break;
	case K_SIZE: same(fmt, (size_t)bits); break;
	case K_PTRDIFF: same(fmt, (ptrdiff_t)bits); break;
	}
}

struct len_mod {
	const char *text;
	enum arg_kind sig, uns;
};

static const struct len_mod len_mods[] = {
	{ "", K_INT, K_UINT },		{ "hh", K_INT, K_UINT },
	{ "h", K_INT, K_UINT },		{ "l", K_LONG, K_ULONG },
	{ "ll", K_LLONG, K_ULLONG },	{ "z", K_PTRDIFF, K_SIZE },
	{ "j", K_INTMAX, K_UINTMAX },	{ "t", K_PTRDIFF, K_SIZE },
};

static const unsigned long long int_values[] = {
	0, 1, 7, 8, 42, 255, 256, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
	0x80000000, 0xffffffff, 0x123456789abcdef0, 0x7fffffffffffffff,
	0x8000000000000000, ~0ull, -42ull, -129ull,
};

static const char *const widths[] = { "", "1", "6", "24" };
static const char *const precs[] = { "", ".", ".0", ".1", ".5", ".22" };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define FMT_MAX 32

/* Builds "%<flags><width><prec><len><conv>", flags picked by mask bits. */
static void make_fmt(char *fmt, unsigned int mask, const char *flagset,
		     const char *width, const char *prec, const char *len,
		     char conv)
{
	char flags[8], *p = flags;

	for (unsigned int i = 0; flagset[i]; i++) {
		if (mask & (1u << i))
			*p++ = flagset[i];
	}
	*p = '\0';
	snprintf(fmt, FMT_MAX, "%%%s%s%s%s%c", flags, width, prec, len, conv);
}

static void int_formats(char conv, unsigned int mask)
{
	int is_signed = conv == 'd' || conv == 'i';
	char fmt[FMT_MAX];

	for (size_t w = 0; w < COUNT(widths); w++) {
		for (size_t pr = 0; pr < COUNT(precs); pr++) {
			for (size_t l = 0; l < COUNT(len_mods); l++) {
				const struct len_mod *lm = &len_mods[l];
				enum arg_kind k = is_signed ? lm->sig : lm->uns;

				make_fmt(fmt, mask, "-0+ #", widths[w],
					 precs[pr], lm->text, conv);
				for (size_t v = 0; v < COUNT(int_values); v++)
					same_int(fmt, k, int_values[v]);
			}
		}
	}
}

/* Every flag set x width x precision x length x value, per conversion. */
HTEST(integer_cross_product)
{
	for (const char *conv = "diuxXo"; *conv; conv++) {
		for (unsigned int mask = 0; mask < 32; mask++)
			int_formats(*conv, mask);
	}
}

static void pointer_formats(unsigned int mask)
{
	int local;
	void *ptrs[] = { &local, (void *)1, (void *)UINTPTR_MAX };
	char fmt[FMT_MAX];

	for (size_t w = 0; w < COUNT(widths); w++) {
		for (size_t pr = 0; pr < COUNT(precs); pr++) {
			make_fmt(fmt, mask, "-0#", widths[w], precs[pr], "", 'p');
			for (size_t i = 0; i < COUNT(ptrs); i++)
				same(fmt, ptrs[i]);
		}
	}
}

/* '0' is undefined for %s and %c, so only '-' is varied. */
static void string_char_formats(unsigned int mask)
{
	static const char *const strs[] = { "", "a", "ferry", "a longer string!" };
	static const char chars[] = { 'a', ' ', '%', '\x7f', '\0' };
	char fmt[FMT_MAX];

	for (size_t w = 0; w < COUNT(widths); w++) {
		for (size_t pr = 0; pr < COUNT(precs); pr++) {
			make_fmt(fmt, mask, "-", widths[w], precs[pr], "", 's');
			for (size_t i = 0; i < COUNT(strs); i++)
				same(fmt, strs[i]);
		}
		make_fmt(fmt, mask, "-", widths[w], "", "", 'c');
		for (size_t i = 0; i < COUNT(chars); i++)
			same(fmt, chars[i]);
	}
}

HTEST(string_char_pointer_cross_product)
{
	for (unsigned int mask = 0; mask < 8; mask++)
		pointer_formats(mask);
	for (unsigned int mask = 0; mask < 2; mask++)
		string_char_formats(mask);
}

HTEST(truncation_and_return_value)
{
	static const char *const fmt = "%s-%08d-%x";
	char lib[24], host[24];

	for (size_t size = 0; size <= sizeof(lib); size++) {
		memset(lib, '#', sizeof(lib));
		memset(host, '#', sizeof(host));
		HCHECK_EQ(lib_snprintf(lib, size, fmt, "ferry", -42, 0xc0ffeeu),
			  snprintf(host, size, fmt, "ferry", -42, 0xc0ffeeu));
		HCHECK(memcmp(lib, host, sizeof(lib)) == 0);
	}
	HCHECK_EQ(lib_snprintf(NULL, 0, "%d", 12345), 5);
}

/* Calling through a variable keeps -Wformat quiet about deliberate misuse. */
static const char *fmt_one(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lib_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return buf;
}

HTEST(ferry_specific_behaviour)
{
	char b[64];

	HCHECK(strcmp(fmt_one(b, sizeof(b), "%s", (char *)NULL), "(null)") == 0);
	HCHECK(strcmp(fmt_one(b, sizeof(b), "[%8s]", (char *)NULL), "[  (null)]") == 0);
	HCHECK(strcmp(fmt_one(b, sizeof(b), "%.3s", (char *)NULL), "(nu") == 0);
	HCHECK(strcmp(fmt_one(b, sizeof(b), "%p", (void *)NULL), "0x0") == 0);
	HCHECK(strcmp(fmt_one(b, sizeof(b), "%p", (void *)0xffff800000001000),
		      "0xffff800000001000") == 0);
	HCHECK(strcmp(fmt_one(b, sizeof(b), "a%yb", 1), "a%yb") == 0);
	HCHECK(strcmp(fmt_one(b, sizeof(b), "%-5.2ly|%d", 7), "%-5.2ly|7") == 0);
	HCHECK(strcmp(fmt_one(b, sizeof(b), "end%", 0), "end%") == 0);
	HCHECK(strcmp(fmt_one(b, sizeof(b), "end%-08l", 0), "end%-08l") == 0);
	HCHECK(strcmp(fmt_one(b, sizeof(b), "%.3s|", "ab\xff"), "ab\xff|") == 0);
	/* Precision bounds the read of an unterminated string. */
	char raw[3] = { 'x', 'y', 'z' };
	HCHECK(strcmp(fmt_one(b, sizeof(b), "%.3s", raw), "xyz") == 0);
}

struct sink {
	int calls;
	size_t len;
	char text[256];
};

static void sink_out(void *ctx, const char *s, size_t n)
{
	struct sink *k = ctx;

	k->calls++;
	memcpy(k->text + k->len, s, n);
	k->len += n;
	k->text[k->len] = '\0';
}

static int sink_format(struct sink *k, const char *fmt, ...)
{
	va_list ap;
	int n;

	memset(k, 0, sizeof(*k));
	va_start(ap, fmt);
	n = fmt_vformat(sink_out, k, fmt, ap);
	va_end(ap);
	return n;
}

HTEST(output_is_batched)
{
	struct sink k;

	HCHECK_EQ(sink_format(&k, "a literal run of text, no conversions\n"), 38);
	HCHECK_EQ(k.calls, 1);
	HCHECK_EQ(sink_format(&k, "pid %d: %s\n", 17, "init"), 13);
	HCHECK(strcmp(k.text, "pid 17: init\n") == 0);
	HCHECK_EQ(k.calls, 5);
	/* 70 columns of padding go out in a few runs, not 70 calls. */
	HCHECK_EQ(sink_format(&k, "%72d", 42), 72);
	HCHECK(k.calls <= 4);
	HCHECK_EQ((int)k.len, 72);
}
