/* SPDX-License-Identifier: MIT */
/*
 * utest: the in-guest user test suite.  Cases register themselves with
 * UTEST(name) in the "utest_cases" linker section; the runner (utest with
 * no argument) spawns every case as its own process, "utest NAME", so one
 * crash fails one case.  A case passes when its process exits with 0; the
 * CHECK macros print what went wrong and exit with 1.
 *
 * UTEST_HELPER(name) registers a hidden mode the runner does not run: the
 * children that cases spawn (servers, forgers, processes that crash).
 * Helpers get their arguments after the name: "utest NAME ARG...".
 *
 * Groups: "utest" or "utest all" runs every case (but the disk-fault
 * ones), "utest vm" the vm_* cases but the stress and disk-fault ones,
 * "utest stress" the vm_stress_* ones, "utest stress-disk" the same on the
 * swap partition, "utest pagein-errors" and "utest pageout-errors" the
 * vm_diskfault_* ones (they want blkdebug rules: tests/cases/swap.py),
 * "utest refused" vm_diskfault_refused (as init: it replaces the disk
 * driver, which nobody may restart meanwhile: tests/cases/media.py),
 * "utest base" all but the vm_* cases (those that need no special boot
 * options), "utest exec" the exec_* ones, from the shell of a boot whose
 * disk has /bin/utest (exec.c), with a leak check around each case,
 * "utest swapfile" the swapfile_* ones (they want the files
 * tests/cases/swapfile.py puts on the disk), "utest smp" the smp_* ones (a
 * boot with 2 CPUs or more: smp.c).  A group with VM cases starts swapd
 * first if nobody has: a RAM store, or the disk store (and ata) for the
 * disk groups.
 */
#ifndef UTEST_H
#define UTEST_H

#include <ferry/sys.h>
#include <pager.h>
#include <proc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdnoreturn.h>

struct utest {
	const char *name;
	int (*run)(int argc, char **argv);
	bool helper;
};

#define UTEST_DEFINE(fn, is_helper)                                              \
	static int fn(int argc, char **argv);                                   \
	static const struct utest utest_entry_##fn                              \
		__attribute__((used, section("utest_cases"), aligned(8))) = {   \
		.name = #fn, .run = fn, .helper = is_helper,                    \
	};                                                                      \
	static int fn(int argc __attribute__((unused)),                         \
		      char **argv __attribute__((unused)))

#define UTEST(name)		UTEST_DEFINE(name, false)
#define UTEST_HELPER(name)	UTEST_DEFINE(name, true)

#define CHECK(e)                                                \
	do {                                                    \
		if (!(e))                                       \
			utest_fail(__FILE__, __LINE__, #e);     \
	} while (0)

/* a == b as longs; a failure shows both values (and error names). */
#define CHECK_EQ(a, b)                                                          \
	do {                                                                    \
		long check_a_ = (long)(a), check_b_ = (long)(b);                \
		if (check_a_ != check_b_)                                       \
			utest_fail_eq(__FILE__, __LINE__, #a, #b, check_a_, check_b_); \
	} while (0)

/* A system call that must succeed (result >= 0); evaluates to the result. */
#define CHECK_OK(e) utest_check_ok(__FILE__, __LINE__, #e, (long)(e))

noreturn void utest_fail(const char *file, int line, const char *expr);
noreturn void utest_fail_eq(const char *file, int line, const char *a, const char *b,
			    long got, long want);
long utest_check_ok(const char *file, int line, const char *expr, long ret);

/* Spawns "utest HELPER ARGS" (args formatted like printf); returns its pid. */
long utest_spawn(const char *helper, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Waits (10 s at most) for child pid and checks its status. */
void utest_reap(long pid, long want_status);
/* argv[i] as a decimal number; a missing or bad argument fails. */
long utest_arg(int argc, char **argv, int i);

/* "utest.TAG.PID": names unique per test process, so runs never collide. */
void utest_port_name(char name[PORT_NAME_MAX], const char *tag, long pid);

/* A 4 KiB pattern that differs for every seed and every byte offset. */
void utest_fill(void *page, uint32_t seed);
bool utest_filled(const void *page, uint32_t seed);

/* Until pid's first thread is in `state` (5 s at most). */
void utest_wait_state(long pid, uint32_t state);
/* The pid of the live process named `name`, or 0. */
long utest_pid_named(const char *name);
/* Until a `name` (ata, swapd or fs) other than pid `old` serves its port
 * again (30 s at most); => its pid. */
long utest_wait_restarted(const char *name, long old);

/* --- virtual memory (tpager.c) --- */

#define UTEST_PAGE		4096
#define UTEST_WAIT_NS		(5 * SEC_NS)
/* Where the kernel maps lent frames in the holder (kernel/grant/grant.h). */
#define UTEST_GRANT_WINDOW	0x00007F0000000000UL

/* Switches the fault path; => the one before, to switch back to. */
long vm_faultpath(long mode);
void vm_stats(struct fault_stats st[FILL_NMODES]);
long vm_page_state(const void *addr);
/* The swapd port; fails the case if there is no swap provider. */
long vm_need_swap(void);
/* swapd's SWAPD_STORE answer (<proto/swapd.h>): its store, modes, disk counters. */
void vm_swapd_store(struct msg *rep);
/* Fails the case unless live grants and page requests fall back to before's. */
void vm_check_idle(const struct sys_stats *before);

/*
 * A test pager: this process serves the pages of a region a child maps
 * with sys_mem_map_pager(port, object, offset, ...).  The page at byte
 * offset `key` of `object` holds utest_fill(tpager_seed(object, key)).
 */
struct tpager {
	long port;
	uint8_t *buf;		/* PAGER_BUF_SIZE: copy-mode pages, both ways */
};

uint32_t tpager_seed(uint64_t object, uint64_t key);
void tpager_open(struct tpager *tp);
void tpager_close(struct tpager *tp);
/*
 * Spawns "utest vm_client PORT OBJECT FIRST NPAGES ACTION": a child that
 * maps NPAGES pages of OBJECT from page FIRST on, shared, and then
 * read:  reads every page and checks its pattern
 * zero:  checks that every page reads as zeros
 * dirty: reads page 0, writes a new pattern, evicts it (a page-out to the
 *        pager) and checks the page stayed, intact, when that failed
 * unmap: faults on page 0 in a second thread and unmaps the region while
 *        the page is in flight, then sends TPAGER_UNMAPPED to PORT
 * stable: hashes page 0 as it arrives and again 50 ms later: the same
 * Exit 0 when everything it checked was right.
 */
long tpager_client(long port, uint64_t object, int first, int npages, const char *action);
/* The next kernel request, within timeout_ns; anything else fails the case. */
void tpager_recv(struct tpager *tp, struct pager_request *rq, long timeout_ns);
/* Puts k pages of their patterns where rq's mode wants them (window or buf). */
void tpager_fill(struct tpager *tp, const struct pager_request *rq, int k);
/* Fills (page-in) and answers all of rq; => sys_reply's result. */
long tpager_answer(struct tpager *tp, const struct pager_request *rq);
/* Answers requests until child ends; checks its status. */
void tpager_serve_until_exit(struct tpager *tp, long child, long want_status);

#define TPAGER_UNMAPPED	(MSG_OP_USER + 0x40)	/* vm_client unmap -> pager */

#endif
