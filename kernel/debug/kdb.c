// SPDX-License-Identifier: MIT
#include "kdb.h"

#include <fmt.h>
#include <string.h>

#include "../arch/arch.h"
#include "../clock.h"
#include "../cmdline.h"
#include "../console.h"
#include "../log.h"
#include "../panic.h"
#include "../smp.h"
#include "../trace.h"
#include "kdb_cmd.h"

#define LINE_MAX	128
#define HISTORY		8
#define MAX_ARGS	8

bool kdb_break_on_grant;
uint64_t kdb_step_grant;

static int depth;
static bool from_panic;
static char history[HISTORY][LINE_MAX];
static unsigned history_count;

static bool cmd_help(int argc, char **argv);
static bool cmd_continue(int argc, char **argv);
static bool cmd_reboot(int argc, char **argv);
static bool cmd_poweroff(int argc, char **argv);
static bool cmd_check(int argc, char **argv);

static const struct kdb_cmd core_cmds[] = {
	{ "help", "", "list commands", cmd_help },
	{ "continue", "", "leave the console; the world runs on (also: c)", cmd_continue },
	{ "c", "", NULL, cmd_continue },
	{ "check", "", "consistency check of grants, frames and page tables", cmd_check },
	{ "reboot", "", "reset the machine", cmd_reboot },
	{ "poweroff", "", "power the machine off", cmd_poweroff },
	{ NULL, NULL, NULL, NULL },
};

static const struct kdb_cmd *const groups[] = { core_cmds, kdb_proc_cmds, kdb_grant_cmds,
						kdb_mem_cmds, kdb_machine_cmds };

bool kdb_number(const char *s, uint64_t *out)
{
	const char *end;

	return str_to_u64(s, 0, out, &end) == 0 && *end == '\0';
}

static const struct kdb_cmd *find(const char *name)
{
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		for (const struct kdb_cmd *c = groups[g]; c->name; c++)
			if (strcmp(c->name, name) == 0)
				return c;
	return NULL;
}

static bool cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		for (const struct kdb_cmd *c = groups[g]; c->name; c++)
			if (c->help)
				kdb_printf("%-10s %-16s %s\n", c->name, c->args, c->help);
	return true;
}

static bool cmd_continue(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (from_panic) {
		kdb_printf("cannot continue after a panic\n");
		return true;
	}
	kdb_step_grant = 0;
	return false;
}

static bool cmd_reboot(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	arch_reboot();
}

static bool cmd_poweroff(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	arch_power_off();
}

static bool cmd_check(int argc, char **argv)
{
	int bad;

	(void)argc;
	(void)argv;
	bad = kdb_check();
	if (bad)
		kdb_printf("check: %d violation%s\n", bad, bad == 1 ? "" : "s");
	else
		kdb_printf("check: OK\n");
	return true;
}

static int split(char *line, char **argv)
{
	int argc = 0;

	for (char *p = line; *p && argc < MAX_ARGS;) {
		while (*p == ' ')
			*p++ = '\0';
		if (!*p)
			break;
		argv[argc++] = p;
		while (*p && *p != ' ')
			p++;
	}
	return argc;
}

/* => false when the command leaves the console. */
static bool run(char *line)
{
	char *argv[MAX_ARGS];
	int argc = split(line, argv);
	const struct kdb_cmd *c;
	bool stay;

	if (argc == 0)
		return true;
	c = find(argv[0]);
	kdb_printf("[kdb begin %s]\n", argv[0]);
	if (c)
		stay = c->fn(argc, argv);
	else
		stay = (kdb_printf("unknown command '%s' (try help)\n", argv[0]), true);
	kdb_printf("[kdb end %s]\n", argv[0]);
	return stay;
}

void kdb_run_line(const char *text)
{
	char line[LINE_MAX];

	strlcpy(line, text, sizeof(line));
	run(line);
}

static int getc_wait(void)
{
	int c;

	while ((c = arch_serial_getc()) < 0)
		;
	return c;
}

static void remember(const char *line)
{
	if (line[0])
		strlcpy(history[history_count++ % HISTORY], line, LINE_MAX);
}

