// SPDX-License-Identifier: MIT
/*
 * Swap survives its servers (kernel/mm/swap.h, lib/user/block.c,
 * user/init): run from the shell of a normal boot, where init restarts
 * the services that die.
 *
 *   utest restart SERVICE MODE [ROUNDS [DELAY_MS]]   SERVICE: swapd or ata
 *
 * Pages out RESTART_PAGES pages in fill mode MODE, kills SERVICE, and reads
 * every page back: a thread that starts faulting just before the kill
 * (its page-in may be in flight when the server dies) and the main thread
 * after it; with DELAY_MS the kill waits for the racer's request to reach
 * the driver first (on a throttled disk: the kill then lands while ata
 * holds the grant; in copy mode, with no grant to see, DELAY_MS itself).  Every page must come back intact and no thread may be killed:
 * the faults wait for the restarted swapd, which takes the same provider
 * over, or swapd's block client waits for the restarted ata, forwards the
 * grant (back with swapd since ata died) to it and asks again.
 * tests/cases/restart.py checks the lines printed here.
 */
#include <ferry/sys.h>
#include <proto/block.h>
#include <proto/fs.h>
#include <proto/swapd.h>
#include <stdio.h>
#include <string.h>
#include <thread.h>

#include "utest.h"

#define RESTART_PAGES	64
#define RACER_PAGES	16	/* read by the thread racing the kill */
#define RESTART_WAIT_NS	(30 * SEC_NS)
#define HOLD_WAIT_MS	2000	/* for the racer's grant to reach the server */

static uint32_t restart_seed(long round, long i)
{
	return (uint32_t)(proc_pid() * 977 + round * 7919 + i);
}

long utest_pid_named(const char *name)
{
	struct proc_info info;

	for (long i = 0; sys_proc_info(i, &info) == 0; i++)
		if (strcmp(info.name, name) == 0)
			return info.pid;
	return 0;
}

long utest_wait_restarted(const char *name, long old)
{
	/* A disk driver's port is its program's name (<proto/block.h>). */
	const char *port = !strcmp(name, "swapd") ? SWAPD_PORT_NAME
			   : !strcmp(name, "fs") ? FS_PORT_NAME : name;
	long start = sys_clock_ns(), pid;

	while ((pid = utest_pid_named(name)) == 0 || pid == old || sys_port_lookup(port) < 0) {
		CHECK(sys_clock_ns() - start < RESTART_WAIT_NS);
		sys_sleep(10 * MSEC_NS);
	}
	return pid;
}

/* Grants lent to pid, or forwarded by it (kernel/grant), now. */
static uint32_t grants_held(long pid)
{
	struct proc_info info;

	return proc_find(pid, &info) == 0 ? info.grants_held : 0;
}

/*
 * Until pid holds a grant (the racer's request reached it), or ms pass.
 * A fixed delay was enough on one CPU; with several the racer, swapd and
 * ata run beside this thread and the moment moves.  Copy mode lends none:
 * then it is the delay.
 */
static void wait_holding(long pid, long ms)
{
	long until = sys_clock_ns() + ms * MSEC_NS;

	while (grants_held(pid) == 0 && sys_clock_ns() < until)
		sys_sleep(MSEC_NS);
}

struct racer {
	const uint8_t *pages;
	long round;
	volatile int result;	/* 0: running (or killed), 1: intact, 2: wrong bytes */
};

static void race(void *arg)
{
	struct racer *r = arg;
	int ok = 1;

	for (long i = 0; i < RACER_PAGES; i++)
		if (!utest_filled(r->pages + i * UTEST_PAGE, restart_seed(r->round, i)))
			ok = 2;
	r->result = ok;
}

static long threads_now(void)
{
	struct proc_info self;

	CHECK_OK(proc_find(proc_pid(), &self));
	return (long)self.nthreads;
}

