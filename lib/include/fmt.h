/* SPDX-License-Identifier: MIT */
/*
 * A printf engine without floating point, shared by the kernel and user
 * programs.  Conversions: d i u x X o c s p %, with flags "-0+ #", width and
 * precision (also as '*') and the length modifiers hh h l ll z j t.
 * %p prints "0x" and lowercase hex without padding; a NULL %s prints
 * "(null)"; an unknown conversion is copied to the output as written.
 * There are no wide characters: 'l' on %c and %s is ignored, and %n is not
 * supported.
 */
#ifndef FERRY_LIB_FMT_H
#define FERRY_LIB_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Receives the output in runs; s is not NUL-terminated. */
typedef void (*fmt_out_fn)(void *ctx, const char *s, size_t n);

/* Returns the number of characters handed to out. */
int fmt_vformat(fmt_out_fn out, void *ctx, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
