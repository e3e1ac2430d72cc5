// SPDX-License-Identifier: MIT
/*
 * percpu: readers on every CPU at once, for a driver with a queue per CPU
 * (nvme).  One thread per CPU online reads 8-sector runs of the disk's
 * first 256 sectors in copy mode; every read must equal the same sectors
 * read once beforehand.  The readers take turns, each spinning while it
 * waits (so each keeps a CPU busy and they stay spread over the CPUs):
 * with one request out at a time the driver is always waiting when a call
 * comes, so it runs on the caller's CPU and submits on that CPU's queue;
 * with requests overlapping it would serve the queued ones on whichever
 * CPU it already ran on.  The line
 * it prints says how many message interrupts (MSI-X) the kernel took
 * meanwhile; which queues carried the reads is nvme's log (its "first
 * command" line per queue), checked by tests/cases/nvme.py.
 */
#include <ferry/sys.h>
#include <stdio.h>
#include <string.h>
#include <thread.h>

#include "blktest.h"

#define RAW0		BLOCK_PART(0, 0)
#define READERS_MAX	8
#define READS		120
#define SPAN		256		/* sectors read once as the reference */
#define RUN		8
#define STACK		16384
#define WAIT_NS		(120 * 1000000000LL)

struct reader {
	struct blk *b;
	int id;
	volatile int finished;
	long bad, err;
	uint64_t cpus;			/* CPUs it ran on when it sent a request */
	uint8_t stack[STACK] __attribute__((aligned(16)));
};

static uint8_t reference[SPAN * BLOCK_SECTOR_SIZE];
static uint8_t bufs[READERS_MAX][BLK_BUF_BYTES] __attribute__((aligned(4096)));
static struct reader readers[READERS_MAX];
static int nreaders, turn;

static void spin(unsigned n)
{
	for (volatile unsigned i = 0; i < n; i++)
		;
}

static void read_loop(void *arg)
{
	struct reader *r = arg;

	for (int i = 0; i < READS; i++) {
		uint64_t lba = ((uint64_t)r->id * 37 + (uint64_t)i * RUN) % (SPAN - RUN);
		long err;

		while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != r->id)
			spin(100);

		r->cpus |= 1ULL << (sys_cpu_self() & 63);
		err = blk_read(r->b, RAW0, lba, RUN, 0, 0, bufs[r->id]);
		if (err)
			r->err = err;
		else if (memcmp(bufs[r->id], reference + lba * BLOCK_SECTOR_SIZE,
				RUN * BLOCK_SECTOR_SIZE))
			r->bad++;
		__atomic_store_n(&turn, (r->id + 1) % nreaders, __ATOMIC_RELEASE);
	}
	r->finished = 1;
}

void cases_percpu(struct blk *b)
{
	struct sys_stats before, after;
	long err = blk_read(b, RAW0, 0, SPAN, 0, 0, bufs[0]), bad = 0, start;
	uint64_t cpus = 0;
	int n = 1, done = 0;

	check("percpu_reference", !err, "%s", err_str(err));
	if (err)
		return;
	memcpy(reference, bufs[0], sizeof(reference));
	sys_stats(&before);
	if (before.cpus_online > 1)
		n = before.cpus_online < READERS_MAX ? (int)before.cpus_online : READERS_MAX;
	nreaders = n;
	turn = 0;
	for (int i = 0; i < n; i++) {
		readers[i] = (struct reader){ .b = b, .id = i };
		err = thread_start(read_loop, &readers[i], readers[i].stack, STACK);
		if (err < 0) {	/* else the thread's id */
			check("percpu_thread", false, "%s", err_str(err));
			return;
		}
	}
	start = sys_clock_ns();
	while (done < n && sys_clock_ns() - start < WAIT_NS) {
		sys_sleep(10 * 1000000);
		done = 0;
		for (int i = 0; i < n; i++)
			done += readers[i].finished;
	}
	sys_stats(&after);
	err = 0;
	for (int i = 0; i < n; i++) {
		bad += readers[i].bad;
		err = readers[i].err ? readers[i].err : err;
		cpus |= readers[i].cpus;
	}
	printf("blktest: percpu: %d readers, %d reads, on CPUs %#llx, message interrupts %llu\n",
	       n, n * READS, (unsigned long long)cpus,
	       (unsigned long long)(after.irqs_message - before.irqs_message));
	check("percpu_reads", done == n && !err && !bad, "%d of %d readers done, %ld mismatches, %s",
	      done, n, bad, err_str(err));
}
