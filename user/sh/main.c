// SPDX-License-Identifier: MIT
/*
 * sh: the serial shell.  Each line is split into words; a first word found
 * in `commands` runs built in, any other word names a program, a boot
 * module or a file (run.c), that is spawned with the line as its
 * arguments and waited for (not with a last word `&`).  New built-ins are
 * one handler and one table entry.
 */
#include <ferry/sys.h>
#include <proc.h>
#include <readline.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sh.h"

#define SH_PROMPT	"ferry> "
#define PS_MAX		64

struct sh_cmd {
	const char *name;
	const char *usage;	/* name and arguments, for help */
	const char *help;	/* one line */
	void (*run)(int argc, char **argv);
};

static const struct sh_cmd commands[];

static void cmd_help(int argc, char **argv)
{
	const struct sh_cmd *c;

	(void)argc;
	(void)argv;
	for (c = commands; c->name; c++)
		printf("  %-10s %s\n", c->usage, c->help);
	printf("  %-10s %s\n", "PROGRAM [&]", "run a boot module (utest) or a program file"
	       " (/bin/hello, or hello: the search path); & does not wait");
}

static void cmd_echo(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		printf("%s%s", argv[i], i + 1 < argc ? " " : "");
	printf("\n");
}

static int num_width(int64_t v)
{
	char buf[24];

	return snprintf(buf, sizeof(buf), "%lld", (long long)v);
}

/* What a blocked process waits for, in words; "-" when it is not blocked. */
static const char *waits_on(const struct proc_info *p, char *buf, size_t size)
{
	unsigned long obj = p->wait_object;

	switch (p->state) {
	case THREAD_BLOCKED_RECV:
		snprintf(buf, size, "port %lu", obj);
		return buf;
	case THREAD_BLOCKED_CALL:
		snprintf(buf, size, "reply %lu", obj);
		return buf;
	case THREAD_BLOCKED_PAGER:
		snprintf(buf, size, "page-in %#lx", obj);
		return buf;
	case THREAD_BLOCKED_WAIT:
		if (obj == 0)
			return "any child";
		snprintf(buf, size, "pid %lu", obj);
		return buf;
	case THREAD_BLOCKED_CONSOLE:
		return "console";
	case THREAD_BLOCKED_SLEEP:
		return "timer";
	default:
		return "-";
	}
}

/* The pid columns are as wide as the widest pid: handles can be large. */
static void cmd_ps(int argc, char **argv)
{
	static struct proc_info rows[PS_MAX];
	int n = 0, i, pid_w = 3, ppid_w = 4;
	long ret = 0;
	char wait[32];

	(void)argc;
	(void)argv;
	while (n < PS_MAX && (ret = sys_proc_info(n, &rows[n])) == 0)
		n++;
	if (ret < 0 && ret != ERR_NOENT)
		printf("sh: ps: %s\n", err_str(ret));
	for (i = 0; i < n; i++) {
		if (num_width(rows[i].pid) > pid_w)
			pid_w = num_width(rows[i].pid);
		if (num_width(rows[i].parent) > ppid_w)
			ppid_w = num_width(rows[i].parent);
	}
	printf("%*s %*s %-15s %-8s %4s %7s %-14s %s\n", pid_w, "PID", ppid_w, "PPID", "NAME",
	       "STATE", "PRIO", "THREADS", "FROM", "WAITS-ON");
	for (i = 0; i < n; i++) {
		const struct proc_info *p = &rows[i];

		printf("%*lld %*lld %-15.*s %-8s %4u %7u %-14s %s\n", pid_w, (long long)p->pid,
		       ppid_w, (long long)p->parent, PROC_NAME_MAX, p->name,
		       proc_state_str(p->state), p->priority, p->nthreads,
		       p->image[0] ? p->image : "boot", waits_on(p, wait, sizeof(wait)));
	}
}

static void cmd_kill(int argc, char **argv)
{
	uint64_t pid;
	long ret;

	if (argc != 2 || str_to_u64(argv[1], 0, &pid, NULL) < 0) {
		printf("usage: kill PID\n");
		return;
	}
	ret = sys_kill((long)pid);
	if (ret < 0)
		printf("sh: kill %s: %s\n", argv[1], err_str(ret));
}

