// SPDX-License-Identifier: MIT
/*
 * utest's runner, its case dispatch and the helpers cases share.
 *
 * The runner brackets the whole suite with a leak check: free frames, live
 * ports and live processes must be the same after every case has run and
 * been reaped as before the first one.
 */
#include <ferry/sys.h>
#include <fmt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utest.h"

#define CASE_TIMEOUT_NS		(20 * SEC_NS)
#define REAP_TIMEOUT_NS		(10 * SEC_NS)
#define SETTLE_NS		(2 * SEC_NS)
#define SETTLE_STEP_NS		(20 * MSEC_NS)

extern const struct utest __start_utest_cases[], __stop_utest_cases[];

#define for_each_utest(t) for (t = __start_utest_cases; t < __stop_utest_cases; t++)

noreturn void utest_fail(const char *file, int line, const char *expr)
{
	printf("utest: %s:%d: CHECK(%s) failed\n", file, line, expr);
	exit(1);
}

noreturn void utest_fail_eq(const char *file, int line, const char *a, const char *b,
			    long got, long want)
{
	printf("utest: %s:%d: CHECK_EQ(%s, %s) failed: got %ld%s%s%s, want %ld%s%s%s\n",
	       file, line, a, b,
	       got, got < 0 ? " (" : "", got < 0 ? err_str(got) : "", got < 0 ? ")" : "",
	       want, want < 0 ? " (" : "", want < 0 ? err_str(want) : "", want < 0 ? ")" : "");
	exit(1);
}

long utest_check_ok(const char *file, int line, const char *expr, long ret)
{
	if (ret < 0) {
		printf("utest: %s:%d: %s failed: %ld (%s)\n", file, line, expr, ret, err_str(ret));
		exit(1);
	}
	return ret;
}

long utest_spawn(const char *helper, const char *fmt, ...)
{
	char args[SPAWN_ARGS_MAX];
	int n;
	va_list ap;

	n = snprintf(args, sizeof(args), "utest %s ", helper);
	va_start(ap, fmt);
	vsnprintf(args + n, sizeof(args) - (size_t)n, fmt, ap);
	va_end(ap);
	return CHECK_OK(sys_spawn("utest", args));
}

void utest_reap(long pid, long want_status)
{
	long status = 0;

	CHECK_EQ(sys_wait(pid, &status, REAP_TIMEOUT_NS), pid);
	CHECK_EQ(status, want_status);
}

long utest_arg(int argc, char **argv, int i)
{
	uint64_t v;

	CHECK(i < argc);
	CHECK(str_to_u64(argv[i], 10, &v, NULL) == 0);
	return (long)v;
}

void utest_port_name(char name[PORT_NAME_MAX], const char *tag, long pid)
{
	snprintf(name, PORT_NAME_MAX, "utest.%s.%ld", tag, pid);
}

static uint8_t pattern_byte(uint32_t seed, uint32_t i)
{
	return (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

void utest_fill(void *page, uint32_t seed)
{
	uint8_t *p = page;
	uint32_t i;

	for (i = 0; i < MSG_PAGE_SIZE; i++)
		p[i] = pattern_byte(seed, i);
}

bool utest_filled(const void *page, uint32_t seed)
{
	const uint8_t *p = page;
	uint32_t i;

	for (i = 0; i < MSG_PAGE_SIZE; i++) {
		if (p[i] != pattern_byte(seed, i))
			return false;
	}
	return true;
}

static bool run_case(const struct utest *t)
{
	char args[SPAWN_ARGS_MAX], buf[24];
	long status = 0, ret;
	bool ok;

	snprintf(args, sizeof(args), "utest %s", t->name);
	ret = proc_run("utest", args, CASE_TIMEOUT_NS, &status);
	ok = ret == 0 && status == 0;
	printf("test user/%s: %s\n", t->name, ok ? "OK" : "FAILED");
	if (ret == ERR_TIMEOUT)
		printf("  still running after %ld s: killed\n", CASE_TIMEOUT_NS / SEC_NS);
	else if (ret < 0)
		printf("  %s\n", err_str(ret));
	else if (status != 0)
		printf("  exit status %s\n", proc_status_str(status, buf, sizeof(buf)));
	return ok;
}

static bool stats_same(const struct sys_stats *a, const struct sys_stats *b)
{
	return a->frames_free == b->frames_free && a->ports_live == b->ports_live &&
	       a->procs_live == b->procs_live;
}

/*
 * frames_free moves by itself while the kernel's idle thread refills its
 * pool of zeroed frames, and process teardown may finish just after wait
 * returns: a reading counts once it has held still for a moment.
 */
static void stats_settled(struct sys_stats *st)
{
	struct sys_stats prev;
	long start = sys_clock_ns();

	CHECK_OK(sys_stats(st));
	do {
		prev = *st;
		sys_sleep(SETTLE_STEP_NS);
		CHECK_OK(sys_stats(st));
	} while (!stats_same(&prev, st) && sys_clock_ns() - start < SETTLE_NS);
}

static bool leak_check(const struct sys_stats *before)
{
	struct sys_stats after;
	bool ok;

	stats_settled(&after);
	ok = stats_same(before, &after);
	printf("test user/leak_check: %s\n", ok ? "OK" : "FAILED");
	if (!ok) {
		printf("  before: frames_free %llu ports_live %llu procs_live %llu\n",
		       (unsigned long long)before->frames_free,
		       (unsigned long long)before->ports_live,
		       (unsigned long long)before->procs_live);
		printf("  after:  frames_free %llu ports_live %llu procs_live %llu\n",
		       (unsigned long long)after.frames_free,
		       (unsigned long long)after.ports_live,
		       (unsigned long long)after.procs_live);
	}
	return ok;
}

/* As init=utest the verdict ends the machine; from the shell it does not. */
static bool started_by_kernel(void)
{
	struct proc_info self;

	return proc_find(proc_pid(), &self) == 0 && self.parent == 0;
}

static int run_all(void)
{
	const struct utest *t;
	struct sys_stats before;
	long ret;
	int cases = 0, failures = 0;

	for_each_utest(t)
		cases += !t->helper;
	printf("utest: %d cases\n", cases);
	stats_settled(&before);
	for_each_utest(t) {
		if (!t->helper && !run_case(t))
			failures++;
	}
	if (!leak_check(&before))
		failures++;
	printf("utest: %d of %d failed\n", failures, cases + 1);
	printf("utest: done\n");
	if (started_by_kernel()) {
		stdout_flush();
		ret = sys_shutdown(failures ? 1 : 0);
		printf("utest: shutdown: %s\n", err_str(ret));
	}
	return failures ? 1 : 0;
}

static const struct utest *find_case(const char *name)
{
	const struct utest *t;

	for_each_utest(t) {
		if (!strcmp(t->name, name))
			return t;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const struct utest *t;

	if (argc < 2 || !strcmp(argv[1], "all"))
		return run_all();
	t = find_case(argv[1]);
	if (!t) {
		printf("utest: no case %s; cases:", argv[1]);
		for_each_utest(t) {
			if (!t->helper)
				printf(" %s", t->name);
		}
		printf("\n");
		return 2;
	}
	return t->run(argc, argv);
}
