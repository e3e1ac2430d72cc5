// SPDX-License-Identifier: MIT
/*
 * init: the first process, and the restart service (MINIX 3's
 * reincarnation server is the model).  It starts the services in
 * `services` (in order, skipping any that is not among the boot modules),
 * then the shell, and then only reaps and restarts:
 *
 *   - every child's end is reported on the console with its status;
 *   - a service that ends (exit, fault, kill) is started again with the
 *     same arguments, except one that exits with an error status within
 *     STARTUP_NS of starting: it refused its configuration (a disk without
 *     swap, say) and said why, and a restart would only say it again; the
 *     kernel gives a restarted service its
 *     rights again because init holds the `restart` right (iso/ferry.conf),
 *     which a copy typed at the shell never has;
 *   - restarts back off (RESTART_BACKOFF_NS, doubling, at most
 *     RESTART_BACKOFF_MAX_NS) and stop after RESTARTS_PER_MINUTE within a
 *     minute: a service that cannot stay up is given up on, with a reason;
 *   - the shell is started again whenever it exits.
 *
 * What a restart must not lose is the kernel's and the clients' business:
 * the kernel keeps a dead swap provider's pages for a restarted one of the
 * same area (kernel/mm/swap.h), and a dead fs's file mappings for a
 * restarted one of the same file system (kernel/mm/objpager.h); faults
 * wait for them.
 */
#include <ferry/sys.h>
#include <proc.h>
#include <stdbool.h>
#include <stdio.h>

#define CHILDREN_MAX		16
/* A shell that dies faster than this is probably crashing at start-up. */
#define SHELL_MIN_LIFE_NS	SEC_NS
#define RESTART_BACKOFF_NS	(SEC_NS / 10)	/* before the second restart in a row */
#define RESTART_BACKOFF_MAX_NS	(2 * SEC_NS)
#define RESTARTS_PER_MINUTE	30
#define MINUTE_NS		(60 * SEC_NS)
#define STARTUP_NS		(2 * SEC_NS)

struct service {
	const char *name;
	const char *args;	/* NULL: the module's own command line */
	bool optional;		/* usually not a boot module: no word when it is not */
	long pid;		/* 0: not running */
	long started_at;	/* clock_ns of the last start */
	long restart_at;	/* clock_ns of a pending restart, 0: none */
	int recent;		/* restarts since window_start */
	long window_start;
	int streak;		/* restarts without a quiet minute between them */
	bool given_up;
};

/* Started in this order before the shell: the disk drivers before swapd
 * (a driver that finds no device of its kind exits at once), fs after
 * it, then a swap file's provider (which asks fs for the file). */
static struct service services[] = {
	{ .name = "ata" },
	{ .name = "nvme" },
	{ .name = "swapd" },
	{ .name = "fs" },
	{ .name = "swapfile", .optional = true },
};
#define NSERVICES	(sizeof(services) / sizeof(services[0]))

/* Other children (the shell), so that exits can be reported by name. */
static struct child {
	long pid;
	const char *name;
} children[CHILDREN_MAX];

static void remember_child(long pid, const char *name)
{
	for (int i = 0; i < CHILDREN_MAX; i++) {
		if (children[i].pid == 0) {
			children[i] = (struct child){ .pid = pid, .name = name };
			return;
		}
	}
}

/* Forgets pid and returns its name. */
static const char *child_reaped(long pid)
{
	for (int i = 0; i < CHILDREN_MAX; i++) {
		if (children[i].pid == pid) {
			children[i].pid = 0;
			return children[i].name;
		}
	}
	return "orphan";
}

static long spawn_named(const char *name, const char *args, bool optional)
{
	long pid = sys_spawn(name, args);

	if (pid == ERR_NOENT && !optional)
		printf("init: %s is not a boot module, skipped\n", name);
	else if (pid < 0)
		printf("init: cannot start %s: %s\n", name, err_str(pid));
	return pid;
}