static void show_line(const char *line, size_t old_len)
{
	kdb_printf("\r\033[Kkdb> %s", line);
	(void)old_len;
}

/* Reads a line with backspace, Ctrl-U and up/down history. */
static void read_line(char *line)
{
	size_t n = 0;
	unsigned back = 0;

	line[0] = '\0';
	kdb_printf("kdb> ");
	for (;;) {
		int c = getc_wait();

		if (c == '\r' || c == '\n') {
			kdb_printf("\n");
			remember(line);
			return;
		}
		if ((c == 0x7f || c == 0x08) && n) {
			line[--n] = '\0';
			kdb_printf("\b \b");
		} else if (c == 0x15) {		/* Ctrl-U */
			n = 0;
			line[0] = '\0';
			show_line(line, 0);
		} else if (c == 0x1b && getc_wait() == '[') {
			c = getc_wait();
			if (c == 'A' && back < history_count && back < HISTORY)
				back++;
			else if (c == 'B' && back > 0)
				back--;
			else
				continue;
			if (back)
				strlcpy(line, history[(history_count - back) % HISTORY], LINE_MAX);
			else
				line[0] = '\0';
			n = strlen(line);
			show_line(line, 0);
		} else if (c >= 0x20 && c < 0x7f && n < LINE_MAX - 1) {
			line[n++] = (char)c;
			line[n] = '\0';
			kdb_printf("%c", c);
		}
	}
}

/* Every other CPU parks first: the world is stopped, not just this CPU. */
void kdb_enter(const char *why)
{
	unsigned long irq = arch_irq_save();
	char line[LINE_MAX];
	uint64_t missing;

	if (depth++) {
		depth--;
		arch_irq_restore(irq);
		return;	/* already inside: a break key typed at the prompt */
	}
	missing = smp_stop_others();
	clock_world_stopped();
	kdb_printf("\n[kdb] world stopped: %s.  'help' lists commands, 'continue' resumes.\n",
		   why);
	for (unsigned i = 0; i < cpu_count; i++)
		if (missing & cpu_bit(i))
			kdb_printf("[kdb] cpu %u did not stop: what it shows may move\n", i);
	do
		read_line(line);
	while (run(line));
	kdb_printf("[kdb] continuing\n");
	clock_world_resumed();
	console_reprint();	/* the shell's prompt is somewhere above */
	smp_resume_others();
	depth--;
	arch_irq_restore(irq);
}

_Noreturn void kdb_enter_panic(void)
{
	from_panic = true;
	kdb_break_on_grant = false;
	kdb_step_grant = 0;
	kdb_enter("kernel panic (inspect, then reboot or poweroff)");
	arch_halt_forever();
}

void kdb_run_boot_commands(void)
{
	const char *cmds = cmdline_get("console");
	char line[LINE_MAX];
	size_t n = 0;

	if (!cmds)
		return;
	for (const char *p = cmds;; p++) {
		if (*p == ';' || *p == '\0') {
			line[n] = '\0';
			if (n)
				run(line);
			n = 0;
			if (!*p)
				break;
		} else if (n < LINE_MAX - 1) {
			line[n++] = *p == ',' ? ' ' : *p;
		}
	}
}

/* A grant phase: stop if `break grant` or `step` asked for it. */
static void observe(const struct trace_event *ev)
{
	char why[64];

	if (ev->kind != TRACE_GRANT_LENT && ev->kind != TRACE_GRANT_FILLED &&
	    ev->kind != TRACE_GRANT_TAKEN_BACK && ev->kind != TRACE_GRANT_MAPPED)
		return;
	if (ev->kind == TRACE_GRANT_LENT && kdb_break_on_grant) {
		kdb_break_on_grant = false;
		kdb_step_grant = ev->grant;
	} else if (kdb_step_grant != ev->grant) {
		return;
	}
	if (ev->kind == TRACE_GRANT_MAPPED)
		kdb_step_grant = 0;	/* the last phase: stepping ends here */
	snprintf(why, sizeof(why), "grant %#lx %s", (unsigned long)ev->grant,
		 trace_kind_name(ev->kind));
	kdb_enter(why);
}

void kdb_init(void)
{
	if (trace_subscribe(observe))
		panic("kdb_init: no room for another trace observer");
}
