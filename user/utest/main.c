// SPDX-License-Identifier: MIT
/*
 * utest's runner, its case dispatch and the helpers cases share.
 *
 * The runner brackets the whole suite with a leak check: free frames, swap
 * slots, live grants, page requests, ports and processes must be the same
 * after every case has run and been reaped as before the first one.
 */
#include <ferry/sys.h>
#include <file.h>
#include <fmt.h>
#include <ipc.h>
#include <proto/block.h>
#include <proto/swapd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utest.h"

#define CASE_TIMEOUT_NS		(20 * SEC_NS)
#define STRESS_TIMEOUT_NS	(80 * SEC_NS)
#define SWAPD_START_NS		(10 * SEC_NS)
#define REAP_TIMEOUT_NS		(10 * SEC_NS)
#define SETTLE_NS		(2 * SEC_NS)
#define SETTLE_STEP_NS		(20 * MSEC_NS)
#define KERNEL_CLUSTER		8	/* the kernel's pages per page-in at boot */

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

void utest_wait_state(long pid, uint32_t state)
{
	struct proc_info info;
	long start = sys_clock_ns();

	for (;;) {
		CHECK_OK(proc_find(pid, &info));
		if (info.state == state)
			return;
		CHECK(sys_clock_ns() - start < UTEST_WAIT_NS);
		sys_sleep(MSEC_NS);
	}
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

/* --- the runner --- */

/*
 * Which cases a run takes: names with the prefix, but none of `except`;
 * and, if they need swap and nobody provides it, which store swapd gets.
 */
enum group_store { STORE_RAM, STORE_DISK };

struct group {
	const char *name;
	const char *prefix;
	const char *except[4];
	enum group_store store;
	int cluster;		/* pages per page-in request while it runs; 0: as it is */
	/* A leak check around every case, not only the whole group. */
	bool leak_each;
};

static const struct group groups[] = {
	/* The disk-fault cases want blkdebug rules on the swap partition. */
	{ .name = "all", .prefix = "", .except = { "vm_diskfault_", "exec_", "swapfile_", "smp_" } },
	/* The stress cases want a boot of their own (little memory, a big swapd). */
	{ .name = "vm", .prefix = "vm_", .except = { "vm_stress_", "vm_diskfault_" } },
	{ .name = "stress", .prefix = "vm_stress_" },
	/*
	 * One page per page-in: with read-ahead clusters the kernel can kill a
	 * faulting thread for "out of memory" while the page-out daemon is still
	 * freeing memory at disk speed (page_in() spends its 500 tries on wakeups
	 * that come whenever free frames pass the reserve, fewer than the
	 * cluster needs).  Reported; 0 here once that is fixed.
	 */
	{ .name = "stress-disk", .prefix = "vm_stress_", .store = STORE_DISK },
	/* tests/cases/swap.py: errors injected on the swap partition's sectors. */
	{ .name = "pagein-errors", .prefix = "vm_diskfault_pagein", .store = STORE_DISK },
	{ .name = "pageout-errors", .prefix = "vm_diskfault_pageout", .store = STORE_DISK },
	/* tests/cases/media.py: the disk driver refuses swapd (replaced by one
	 * giving swap to nobody): diskfault.c. */
	{ .name = "refused", .prefix = "vm_diskfault_refused", .store = STORE_DISK },
	/* What runs in any boot: the vm_* cases want overtime= and swapd. */
	{ .name = "base", .prefix = "", .except = { "vm_", "exec_", "swapfile_", "smp_" } },
	/* Several CPUs (smp.c): a boot with 2 or more (tests/cases/smp.py). */
	{ .name = "smp", .prefix = "smp_" },
	/* Programs from the disk (exec.c): from the shell of a normal boot whose
	 * disk has /bin/utest and /bad (tests/cases/exec.py). */
	{ .name = "exec", .prefix = "exec_", .leak_each = true },
	/* tests/cases/swapfile.py: files made to be refused as swap, and no
	 * other swap file's provider. */
	{ .name = "swapfile", .prefix = "swapfile_" },
};

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static bool in_group(const struct group *g, const struct utest *t)
{
	size_t i;

	if (t->helper || !has_prefix(t->name, g->prefix))
		return false;
	for (i = 0; i < sizeof(g->except) / sizeof(g->except[0]); i++) {
		if (g->except[i] && has_prefix(t->name, g->except[i]))
			return false;
	}
	return true;
}

static const struct group *find_group(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (!strcmp(groups[i].name, name))
			return &groups[i];
	}
	return NULL;
}

static long case_timeout(const struct utest *t)
{
	return has_prefix(t->name, "vm_stress_") ? STRESS_TIMEOUT_NS : CASE_TIMEOUT_NS;
}

/* A case that failed half-way may leave the fault path switched: put it back. */
static void restore_faultpath(long want)
{
	long now = sys_vm_ctl(VM_CTL_FAULTPATH_GET, 0, NULL);

	if (now == want)
		return;
	printf("  left the fault path at %s: back to %s\n", pager_mode_name((uint32_t)now),
	       pager_mode_name((uint32_t)want));
	sys_vm_ctl(VM_CTL_FAULTPATH_SET, want, NULL);
}

