/* SPDX-License-Identifier: MIT */
/*
 * Console output for user programs.  stdout is a small buffer in front of
 * sys_console_write: a call that ends a line (or fills the buffer) hands
 * what it holds to the kernel in one write, and the kernel writes each call
 * atomically, so lines from different processes never interleave mid-line.
 * The buffer is not locked: only one thread of a process may print.
 */
#ifndef FERRY_STDIO_H
#define FERRY_STDIO_H

#include <fmt.h>	/* snprintf, vsnprintf */
#include <stdarg.h>

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Writes s and a newline. */
int puts(const char *s);
int putchar(int c);
/* Hands buffered output to the console now: for prompts and echo. */
void stdout_flush(void);

#endif