static void start_service(struct service *s)
{
	long pid = spawn_named(s->name, s->args, s->optional);

	s->restart_at = 0;
	s->started_at = sys_clock_ns();
	if (pid > 0)
		s->pid = pid;
	else if (pid != ERR_NOENT)
		s->given_up = true;	/* it could not even start: retrying will not help */
}

static struct service *service_of(long pid)
{
	for (unsigned i = 0; i < NSERVICES; i++)
		if (services[i].pid == pid)
			return &services[i];
	return NULL;
}

/* A service ended: schedule its restart, or give up on it. */
static void service_ended(struct service *s, long status)
{
	long now = sys_clock_ns();
	char buf[24];

	s->pid = 0;
	if (status > 0 && now - s->started_at < STARTUP_NS) {
		printf("init: %s failed at start-up: not restarting it\n", s->name);
		s->given_up = true;
		return;
	}
	if (now - s->window_start > MINUTE_NS) {
		s->window_start = now;
		s->recent = 0;
		s->streak = 0;
	}
	if (++s->recent > RESTARTS_PER_MINUTE) {
		printf("init: %s ended %d times within a minute: not restarting it\n", s->name,
		       s->recent);
		s->given_up = true;
		return;
	}
	s->restart_at = now + (s->streak ? RESTART_BACKOFF_NS << (s->streak - 1) : 0);
	if (s->restart_at - now > RESTART_BACKOFF_MAX_NS)
		s->restart_at = now + RESTART_BACKOFF_MAX_NS;
	s->streak++;
	printf("init: restarting %s (%s; restart %d within a minute, in %ld ms)\n", s->name,
	       proc_status_str(status, buf, sizeof(buf)), s->recent,
	       (s->restart_at - now) / (SEC_NS / 1000));
}

/* Starts the services whose time has come; => ns until the next, or -1. */
static long restart_due(void)
{
	long now = sys_clock_ns(), next = -1;

	for (unsigned i = 0; i < NSERVICES; i++) {
		struct service *s = &services[i];

		if (!s->restart_at || s->given_up)
			continue;
		if (s->restart_at <= now)
			start_service(s);
		else if (next < 0 || s->restart_at - now < next)
			next = s->restart_at - now;
	}
	return next;
}

int main(int argc, char **argv)
{
	long sh_pid, sh_start, pid, status, timeout;
	struct service *s;
	char buf[24];

	(void)argc;
	(void)argv;
	printf("init: starting\n");
	for (unsigned i = 0; i < NSERVICES; i++)
		start_service(&services[i]);
	sh_start = sys_clock_ns();
	sh_pid = spawn_named("sh", NULL, false);
	if (sh_pid > 0)
		remember_child(sh_pid, "sh");
	for (;;) {
		timeout = restart_due();
		pid = sys_wait(0, &status, timeout);
		if (pid == ERR_TIMEOUT)
			continue;
		if (pid < 0 && timeout > 0) {
			sys_sleep(timeout);	/* no child left, but a restart is due */
			continue;
		}
		if (pid < 0) {
			/* No children at all: nothing will ever happen again. */
			printf("init: wait: %s; nothing left to run\n", err_str(pid));
			sys_shutdown(1);
			return 1;
		}
		s = service_of(pid);
		printf("init: %s (pid %ld) exited with status %s\n", s ? s->name : child_reaped(pid),
		       pid, proc_status_str(status, buf, sizeof(buf)));
		if (s) {
			service_ended(s, status);
			continue;
		}
		if (pid != sh_pid)
			continue;
		if (sys_clock_ns() - sh_start < SHELL_MIN_LIFE_NS)
			sys_sleep(SHELL_MIN_LIFE_NS);
		sh_start = sys_clock_ns();
		sh_pid = spawn_named("sh", NULL, false);
		if (sh_pid > 0)
			remember_child(sh_pid, "sh");
	}
}