static void one_round(const char *name, long mode, long round, long delay_ms)
{
	static char stack[16384] __attribute__((aligned(16)));
	static struct racer r;
	uint8_t *p = (uint8_t *)CHECK_OK(sys_mem_map(NULL, RESTART_PAGES * UTEST_PAGE,
						    PROT_READ | PROT_WRITE));
	long old, now, start, bad = 0;

	for (long i = 0; i < RESTART_PAGES; i++)
		utest_fill(p + i * UTEST_PAGE, restart_seed(round, i));
	CHECK_EQ(sys_vm_ctl(VM_CTL_EVICT, RESTART_PAGES * UTEST_PAGE, p), RESTART_PAGES);
	for (long i = 0; i < RESTART_PAGES; i++)
		CHECK_EQ(vm_page_state(p + i * UTEST_PAGE), PAGE_SWAPPED);
	old = utest_pid_named(name);
	CHECK(old > 0);
	r = (struct racer){ .pages = p, .round = round };
	CHECK_OK(thread_start(race, &r, stack, sizeof(stack)));
	if (delay_ms)
		wait_holding(old, mode == FILL_COPY ? delay_ms : HOLD_WAIT_MS);
	CHECK_OK(sys_kill(old));
	start = sys_clock_ns();
	for (long i = RACER_PAGES; i < RESTART_PAGES; i++)
		bad += !utest_filled(p + i * UTEST_PAGE, restart_seed(round, i));
	while (threads_now() > 1) {
		CHECK(sys_clock_ns() - start < RESTART_WAIT_NS);
		sys_sleep(MSEC_NS);
	}
	now = utest_wait_restarted(name, old);
	printf("utest: restart %s %s round %ld: %ld -> %ld, %ld of %d pages wrong,"
	       " racer %s, %ld ms\n", name, pager_mode_name((uint32_t)mode), round, old, now, bad,
	       RESTART_PAGES, r.result == 1 ? "intact" : r.result == 2 ? "WRONG" : "KILLED",
	       (sys_clock_ns() - start) / MSEC_NS);
	CHECK_EQ(bad, 0);
	CHECK_EQ(r.result, 1);
	CHECK_OK(sys_mem_unmap(p, RESTART_PAGES * UTEST_PAGE));
}

UTEST_HELPER(restart)
{
	const char *name = argc > 2 ? argv[2] : "";
	long mode = utest_arg(argc, argv, 3);
	long rounds = argc > 4 ? utest_arg(argc, argv, 4) : 1;
	long delay_ms = argc > 5 ? utest_arg(argc, argv, 5) : 0;
	long prev;

	CHECK(strcmp(name, "swapd") == 0 || strcmp(name, BLOCK_PORT_NAME) == 0 ||
	      strcmp(name, BLOCK_PORT_NVME) == 0);
	vm_need_swap();
	prev = vm_faultpath(mode);
	for (long round = 0; round < rounds; round++)
		one_round(name, mode, round, delay_ms);
	CHECK_OK(sys_vm_ctl(VM_CTL_FAULTPATH_SET, prev, NULL));
	printf("utest: restart %s %s: ok\n", name, pager_mode_name((uint32_t)mode));
	return 0;
}

/* Naming a store whose mappings outlive the pager takes the `pager` right
 * (fs has it, and so does utest, which serves pages in other cases): else
 * any process could take a dead fs's mappings over and be sent their dirty
 * pages.  So the check runs in utest's ELF under the name "utestrogue", a
 * test module the boot configuration gives no rights. */
UTEST_HELPER(pager_register_refused)
{
	static const uint8_t store[16] = { 0x46, 0x45, 0x52, 0x52 };
	long port = CHECK_OK(sys_port_create(4));

	CHECK_EQ(sys_pager_register(port, FILL_ALL_MODES, store), ERR_PERM);
	CHECK_EQ(sys_pager_modes(port, FILL_ALL_MODES), ERR_PERM);
	CHECK_OK(sys_port_destroy(port));
	return 0;
}

UTEST(pager_register_needs_right)
{
	long pid = CHECK_OK(sys_spawn("utestrogue", "utestrogue pager_register_refused"));

	utest_reap(pid, 0);
	return 0;
}