static bool run_case(const struct utest *t)
{
	char args[SPAWN_ARGS_MAX], buf[24];
	long status = 0, ret, faultpath = sys_vm_ctl(VM_CTL_FAULTPATH_GET, 0, NULL);
	bool ok;

	snprintf(args, sizeof(args), "utest %s", t->name);
	ret = proc_run("utest", args, case_timeout(t), &status);
	ok = ret == 0 && status == 0;
	printf("test user/%s: %s\n", t->name, ok ? "OK" : "FAILED");
	if (ret == ERR_TIMEOUT)
		printf("  still running after %ld s: killed\n", case_timeout(t) / SEC_NS);
	else if (ret < 0)
		printf("  %s\n", err_str(ret));
	else if (status != 0)
		printf("  exit status %s\n", proc_status_str(status, buf, sizeof(buf)));
	restore_faultpath(faultpath);
	return ok;
}

/* Everything but the counters that move by themselves. */
static bool stats_same(const struct sys_stats *a, const struct sys_stats *b)
{
	return a->frames_free == b->frames_free && a->swap_slots_used == b->swap_slots_used &&
	       a->ports_live == b->ports_live && a->procs_live == b->procs_live &&
	       a->grants_live == b->grants_live && a->requests_live == b->requests_live &&
	       a->memobjs_live == b->memobjs_live && a->memobj_pages == b->memobj_pages;
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

/*
 * Memory pressure moves pages of live processes (this runner, init, sh)
 * to swap, and they stay there until touched: that frees one frame for
 * each slot it takes, which is no leak.  A leaked frame or slot breaks
 * that balance.  => frames missing beyond that (0 when balanced).
 */
static long frames_missing(const struct sys_stats *a, const struct sys_stats *b)
{
	long moved = (long)b->swap_slots_used - (long)a->swap_slots_used;

	return moved - ((long)b->frames_free - (long)a->frames_free);
}

static void print_stats(const char *when, const struct sys_stats *st)
{
	printf("  %s frames_free %llu swap_slots_used %llu grants_live %llu requests_live %llu"
	       " ports_live %llu procs_live %llu memobjs_live %llu memobj_pages %llu\n", when,
	       (unsigned long long)st->frames_free, (unsigned long long)st->swap_slots_used,
	       (unsigned long long)st->grants_live, (unsigned long long)st->requests_live,
	       (unsigned long long)st->ports_live, (unsigned long long)st->procs_live,
	       (unsigned long long)st->memobjs_live, (unsigned long long)st->memobj_pages);
}

/*
 * Every frame must come back, also after failed page-ins: a frame is
 * quarantined only while a driver's DMA into it may be open, and ata
 * says when its device is done (sys_grant_done), media errors included.
 */
static bool leak_check(const struct sys_stats *before, const char *what)
{
	struct sys_stats after;
	long missing;
	bool ok;

	stats_settled(&after);
	missing = frames_missing(before, &after);
	ok = missing == 0 &&
	     after.ports_live == before->ports_live && after.procs_live == before->procs_live &&
	     after.grants_live == before->grants_live &&
	     after.requests_live == before->requests_live &&
	     after.memobjs_live == before->memobjs_live &&
	     after.memobj_pages == before->memobj_pages;
	printf("test user/leak_check%s%s: %s\n", what ? "/" : "", what ? what : "",
	       ok ? "OK" : "FAILED");
	if (!ok || !stats_same(before, &after)) {
		print_stats("before:", before);
		print_stats("after: ", &after);
	}
	if (ok && after.swap_slots_used != before->swap_slots_used)
		printf("  %lld pages of live processes went to swap: no leak\n",
		       (long long)(after.swap_slots_used - before->swap_slots_used));
	return ok;
}

/* As init=utest the verdict ends the machine; from the shell it does not. */
static bool started_by_kernel(void)
{
	struct proc_info self;

	return proc_find(proc_pid(), &self) == 0 && self.parent == 0;
}

/*
 * Room for the stress cases to touch more memory than is free: a store of
 * 60 % of free memory leaves 40 % free, and 1.5 times that fits in it.
 */
static long swapd_store_pages(void)
{
	struct sys_stats st;

	CHECK_OK(sys_stats(&st));
	return (long)st.frames_free * 6 / 10;
}

/*
 * The disk drivers, as init would have started them before swapd: each in
 * turn (with its own module arguments) until one serves a disk; one that
 * finds no device of its kind exits at once and is reaped here.
 */
static void ensure_driver(void)
{
	static const char *const drivers[] = BLOCK_DRIVERS;

	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		long start = sys_clock_ns(), status, pid;

		if (sys_port_lookup(drivers[i]) > 0)
			return;
		pid = sys_spawn(drivers[i], NULL);
		if (pid < 0) {
			printf("utest: cannot start %s: %s\n", drivers[i], err_str(pid));
			continue;
		}
		while (sys_port_lookup(drivers[i]) < 0 && sys_clock_ns() - start < SWAPD_START_NS)
			if (sys_wait(pid, &status, 10 * MSEC_NS) == pid)
				break;	/* no device of its kind */
		if (sys_port_lookup(drivers[i]) > 0)
			return;
	}
}

