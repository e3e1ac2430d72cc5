// SPDX-License-Identifier: MIT
/* Processes and threads: system call entry, spawning, faults, threads. */
#include <ferry/sys.h>
#include <stdio.h>
#include <thread.h>

#include "utest.h"

#define THREAD_ROUNDS		100000
#define THREAD_STACK		16384
#define THREAD_WAIT_NS		(10 * SEC_NS)

/* The modules tools/mkbadelf.py makes from utest.elf, one defect each. */
static const char *const bad_elfs[] = {
	"bad_magic", "bad_class", "bad_machine", "truncated", "phdr_out_of_bounds",
	"kernel_address", "entry_outside", "overlapping", "filesz_gt_memsz", "writable_exec",
	"truncated_after_headers", "segment_past_eof",
};

UTEST_HELPER(exit_code)
{
	return (int)utest_arg(argc, argv, 2);
}

UTEST_HELPER(write_low)
{
	*(volatile int *)0x10 = 1;
	return 0;
}

UTEST(null_syscall_ok)
{
	CHECK_EQ(sys_null(), 0);
	CHECK(proc_pid() > 0);
	CHECK_EQ(sys_getpid(), proc_pid());
	CHECK_EQ(ferry_syscall6(SYS_COUNT, 0, 0, 0, 0, 0, 0), ERR_NOSYS);
	CHECK_EQ(ferry_syscall6(-1, 0, 0, 0, 0, 0, 0), ERR_NOSYS);
	/* All 64 bits of rax count: this is not SYS_null. */
	CHECK_EQ(ferry_syscall6(1L << 32 | SYS_null, 0, 0, 0, 0, 0, 0), ERR_NOSYS);
	return 0;
}

/* A sleep with nothing else to run halts the CPU, and the kernel counts
 * it, never more than the time that passed.  (The idle thread clears
 * frames for its pool before it halts: a sleep may go by without a halt.) */
UTEST(halted_cycles_counted)
{
	struct sys_stats a, b;
	uint64_t t0, t1, ns = 0;

	for (int tries = 0; tries < 20 && ns == 0; tries++) {
		CHECK_OK(sys_stats(&a));
		t0 = (uint64_t)sys_clock_ns();
		sys_sleep(20 * MSEC_NS);
		t1 = (uint64_t)sys_clock_ns();
		CHECK_OK(sys_stats(&b));
		CHECK(b.halted_cycles >= a.halted_cycles);
		ns = (b.halted_cycles - a.halted_cycles) * SEC_NS / a.cycles_per_sec;
		CHECK(ns <= t1 - t0 + MSEC_NS);
	}
	CHECK(ns > 0);
	return 0;
}

UTEST(fault_kill)
{
	utest_reap(utest_spawn("write_low", ""), PROC_STATUS_FAULT);
	/* The system carries on: the next process runs normally. */
	utest_reap(utest_spawn("exit_code", "7"), 7);
	return 0;
}

UTEST(malformed_elf)
{
	long ret, status;
	size_t i;
	int wrong = 0;

	for (i = 0; i < sizeof(bad_elfs) / sizeof(bad_elfs[0]); i++) {
		ret = sys_spawn(bad_elfs[i], NULL);
		if (ret == ERR_NOEXEC)
			continue;
		printf("utest: spawn %s: got %ld (%s), want ERR_NOEXEC\n", bad_elfs[i], ret,
		       ret < 0 ? err_str(ret) : "a process");
		if (ret > 0 && sys_kill(ret) == 0)
			sys_wait(ret, &status, -1);
		wrong++;
	}
	CHECK_EQ(wrong, 0);
	return 0;
}

struct counter {
	long count;
	int go, done;
};

static void count_up(void *arg)
{
	struct counter *c = arg;
	long i;

	while (!__atomic_load_n(&c->go, __ATOMIC_ACQUIRE))
		sys_yield();
	for (i = 0; i < THREAD_ROUNDS; i++) {
		c->count++;
		if (i % 1000 == 0)
			sys_yield();
	}
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
}

static bool counters_done(struct counter *c, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (!__atomic_load_n(&c[i].done, __ATOMIC_ACQUIRE))
			return false;
	}
	return true;
}

UTEST(threads)
{
	static struct counter c[2];
	static char stacks[2][THREAD_STACK] __attribute__((aligned(16)));
	struct proc_info self;
	long start;
	int i;

	for (i = 0; i < 2; i++)
		CHECK_OK(thread_start(count_up, &c[i], stacks[i], sizeof(stacks[i])));
	/* The counters wait for go, so all three threads are alive here. */
	CHECK_OK(proc_find(proc_pid(), &self));
	CHECK_EQ(self.nthreads, 3);
	for (i = 0; i < 2; i++)
		__atomic_store_n(&c[i].go, 1, __ATOMIC_RELEASE);
	start = sys_clock_ns();
	while (!counters_done(c, 2)) {
		CHECK(sys_clock_ns() - start < THREAD_WAIT_NS);
		sys_yield();
	}
	for (i = 0; i < 2; i++)
		CHECK_EQ(c[i].count, THREAD_ROUNDS);
	return 0;
}
