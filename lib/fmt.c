/* SPDX-License-Identifier: MIT */
/*
 * printf engine.  Output goes to a callback in runs (literal text, padding,
 * digits) rather than a character at a time, because the main consumer is
 * a serial console where every call costs.
 */
#include "include/fmt.h"

#include <limits.h>
#include <stdint.h>

enum {
	FL_LEFT = 1 << 0,	/* '-' */
	FL_ZERO = 1 << 1,	/* '0' */
	FL_PLUS = 1 << 2,	/* '+' */
	FL_SPACE = 1 << 3,	/* ' ' */
	FL_ALT = 1 << 4,	/* '#' */
};

enum fmt_len { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_J, LEN_T };

struct fmt_spec {
	unsigned int flags;
	int width;
	int prec;		/* -1 when not given */
	enum fmt_len len;
	char conv;
};

struct fmt_state {
	fmt_out_fn out;
	void *ctx;
	size_t count;
	va_list ap;		/* a copy, so helpers can va_arg through st */
};

static void emit(struct fmt_state *st, const char *s, size_t n)
{
	if (n) {
		st->out(st->ctx, s, n);
		st->count += n;
	}
}

static void emit_pad(struct fmt_state *st, char c, long long n)
{
	static const char spaces[] = "                                ";
	static const char zeros[] = "00000000000000000000000000000000";
	const char *run = c == '0' ? zeros : spaces;
	const long long chunk = sizeof(spaces) - 1;

	for (; n > 0; n -= chunk)
		emit(st, run, (size_t)(n < chunk ? n : chunk));
}

/* Lays out prefix, leading zeros and body inside the field width. */
static void emit_field(struct fmt_state *st, const struct fmt_spec *sp,
		       const char *prefix, size_t plen, long long zeros,
		       const char *body, size_t blen)
{
	long long pad = sp->width - (long long)(plen + blen) - zeros;

	if (!(sp->flags & FL_LEFT))
		emit_pad(st, ' ', pad);
	emit(st, prefix, plen);
	emit_pad(st, '0', zeros);
	emit(st, body, blen);
	if (sp->flags & FL_LEFT)
		emit_pad(st, ' ', pad);
}

static unsigned int parse_flags(const char **pp)
{
	unsigned int flags = 0;

	for (;; (*pp)++) {
		switch (**pp) {
		case '-': flags |= FL_LEFT; break;
		case '0': flags |= FL_ZERO; break;
		case '+': flags |= FL_PLUS; break;
		case ' ': flags |= FL_SPACE; break;
		case '#': flags |= FL_ALT; break;
		default: return flags;
		}
	}
}

/* Saturates rather than overflowing on absurd widths. */
static int parse_num(const char **pp)
{
	int n = 0;

	for (; **pp >= '0' && **pp <= '9'; (*pp)++) {
		int d = **pp - '0';

		n = n > (INT_MAX - d) / 10 ? INT_MAX : n * 10 + d;
	}
	return n;
}

static enum fmt_len parse_len(const char **pp)
{
	const char *p = *pp;
	enum fmt_len len;

	switch (*p) {
	case 'h': len = p[1] == 'h' ? LEN_HH : LEN_H; break;
	case 'l': len = p[1] == 'l' ? LEN_LL : LEN_L; break;
	case 'z': len = LEN_Z; break;
	case 'j': len = LEN_J; break;
	case 't': len = LEN_T; break;
	default: return LEN_NONE;
	}
	*pp = p + (len == LEN_HH || len == LEN_LL ? 2 : 1);
	return len;
}

/* Parses what follows '%'; returns a pointer to the conversion character. */
static const char *parse_spec(struct fmt_state *st, const char *p,
			      struct fmt_spec *sp)
{
	sp->flags = parse_flags(&p);
	if (*p == '*') {
		int w = va_arg(st->ap, int);

		p++;
		/* A negative '*' width means left-justify, as in C. */
		if (w < 0) {
			sp->flags |= FL_LEFT;
			w = w == INT_MIN ? INT_MAX : -w;
		}
		sp->width = w;
	} else {
		sp->width = parse_num(&p);
	}
	sp->prec = -1;
	if (*p == '.') {
		p++;
		if (*p == '*') {
			int prec = va_arg(st->ap, int);

			p++;
			sp->prec = prec < 0 ? -1 : prec;
		} else {
			sp->prec = parse_num(&p);
		}
	}
	sp->len = parse_len(&p);
	sp->conv = *p;
	return p;
}

/* Narrower types arrive promoted to int and are cut back here. */
static intmax_t fetch_signed(struct fmt_state *st, enum fmt_len len)
{
	switch (len) {
	case LEN_HH: return (signed char)va_arg(st->ap, int);
	case LEN_H: return (short)va_arg(st->ap, int);
	case LEN_L: return va_arg(st->ap, long);
	case LEN_LL: return va_arg(st->ap, long long);
	case LEN_J: return va_arg(st->ap, intmax_t);
	/* ptrdiff_t is the signed twin of size_t on every target we build. */
	case LEN_Z:
	case LEN_T: return va_arg(st->ap, ptrdiff_t);
	default: return va_arg(st->ap, int);
	}
}

static uintmax_t fetch_unsigned(struct fmt_state *st, enum fmt_len len)
{
	switch (len) {
	case LEN_HH: return (unsigned char)va_arg(st->ap, unsigned int);
	case LEN_H: return (unsigned short)va_arg(st->ap, unsigned int);
	case LEN_L: return va_arg(st->ap, unsigned long);
	case LEN_LL: return va_arg(st->ap, unsigned long long);
	case LEN_J: return va_arg(st->ap, uintmax_t);
	case LEN_Z:
	case LEN_T: return va_arg(st->ap, size_t);
	default: return va_arg(st->ap, unsigned int);
	}
}