/* The VM cases need a swap provider; as init=utest nobody else starts one. */
static void ensure_swapd(const struct group *g)
{
	char args[32];
	long pid;

	if (sys_port_lookup(SWAPD_PORT_NAME) > 0)
		return;
	if (g->store == STORE_DISK)
		ensure_driver();
	if (g->store == STORE_DISK)
		snprintf(args, sizeof(args), "swapd disk");
	else
		snprintf(args, sizeof(args), "swapd ram %ld", swapd_store_pages());
	pid = sys_spawn("swapd", args);
	if (pid < 0) {
		printf("utest: cannot start swapd: %s\n", err_str(pid));
		return;
	}
	if (ipc_lookup(SWAPD_PORT_NAME, SWAPD_START_NS) < 0)
		printf("utest: swapd (pid %ld) did not publish its port\n", pid);
}

/*
 * The first grant swapd holds builds the page tables of its grant window,
 * which it keeps for good: let that happen before the counting starts.
 */
static void warm_up_swapd(void)
{
	long prev = sys_vm_ctl(VM_CTL_FAULTPATH_GET, 0, NULL), p;

	p = sys_mem_map(NULL, UTEST_PAGE, PROT_READ | PROT_WRITE);
	if (p < 0 || sys_vm_ctl(VM_CTL_FAULTPATH_SET, FILL_GRANT_MAP, NULL) < 0)
		return;
	*(volatile uint8_t *)p = 1;
	if (sys_vm_ctl(VM_CTL_EVICT, UTEST_PAGE, (void *)p) != 1)
		printf("utest: could not evict a page to swapd\n");
	CHECK_EQ(*(volatile uint8_t *)p, 1);
	sys_mem_unmap((void *)p, UTEST_PAGE);
	sys_vm_ctl(VM_CTL_FAULTPATH_SET, prev, NULL);
}

/*
 * Likewise fs's and ata's grant windows, made on the first grant-map page
 * request through fs: one file page, paged in by a mapped grant.
 */
static void warm_up_fs(void)
{
	long prev = sys_vm_ctl(VM_CTL_FAULTPATH_GET, 0, NULL), fd, p;

	fd = file_open("/bin/hello", O_RDONLY);
	p = fd < 0 ? fd : file_mmap((int)fd, 0, UTEST_PAGE, PROT_READ);
	if (p < 0 || sys_vm_ctl(VM_CTL_FAULTPATH_SET, FILL_GRANT_MAP, NULL) < 0) {
		printf("utest: cannot map /bin/hello: %s\n", err_str(p));
		return;
	}
	(void)*(volatile uint8_t *)p;
	file_munmap((void *)p, UTEST_PAGE);
	file_close((int)fd);
	sys_vm_ctl(VM_CTL_FAULTPATH_SET, prev, NULL);
}

static int count_cases(const struct group *g, bool *wants_swap)
{
	const struct utest *t;
	int cases = 0;

	*wants_swap = false;
	for_each_utest(t) {
		if (!in_group(g, t))
			continue;
		cases++;
		*wants_swap |= has_prefix(t->name, "vm_") || has_prefix(t->name, "smp_");
	}
	return cases;
}

static int run_group(const struct group *g)
{
	const struct utest *t;
	struct sys_stats before;
	bool wants_swap;
	int cases = count_cases(g, &wants_swap), failures = 0;
	long ret;

	printf("utest: %d cases (%s)\n", cases, g->name);
	if (wants_swap || g->leak_each) {
		ensure_swapd(g);
		warm_up_swapd();
	}
	if (g->leak_each)
		warm_up_fs();	/* the exec group: each case's check would count them */
	if (g->cluster)
		CHECK_OK(sys_vm_ctl(VM_CTL_CLUSTER, g->cluster, NULL));
	stats_settled(&before);
	for_each_utest(t) {
		struct sys_stats before_case;

		if (!in_group(g, t))
			continue;
		if (g->leak_each)
			stats_settled(&before_case);
		if (!run_case(t))
			failures++;
		if (g->leak_each && !leak_check(&before_case, t->name))
			failures++;
	}
	if (!leak_check(&before, NULL))
		failures++;
	if (g->cluster)
		sys_vm_ctl(VM_CTL_CLUSTER, KERNEL_CLUSTER, NULL);
	printf("utest: %d of %d failed\n", failures, g->leak_each ? 2 * cases + 1 : cases + 1);
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
	const struct group *g = find_group(argc < 2 ? "all" : argv[1]);
	size_t i;

	if (g)
		return run_group(g);
	t = find_case(argv[1]);
	if (!t) {
		printf("utest: no case %s; groups:", argv[1]);
		for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
			printf(" %s", groups[i].name);
		printf("; cases:");
		for_each_utest(t) {
			if (!t->helper)
				printf(" %s", t->name);
		}
		printf("\n");
		return 2;
	}
	return t->run(argc, argv);
}
