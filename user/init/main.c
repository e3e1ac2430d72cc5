// SPDX-License-Identifier: MIT
/*
 * init: the first process.  It starts the servers in `servers` (in order,
 * skipping any that is not among the boot modules), then the shell, and
 * then does nothing but reap: every child's end is reported on the
 * console, and the shell is started again whenever it exits.
 */
#include <ferry/sys.h>
#include <proc.h>
#include <stdio.h>

#define CHILDREN_MAX	16
/* A shell that dies faster than this is probably crashing at start-up. */
#define SHELL_MIN_LIFE_NS	SEC_NS

struct server {
	const char *name;
	const char *args;	/* NULL: the module's own command line */
};

/* Started in this order before the shell; ends at the entry without a name. */
static const struct server servers[] = {
	/* With the disk stack: ata before swapd, fs after it. */
	{ .name = "ata" },
	{ .name = "swapd" },
	{ .name = "fs" },
	{ .name = NULL },
};

/* What init started, so that exits can be reported by name. */
static struct child {
	long pid;
	const char *name;
} children[CHILDREN_MAX];

static long spawn_child(const char *name, const char *args)
{
	long pid = sys_spawn(name, args);
	int i;

	if (pid == ERR_NOENT)
		printf("init: %s is not a boot module, skipped\n", name);
	else if (pid < 0)
		printf("init: cannot start %s: %s\n", name, err_str(pid));
	for (i = 0; pid > 0 && i < CHILDREN_MAX; i++) {
		if (children[i].pid == 0) {
			children[i] = (struct child){ .pid = pid, .name = name };
			break;
		}
	}
	return pid;
}

/* Forgets pid and returns its name. */
static const char *child_reaped(long pid)
{
	int i;

	for (i = 0; i < CHILDREN_MAX; i++) {
		if (children[i].pid == pid) {
			children[i].pid = 0;
			return children[i].name;
		}
	}
	return "orphan";
}

static void start_servers(void)
{
	const struct server *s;

	for (s = servers; s->name; s++)
		spawn_child(s->name, s->args);
}

int main(int argc, char **argv)
{
	long sh_pid, sh_start, pid, status;
	char buf[24];

	(void)argc;
	(void)argv;
	printf("init: starting\n");
	start_servers();
	sh_start = sys_clock_ns();
	sh_pid = spawn_child("sh", NULL);
	for (;;) {
		pid = sys_wait(0, &status, -1);
		if (pid < 0) {
			/* No children at all: nothing will ever happen again. */
			printf("init: wait: %s; nothing left to run\n", err_str(pid));
			sys_shutdown(1);
			return 1;
		}
		printf("init: %s (pid %ld) exited with status %s\n", child_reaped(pid), pid,
		       proc_status_str(status, buf, sizeof(buf)));
		if (pid != sh_pid)
			continue;
		if (sys_clock_ns() - sh_start < SHELL_MIN_LIFE_NS)
			sys_sleep(SHELL_MIN_LIFE_NS);
		sh_start = sys_clock_ns();
		sh_pid = spawn_child("sh", NULL);
	}
}
