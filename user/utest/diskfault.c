// SPDX-License-Identifier: MIT
/*
 * Disk errors under swap.  tests/cases/swap.py boots these with blkdebug
 * rules on the swap partition's sectors: one slot in 8 fails to read
 * (utest pagein-errors) or to write (utest pageout-errors), so any run of
 * 8 slots holds a bad one.  What must happen, in every fill mode:
 *
 *   page-in error:  the faulting thread is killed, the process goes on, and
 *                   every page whose own slot reads fine comes back intact
 *                   (swapd retries the faulting page alone when only the
 *                   read-ahead failed);
 *   page-out error: the pages stay resident and intact, the slots are
 *                   marked bad and never used again, so the next page-out
 *                   of the same pages goes elsewhere and works.
 */
#include <ferry/sys.h>
#include <ipc.h>
#include <proto/block.h>
#include <stdio.h>
#include <thread.h>

#include "utest.h"

#define FAULT_PAGES	16	/* two runs of 8 slots: at least one bad slot */
#define TOUCH_STACK	16384

static uint32_t fault_seed(long mode, long i)
{
	return (uint32_t)(proc_pid() * 131 + mode * 1000 + i);
}

static uint8_t *fault_map(long mode)
{
	uint8_t *p = (uint8_t *)CHECK_OK(sys_mem_map(NULL, FAULT_PAGES * UTEST_PAGE,
						    PROT_READ | PROT_WRITE));
	long i;

	for (i = 0; i < FAULT_PAGES; i++)
		utest_fill(p + i * UTEST_PAGE, fault_seed(mode, i));
	return p;
}

static long threads_now(void)
{
	struct proc_info self;

	CHECK_OK(proc_find(proc_pid(), &self));
	return (long)self.nthreads;
}

struct toucher {
	const uint8_t *page;
	uint32_t seed;
	int result;		/* 0: did not finish (killed), 1: intact, 2: wrong bytes */
};

static void touch(void *arg)
{
	struct toucher *t = arg;

	t->result = utest_filled(t->page, t->seed) ? 1 : 2;
}

/*
 * Reads a page in a thread of its own, which the kernel kills if the page
 * cannot be read.  => true if it came back (intact: anything else fails).
 */
static bool touch_in_thread(const uint8_t *page, uint32_t seed)
{
	static char stack[TOUCH_STACK] __attribute__((aligned(16)));
	static struct toucher t;
	long start = sys_clock_ns();

	t = (struct toucher){ .page = page, .seed = seed };
	CHECK_OK(thread_start(touch, &t, stack, sizeof(stack)));
	/* Ended, one way or the other: only then is the stack ours again. */
	while (threads_now() > 1) {
		CHECK(sys_clock_ns() - start < 4 * UTEST_WAIT_NS);
		sys_sleep(MSEC_NS);
	}
	CHECK(t.result != 2);
	return t.result == 1;
}

static void pagein_errors(long mode)
{
	long prev = vm_faultpath(mode), i, lost = 0;
	uint8_t *p = fault_map(mode);

	CHECK_EQ(sys_vm_ctl(VM_CTL_EVICT, FAULT_PAGES * UTEST_PAGE, p), FAULT_PAGES);
	for (i = 0; i < FAULT_PAGES; i++) {
		uint8_t *page = p + i * UTEST_PAGE;

		CHECK_EQ(vm_page_state(page), PAGE_SWAPPED);
		if (touch_in_thread(page, fault_seed(mode, i)))
			continue;
		/* The page is still where it was: only the thread paid. */
		CHECK_EQ(vm_page_state(page), PAGE_SWAPPED);
		lost++;
	}
	printf("utest: pagein-errors %s: %ld of %d pages unreadable, their threads killed\n",
	       pager_mode_name((uint32_t)mode), lost, FAULT_PAGES);
	CHECK(lost >= 1);	/* else the blkdebug rules missed: nothing was tested */
	CHECK(lost < FAULT_PAGES);
	CHECK_OK(sys_mem_unmap(p, FAULT_PAGES * UTEST_PAGE));
	vm_faultpath(prev);
}

UTEST(vm_diskfault_pagein)
{
	vm_need_swap();
	pagein_errors(FILL_COPY);
	pagein_errors(FILL_GRANT_MAP);
	pagein_errors(FILL_GRANT_DMA);
	return 0;
}

static void check_all(const uint8_t *p, long mode)
{
	long i;

	for (i = 0; i < FAULT_PAGES; i++)
		CHECK(utest_filled(p + i * UTEST_PAGE, fault_seed(mode, i)));
}