/* Writes digits backwards so that they end at end; returns their count. */
static size_t to_digits(char *end, uintmax_t v, unsigned int base, int upper)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *p = end;

	do {
		*--p = set[v % base];
		v /= base;
	} while (v);
	return (size_t)(end - p);
}

static void put_integer(struct fmt_state *st, const struct fmt_spec *sp,
			uintmax_t mag, unsigned int base, const char *prefix,
			size_t plen)
{
	char buf[sizeof(uintmax_t) * CHAR_BIT / 3 + 1];
	/* C says zero printed with precision 0 has no digits at all. */
	size_t nd = mag == 0 && sp->prec == 0 ? 0 :
		    to_digits(buf + sizeof(buf), mag, base, sp->conv == 'X');
	const char *digits = buf + sizeof(buf) - nd;
	long long zeros = sp->prec > (int)nd ? sp->prec - (long long)nd : 0;

	/* '#' with 'o' guarantees one leading zero, not one extra zero. */
	if (base == 8 && (sp->flags & FL_ALT) && zeros == 0 &&
	    (nd == 0 || digits[0] != '0'))
		zeros = 1;
	/* '0' pads with zeros, unless a precision or '-' was given. */
	if (sp->prec < 0 && (sp->flags & (FL_ZERO | FL_LEFT)) == FL_ZERO) {
		long long room = sp->width - (long long)(plen + nd);

		if (room > zeros)
			zeros = room;
	}
	emit_field(st, sp, prefix, plen, zeros, digits, nd);
}

static void put_signed(struct fmt_state *st, const struct fmt_spec *sp)
{
	intmax_t v = fetch_signed(st, sp->len);
	/* Negating in unsigned arithmetic keeps INTMAX_MIN well defined. */
	uintmax_t mag = v < 0 ? 0 - (uintmax_t)v : (uintmax_t)v;
	const char *sign = v < 0 ? "-" : (sp->flags & FL_PLUS) ? "+" :
			   (sp->flags & FL_SPACE) ? " " : "";

	put_integer(st, sp, mag, 10, sign, sign[0] ? 1 : 0);
}

static void put_unsigned(struct fmt_state *st, const struct fmt_spec *sp)
{
	uintmax_t v = fetch_unsigned(st, sp->len);
	int hex = sp->conv == 'x' || sp->conv == 'X';
	size_t plen = hex && (sp->flags & FL_ALT) && v ? 2 : 0;
	unsigned int base = hex ? 16 : sp->conv == 'o' ? 8 : 10;

	put_integer(st, sp, v, base, sp->conv == 'X' ? "0X" : "0x", plen);
}

static void put_pointer(struct fmt_state *st, const struct fmt_spec *sp)
{
	uintptr_t v = (uintptr_t)va_arg(st->ap, void *);

	put_integer(st, sp, v, 16, "0x", 2);
}

static void put_char(struct fmt_state *st, const struct fmt_spec *sp)
{
	char c = (char)va_arg(st->ap, int);

	emit_field(st, sp, "", 0, 0, &c, 1);
}

static void put_string(struct fmt_state *st, const struct fmt_spec *sp)
{
	const char *s = va_arg(st->ap, const char *);
	size_t n = 0;

	if (!s)
		s = "(null)";
	/* A precision bounds the read, so s need not be terminated. */
	while ((sp->prec < 0 || n < (size_t)sp->prec) && s[n])
		n++;
	emit_field(st, sp, "", 0, 0, s, n);
}

/* Handles one conversion starting at '%'; returns where the text resumes. */
static const char *convert(struct fmt_state *st, const char *pct)
{
	struct fmt_spec sp;
	const char *p = parse_spec(st, pct + 1, &sp);

	switch (sp.conv) {
	case 'd':
	case 'i': put_signed(st, &sp); break;
	case 'u':
	case 'o':
	case 'x':
	case 'X': put_unsigned(st, &sp); break;
	case 'p': put_pointer(st, &sp); break;
	case 'c': put_char(st, &sp); break;
	case 's': put_string(st, &sp); break;
	case '%': emit(st, "%", 1); break;
	case '\0':
		/* A specification cut off by the end of the format string. */
		emit(st, pct, (size_t)(p - pct));
		return p;
	default:
		/* Unknown conversions show up in the output, where they get noticed. */
		emit(st, pct, (size_t)(p + 1 - pct));
		break;
	}
	return p + 1;
}

int fmt_vformat(fmt_out_fn out, void *ctx, const char *fmt, va_list ap)
{
	struct fmt_state st = { .out = out, .ctx = ctx, .count = 0 };

	va_copy(st.ap, ap);
	while (*fmt) {
		const char *run = fmt;

		while (*fmt && *fmt != '%')
			fmt++;
		emit(&st, run, (size_t)(fmt - run));
		if (*fmt == '%')
			fmt = convert(&st, fmt);
	}
	va_end(st.ap);
	return st.count > INT_MAX ? INT_MAX : (int)st.count;
}

struct fmt_buf {
	char *buf;
	size_t cap;		/* room for text, excluding the final NUL */
	size_t len;
};

/* Drops what does not fit but keeps counting, for C's return value. */
static void buf_out(void *ctx, const char *s, size_t n)
{
	struct fmt_buf *b = ctx;

	for (; n && b->len < b->cap; n--)
		b->buf[b->len++] = *s++;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_buf b = { .buf = buf, .cap = size ? size - 1 : 0, .len = 0 };
	int n = fmt_vformat(buf_out, &b, fmt, ap);

	if (size)
		buf[b.len] = '\0';
	return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