static const char *mem_kind(uint32_t kind)
{
	static const char *const names[] = {
		[MEM_KIND_ANON] = "anon", [MEM_KIND_STACK] = "stack", [MEM_KIND_IMAGE] = "image",
		[MEM_KIND_FILE] = "file", [MEM_KIND_PROGRAM] = "program", [MEM_KIND_DMA] = "dma",
		[MEM_KIND_GRANT] = "grant",
	};

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

/* mem PID: each mapping, its pages shared with its memory object and its own. */
static void mem_of(long pid)
{
	struct mem_region_info m;
	struct proc_info p;
	long i, ret;

	if (proc_find(pid, &p) < 0) {
		printf("sh: mem: no process %ld\n", pid);
		return;
	}
	printf("pid %ld (%s, %s): %llu pages resident\n", pid, p.name,
	       p.image[0] ? p.image : "boot module", (unsigned long long)p.resident_pages);
	printf("%-14s %-14s %-4s %-8s %5s %6s %6s %5s %4s  %s\n", "START", "END", "PROT", "KIND",
	       "RES", "SHARED", "OTHERS", "PRIV", "SWAP", "OBJECT");
	for (i = 0; (ret = sys_mem_info(pid, i, &m)) == 0; i++) {
		printf("%#014llx %#014llx %c%c%c%c %-8s %5u %6u %6u %5u %4u",
		       (unsigned long long)m.start, (unsigned long long)m.end,
		       m.prot & PROT_READ ? 'r' : '-', m.prot & PROT_WRITE ? 'w' : '-',
		       m.prot & PROT_EXEC ? 'x' : '-',
		       (m.flags & MEM_F_PRIVATE) ? 'p' : m.memobj ? 's' : '-', mem_kind(m.kind),
		       m.resident, m.shared, m.shared_others, m.private_pages, m.swapped);
		if (m.memobj)
			printf("  %#llx: %u mappings, %u pages", (unsigned long long)m.memobj,
			       m.obj_mappings, m.obj_pages);
		printf("\n");
	}
	if (ret != ERR_NOENT)
		printf("sh: mem: %s\n", err_str(ret));
}

static void cmd_mem(int argc, char **argv)
{
	struct sys_stats st;
	struct memobj_stats ms;
	uint64_t pid;
	long ret;

	if (argc > 1) {
		if (argc > 2 || str_to_u64(argv[1], 0, &pid, NULL) < 0)
			printf("usage: mem [PID]\n");
		else
			mem_of((long)pid);
		return;
	}
	ret = sys_stats(&st);
	if (ret < 0) {
		printf("sh: mem: %s\n", err_str(ret));
		return;
	}
	printf("frames: %llu free of %llu (%llu KiB free)\n",
	       (unsigned long long)st.frames_free, (unsigned long long)st.frames_total,
	       (unsigned long long)st.frames_free * 4);
	printf("live: %llu processes, %llu threads, %llu ports\n",
	       (unsigned long long)st.procs_live, (unsigned long long)st.threads_live,
	       (unsigned long long)st.ports_live);
	printf("kernel heap: %llu bytes; %llu syscalls, %llu context switches\n",
	       (unsigned long long)st.heap_bytes, (unsigned long long)st.syscalls,
	       (unsigned long long)st.context_switches);
	if (sys_vm_ctl(VM_CTL_MEMOBJ_STATS, 0, &ms) == 0)
		printf("memory objects: %llu, caching %llu pages; %llu faults served from them,"
		       " %llu copies on write, %llu dropped, %llu written back\n",
		       (unsigned long long)ms.live, (unsigned long long)ms.pages,
		       (unsigned long long)ms.hits, (unsigned long long)ms.cows,
		       (unsigned long long)ms.drops, (unsigned long long)ms.writebacks);
}

static void cmd_exit(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	exit(0);
}

static void cmd_poweroff(int argc, char **argv)
{
	long ret;

	(void)argc;
	(void)argv;
	stdout_flush();
	ret = sys_shutdown(0);
	printf("sh: poweroff: %s\n", err_str(ret));
}

static const struct sh_cmd commands[] = {
	{ .name = "help", .usage = "help", .help = "list the commands", .run = cmd_help },
	{ .name = "echo", .usage = "echo ARGS", .help = "print the arguments", .run = cmd_echo },
	{ .name = "ps", .usage = "ps", .help = "list processes", .run = cmd_ps },
	{ .name = "kill", .usage = "kill PID", .help = "end a process", .run = cmd_kill },
	{ .name = "mem", .usage = "mem [PID]",
	  .help = "memory and kernel counters; a process's mappings, shared and private pages",
	  .run = cmd_mem },
	{ .name = "ls", .usage = "ls [PATH]", .help = "list a directory", .run = cmd_ls },
	{ .name = "cat", .usage = "cat FILE", .help = "print a file", .run = cmd_cat },
	{ .name = "write", .usage = "write FILE TEXT", .help = "make FILE hold TEXT and a newline",
	  .run = cmd_write },
	{ .name = "append", .usage = "append FILE TEXT", .help = "add TEXT and a newline to FILE",
	  .run = cmd_write },
	{ .name = "mmwrite", .usage = "mmwrite [-p|-u|-x] FILE OFF TEXT",
	  .help = "TEXT at OFF through a mapping: shared + msync, -p private, -u munmap,"
		  " -x exit", .run = cmd_mmwrite },
	{ .name = "mkdir", .usage = "mkdir DIR...", .help = "make directories", .run = cmd_mkdir },
	{ .name = "rm", .usage = "rm PATH...", .help = "remove files or empty directories",
	  .run = cmd_rm },
	{ .name = "mv", .usage = "mv FROM TO", .help = "rename or move", .run = cmd_mv },
	{ .name = "sum", .usage = "sum FILE [MODE]",
	  .help = "CRC-32 by read and by mmap (MODE: copy, grant, dma)", .run = cmd_sum },
	{ .name = "peek", .usage = "peek FILE OFF",
	  .help = "a byte through a mapping (past the end: the shell dies)", .run = cmd_peek },
	{ .name = "mode", .usage = "mode [MODE]", .help = "show or set the fault path",
	  .run = cmd_mode },
	{ .name = "df", .usage = "df", .help = "free space on the file system", .run = cmd_df },
	{ .name = "path", .usage = "path [DIRS]",
	  .help = "show or set where programs are looked for (DIR:DIR...)", .run = cmd_path },
	{ .name = "exit", .usage = "exit", .help = "leave the shell (init starts a new one)",
	  .run = cmd_exit },
	{ .name = "poweroff", .usage = "poweroff", .help = "shut the machine down",
	  .run = cmd_poweroff },
	{ .name = NULL },
};

static void sh_execute(const char *line)
{
	char words[SPAWN_ARGS_MAX], args[SPAWN_ARGS_MAX];
	char *argv[ARGS_MAX + 1];
	const struct sh_cmd *c;
	bool background;
	int argc;

	strlcpy(words, line, sizeof(words));
	argc = args_split(words, argv, ARGS_MAX);
	if (argc == 0)
		return;
	for (c = commands; c->name; c++) {
		if (!strcmp(c->name, argv[0])) {
			c->run(argc, argv);
			return;
		}
	}
	while (*line == ' ' || *line == '\t')
		line++;
	strlcpy(args, line, sizeof(args));
	background = argc > 1 && !strcmp(argv[argc - 1], "&");
	if (background)	/* the program's arguments end before the & */
		*strrchr(args, '&') = '\0';
	sh_run(argv[0], args, background);
}

int main(int argc, char **argv)
{
	char line[SPAWN_ARGS_MAX];
	long n;

	(void)argc;
	(void)argv;
	for (;;) {
		sh_reap_background();
		n = readline(SH_PROMPT, line, sizeof(line));
		if (n < 0) {
			printf("sh: console: %s\n", err_str(n));
			return 1;
		}
		sh_execute(line);
	}
}