static void pageout_errors(long mode)
{
	long prev = vm_faultpath(mode), out, i, tries, kept = 0;
	uint8_t *p = fault_map(mode);

	out = CHECK_OK(sys_vm_ctl(VM_CTL_EVICT, FAULT_PAGES * UTEST_PAGE, p));
	for (i = 0; i < FAULT_PAGES; i++) {
		long state = vm_page_state(p + i * UTEST_PAGE);

		CHECK(state == PAGE_RESIDENT || state == PAGE_SWAPPED);
		kept += state == PAGE_RESIDENT;
	}
	printf("utest: pageout-errors %s: %ld of %d pages failed to go out, kept\n",
	       pager_mode_name((uint32_t)mode), kept, FAULT_PAGES);
	CHECK_EQ(kept, FAULT_PAGES - out);
	CHECK(kept >= 1);	/* else the blkdebug rules missed: nothing was tested */
	check_all(p, mode);	/* nothing lost: kept pages as they were, the rest read back */
	/* One page at a time now: a bad slot is never handed out again. */
	for (i = 0; i < FAULT_PAGES; i++) {
		for (tries = 0; tries < 4; tries++) {
			if (CHECK_OK(sys_vm_ctl(VM_CTL_EVICT, UTEST_PAGE, p + i * UTEST_PAGE)) == 1)
				break;
		}
		CHECK_EQ(vm_page_state(p + i * UTEST_PAGE), PAGE_SWAPPED);
	}
	check_all(p, mode);
	CHECK_OK(sys_mem_unmap(p, FAULT_PAGES * UTEST_PAGE));
	vm_faultpath(prev);
}

UTEST(vm_diskfault_pageout)
{
	vm_need_swap();
	pageout_errors(FILL_COPY);
	pageout_errors(FILL_GRANT_MAP);
	pageout_errors(FILL_GRANT_DMA);
	return 0;
}

/*
 * A refusal is not a bad sector.  The disk driver is replaced by one whose
 * arguments give swap areas to nobody (an operator's override, `swap=`):
 * swapd reconnects to it and every page-out is refused ("not permitted").
 * The pages must stay resident and intact and no slot may be retired (the
 * kernel logs "marked bad" for each: tests/cases/media.py looks), in
 * every fill mode; with the driver's own arguments back, the same pages
 * go out and come back.  Pages swapped out before stay where they are: a
 * page-in refused kills the faulting thread (with that reason), and the
 * page comes back once the driver serves swapd again.
 */
static const char *running_driver(void)
{
	static const char *const drivers[] = BLOCK_DRIVERS;

	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (sys_port_lookup(drivers[i]) > 0)
			return drivers[i];
	return NULL;
}

/* Kills the running driver and starts `name` with args (NULL: its module's
 * own); nobody restarts it here (init=utest). */
static void driver_replace(const char *name, const char *args)
{
	long old = utest_pid_named(name), start = sys_clock_ns();

	CHECK(old > 0);
	CHECK_OK(sys_kill(old));
	while (utest_pid_named(name) != 0) {	/* one instance of a service at a time */
		CHECK(sys_clock_ns() - start < UTEST_WAIT_NS);
		sys_sleep(MSEC_NS);
	}
	CHECK(CHECK_OK(sys_spawn(name, args)) != old);
	CHECK(ipc_lookup(name, UTEST_WAIT_NS) > 0);
}

static void refused_pageouts(long mode, const uint8_t *before)
{
	long prev = vm_faultpath(mode), i;
	uint8_t *p = fault_map(mode);

	CHECK_EQ(CHECK_OK(sys_vm_ctl(VM_CTL_EVICT, FAULT_PAGES * UTEST_PAGE, p)), 0);
	for (i = 0; i < FAULT_PAGES; i++)
		CHECK_EQ(vm_page_state(p + i * UTEST_PAGE), PAGE_RESIDENT);
	check_all(p, mode);
	for (i = 0; i < FAULT_PAGES; i++)	/* untouched by the refusals */
		CHECK_EQ(vm_page_state(before + i * UTEST_PAGE), PAGE_SWAPPED);
	printf("utest: refused %s: %d pages refused, kept\n", pager_mode_name((uint32_t)mode),
	       FAULT_PAGES);
	CHECK_OK(sys_mem_unmap(p, FAULT_PAGES * UTEST_PAGE));
	vm_faultpath(prev);
}

/* Every page goes out, and comes back intact. */
static void pageouts_work(long mode)
{
	long prev = vm_faultpath(mode);
	uint8_t *p = fault_map(mode);

	CHECK_EQ(sys_vm_ctl(VM_CTL_EVICT, FAULT_PAGES * UTEST_PAGE, p), FAULT_PAGES);
	check_all(p, mode);
	CHECK_OK(sys_mem_unmap(p, FAULT_PAGES * UTEST_PAGE));
	vm_faultpath(prev);
}

UTEST(vm_diskfault_refused)
{
	const char *driver = running_driver();
	char args[SPAWN_ARGS_MAX];
	uint8_t *before;

	vm_need_swap();
	CHECK(driver != NULL);
	before = fault_map(FILL_COPY);
	CHECK_EQ(sys_vm_ctl(VM_CTL_EVICT, FAULT_PAGES * UTEST_PAGE, before), FAULT_PAGES);
	snprintf(args, sizeof(args), "%s swap=", driver);
	driver_replace(driver, args);
	refused_pageouts(FILL_COPY, before);
	refused_pageouts(FILL_GRANT_MAP, before);
	refused_pageouts(FILL_GRANT_DMA, before);
	/* A page-in refused costs the faulting thread, never the page. */
	CHECK(!touch_in_thread(before, fault_seed(FILL_COPY, 0)));
	CHECK_EQ(vm_page_state(before), PAGE_SWAPPED);
	driver_replace(driver, NULL);
	check_all(before, FILL_COPY);	/* paged in through the driver as it was */
	for (long mode = 0; mode < FILL_NMODES; mode++)
		pageouts_work(mode);
	CHECK_OK(sys_mem_unmap(before, FAULT_PAGES * UTEST_PAGE));
	return 0;
}
