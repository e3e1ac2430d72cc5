// SPDX-License-Identifier: MIT
/*
 * stdout: formatted output collects in a buffer and goes to the kernel at
 * the end of any call that completed a line.  Flushing per call rather
 * than per newline keeps a multi-line printf in one console write.
 */
#include <ferry/sys.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define STDOUT_SIZE	1024
_Static_assert(STDOUT_SIZE <= CONSOLE_IO_MAX, "one flush is one console write");

static struct {
	char buf[STDOUT_SIZE];
	size_t len;
	bool line_done;		/* a newline went in since the last flush */
} out;

void stdout_flush(void)
{
	size_t done = 0;

	while (done < out.len) {
		long n = sys_console_write(out.buf + done, (long)(out.len - done));

		/* 0 or an error: nothing better to do with the bytes than drop them. */
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	out.len = 0;
	out.line_done = false;
}

static void stdout_put(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	while (n > 0) {
		size_t room = sizeof(out.buf) - out.len;
		size_t k = n < room ? n : room;

		memcpy(out.buf + out.len, s, k);
		if (memchr(s, '\n', k))
			out.line_done = true;
		out.len += k;
		s += k;
		n -= k;
		if (out.len == sizeof(out.buf))
			stdout_flush();
	}
}

static void stdout_end_call(void)
{
	if (out.line_done)
		stdout_flush();
}

int vprintf(const char *fmt, va_list ap)
{
	int n = fmt_vformat(stdout_put, NULL, fmt, ap);

	stdout_end_call();
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int puts(const char *s)
{
	stdout_put(NULL, s, strlen(s));
	stdout_put(NULL, "\n", 1);
	stdout_end_call();
	return 0;
}

int putchar(int c)
{
	char ch = (char)c;

	stdout_put(NULL, &ch, 1);
	stdout_end_call();
	return (unsigned char)c;
}
