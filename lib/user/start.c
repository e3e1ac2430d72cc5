// SPDX-License-Identifier: MIT
/*
 * From _start to main, and from main, exit, abort or a failed assert to
 * sys_exit.  The kernel passes the whole command line as one string; it is
 * copied before splitting so argv never aliases what the kernel gave.
 */
#include <assert.h>
#include <ferry/sys.h>
#include <proc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv);
noreturn void ferry_start(const char *args, long pid);

static char args_copy[SPAWN_ARGS_MAX];
static char *args_argv[ARGS_MAX + 1];
static long self_pid;

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int args_split(char *s, char **argv, int max)
{
	int argc = 0;

	while (argc < max) {
		while (is_blank(*s))
			s++;
		if (!*s)
			break;
		argv[argc++] = s;
		while (*s && !is_blank(*s))
			s++;
		if (*s)
			*s++ = '\0';
	}
	argv[argc] = NULL;
	return argc;
}

noreturn void ferry_start(const char *args, long pid)
{
	int argc;

	self_pid = pid;
	strlcpy(args_copy, args ? args : "", sizeof(args_copy));
	argc = args_split(args_copy, args_argv, ARGS_MAX);
	exit(main(argc, args_argv));
}

long proc_pid(void)
{
	return self_pid;
}

noreturn void exit(int code)
{
	stdout_flush();
	/* sys_exit does not return; if it ever did, there is nothing else to do. */
	for (;;)
		sys_exit(code);
}

noreturn void abort(void)
{
	exit(EXIT_ABORT);
}

noreturn void assert_fail(const char *expr, const char *file, int line, const char *func)
{
	printf("assertion failed: %s (%s:%d, %s)\n", expr, file, line, func);
	abort();
}
