// SPDX-License-Identifier: MIT
/*
 * Running programs.  A word that is no built-in names a boot module (the
 * system's own: utest, blktest, ...) or else a program file, found the way
 * a Unix shell finds one: a name with a '/' is a path, any other is looked
 * for in each directory of the search path (`path`, "/bin" at start).  A
 * program from a file runs from the disk, paged in as it is touched
 * (file_spawn, docs/PROGRAMS.md).
 *
 * The shell waits for the program, unless the line ends with `&`: then
 * it says the pid and goes on, and reports the end before a later prompt.
 */
#include <ferry/sys.h>
#include <file.h>
#include <proc.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sh.h"

#define PATH_LIST_MAX	128

static char search_path[PATH_LIST_MAX] = "/bin";

void cmd_path(int argc, char **argv)
{
	if (argc > 2) {
		printf("usage: path [DIR:DIR...]\n");
		return;
	}
	if (argc == 2 && strlcpy(search_path, argv[1], sizeof(search_path)) >= sizeof(search_path)) {
		printf("sh: path: longer than %d bytes\n", PATH_LIST_MAX - 1);
		strlcpy(search_path, "/bin", sizeof(search_path));
	}
	printf("%s\n", search_path);
}

/* name in each directory of the search path; => pid, or the last error. */
static long spawn_searched(const char *name, const char *line)
{
	char path[FS_PATH_MAX + 1], dir[PATH_LIST_MAX];
	const char *p = search_path;
	long pid = ERR_NOENT;

	while (*p && pid == ERR_NOENT) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);

		snprintf(dir, sizeof(dir), "%.*s", (int)n, p);
		p += n + (colon != NULL);
		if (!dir[0])
			continue;
		snprintf(path, sizeof(path), "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
			 name);
		pid = file_spawn(path, line);
		if (pid == ERR_INVAL)
			pid = ERR_NOENT;	/* a directory of that name: look on */
	}
	return pid;
}

static long spawn(const char *name, const char *line)
{
	long pid;

	if (strchr(name, '/'))
		return file_spawn(name, line);
	pid = sys_spawn(name, line);
	return pid == ERR_NOENT ? spawn_searched(name, line) : pid;
}

static const char *last_part(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

void sh_run(const char *name, const char *line, bool background)
{
	long pid, status, ret;
	char buf[24];

	pid = spawn(name, line);
	if (pid == ERR_NOENT) {
		printf("sh: %s: no such program\n", name);
		return;
	}
	if (pid < 0) {
		printf("sh: %s: %s%s\n", name, err_str(pid),
		       pid == ERR_NOEXEC ? " (the kernel log says why)" : "");
		return;
	}
	if (background) {
		printf("[%s: pid %ld]\n", last_part(name), pid);
		return;
	}
	ret = sys_wait(pid, &status, -1);
	if (ret < 0)
		printf("sh: wait for %s: %s\n", name, err_str(ret));
	else
		printf("[%s exited with status %s]\n", last_part(name),
		       proc_status_str(status, buf, sizeof(buf)));
}

void sh_reap_background(void)
{
	long pid, status;
	char buf[24];

	while ((pid = sys_wait(0, &status, 0)) > 0)
		printf("[pid %ld exited with status %s]\n", pid,
		       proc_status_str(status, buf, sizeof(buf)));
}
