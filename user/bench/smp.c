// SPDX-License-Identifier: MIT
/*
 * bench smp: TLB shootdowns per fault and per page, by fill mode and
 * cluster size, with the holder's threads on one CPU or on two
 * (docs/BENCHMARKS.md, "Several CPUs").  Counts, not times: under
 * multi-threaded TCG a cycle count says little (icount would serialise the
 * CPUs), the number of IPIs and remote invalidations says what real
 * hardware would pay.
 *
 * Page-ins: this process is the pager, so it holds the grants.  A child
 * (`bench smp-client`) maps PAGES pages of an object of ours and reads
 * them in order; we answer each request (the bytes in a message in copy
 * mode, written through the window in grant-map mode, nothing in DMA mode:
 * no device here, the pages stay zero).  `alone`: our one thread answers;
 * `spread`: a second thread of ours spins on the other CPU meanwhile, so
 * our translations live there too and a take-back must reach it.
 * Page-outs: PAGES pages of our own go to swapd's store (VM_CTL_EVICT, in
 * runs of up to 8), alone or with the spinner.
 *
 *   bench smp ROUNDS PAGES
 *
 * Output, one line per cell, then `bench smp: done`:
 *   smp kind=pagein|pageout holder=alone|spread mode=M cluster=C served=M2
 *       requests=N pages=N ipis=N remote=N acks=N wait_cycles=N all_ipis=N
 *       lock_wakes=N tag=T
 * (kernel counters, VM_CTL_STATS, of the mode that served the cell, summed
 * over the rounds; requests: page-in faults, 0 for page-outs, whose runs
 * the statistics do not count; all_ipis and lock_wakes from sys_stats:
 * IPIs of every kind any CPU sent meanwhile, and of them those that woke
 * a CPU halted waiting for the kernel lock).  tag: the cell's region tag for the
 * cost-model plugin (<ferry/costmark.h>): each page the client reads is a
 * region, and each page-out call; the plugin counts every CPU's work in
 * them (IPIs as the local APIC sees them sent, invlpg, instructions).
 */
#include <ferry/costmark.h>
#include <ferry/err.h>
#include <ferry/sys.h>
#include <pager.h>
#include <proc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <thread.h>

#include "bench.h"

#define PAGE		4096UL
#define NCLUSTERS	3
#define SPIN_STACK	16384
#define SERVE_WAIT_NS	(30 * SEC_NS)

static const int clusters[NCLUSTERS] = { 1, 8, 32 };

/* The plugin's tag of a cell: 1.. page-ins, then page-outs; 0 the warm-up. */
static unsigned cell_tag(bool pagein, int mode, int ci, bool spread)
{
	if (pagein)
		return 1 + (unsigned)((mode * NCLUSTERS + ci) * 2 + spread);
	return 1 + FILL_NMODES * NCLUSTERS * 2 + (unsigned)(mode * 2 + spread);
}
static const char *const mode_names[FILL_NMODES] = { "copy", "grant", "dma" };

struct tally {
	uint64_t requests, pages, ipis, remote, acks, wait_cycles;
	uint64_t all_ipis, lock_wakes;
	int served;
};

/* The fault statistics of every mode and the IPIs of every kind. */
struct snapshot {
	struct fault_stats fs[FILL_NMODES];
	struct sys_stats sys;
};

static volatile int spin_stop, spinning;

static void spin(void *arg)
{
	(void)arg;
	spinning = 1;
	while (!spin_stop)
		;
	spinning = 0;
}

/* A second thread of ours busy on another CPU, or none (alone). */
static void spinner_start(bool spread)
{
	static char stack[SPIN_STACK] __attribute__((aligned(16)));

	if (!spread)
		return;
	spin_stop = 0;
	if (thread_start(spin, NULL, stack, sizeof(stack)) < 0)
		return;
	while (!spinning)
		sys_yield();
}

/* Until the spinner's thread has left the kernel too: while it exits on the
 * other CPU, that CPU still runs a thread of ours. */
static void spinner_stop(void)
{
	struct proc_info self;

	spin_stop = 1;
	while (spinning || (proc_find(proc_pid(), &self) == 0 && self.nthreads > 1))
		sys_yield();
}

static void stats(struct snapshot *s)
{
	sys_vm_ctl(VM_CTL_STATS, 0, s->fs);
	sys_stats(&s->sys);
}

/* The mode whose counters moved: the one that served the cell. */
static void add(struct tally *t, const struct snapshot *sa, const struct snapshot *sb,
		bool page_in)
{
	const struct fault_stats *a = sa->fs, *b = sb->fs;
	int m = 0;

	t->all_ipis += sb->sys.ipis_sent - sa->sys.ipis_sent;
	t->lock_wakes += sb->sys.ipis_lock_wake - sa->sys.ipis_lock_wake;
	for (int k = 0; k < FILL_NMODES; k++)
		if ((page_in ? b[k].pages_in - a[k].pages_in : b[k].pages_out - a[k].pages_out) >
		    (page_in ? b[m].pages_in - a[m].pages_in : b[m].pages_out - a[m].pages_out))
			m = k;
	t->served = m;
	t->requests += page_in ? b[m].faults - a[m].faults : 0;
	t->pages += page_in ? b[m].pages_in - a[m].pages_in : b[m].pages_out - a[m].pages_out;
	t->ipis += b[m].tlb_ipis - a[m].tlb_ipis;
	t->remote += b[m].tlb_remote_pages - a[m].tlb_remote_pages;
	t->acks += b[m].tlb_acks - a[m].tlb_acks;
	t->wait_cycles += b[m].tlb_wait_cycles - a[m].tlb_wait_cycles;
}

static void print(const char *kind, bool spread, int mode, int cluster, const struct tally *t,
		  unsigned tag)
{
	printf("smp kind=%s holder=%s mode=%s cluster=%d served=%s requests=%llu pages=%llu "
	       "ipis=%llu remote=%llu acks=%llu wait_cycles=%llu all_ipis=%llu lock_wakes=%llu "
	       "tag=%u\n", kind,
	       spread ? "spread" : "alone", mode_names[mode], cluster, mode_names[t->served],
	       (unsigned long long)t->requests, (unsigned long long)t->pages,
	       (unsigned long long)t->ipis, (unsigned long long)t->remote,
	       (unsigned long long)t->acks, (unsigned long long)t->wait_cycles,
	       (unsigned long long)t->all_ipis, (unsigned long long)t->lock_wakes, tag);
}

/* --- page-ins from our own pager --- */

/* bench smp-client PORT OBJECT PAGES: reads every page of the mapping. */
static int client(int argc, char **argv)
{
	uint64_t port, object, pages;
	volatile const uint8_t *base;
	long ret;

	if (argc < 5 || str_to_u64(argv[2], 10, &port, NULL) < 0 ||
	    str_to_u64(argv[3], 10, &object, NULL) < 0 || str_to_u64(argv[4], 10, &pages, NULL) < 0)
		return 2;
	ret = sys_mem_map_pager((long)port, object, 0, (long)(pages * PAGE), PROT_READ);
	if (ret < 0) {
		printf("bench smp-client: map: %s\n", err_str(ret));
		return 1;
	}
	base = (volatile const uint8_t *)ret;
	for (uint64_t i = 0; i < pages; i++) {
		cost_begin();	/* the tag our parent selected */
		(void)base[i * PAGE];
		cost_end();
	}
	return 0;
}

static long answer(const struct pager_request *rq, uint8_t *buf)
{
	uint8_t *dst = rq->mode == FILL_COPY ? buf : rq->window;

	if (rq->op == PAGER_PAGE_IN && dst)
		for (int i = 0; i < rq->npages; i++)
			memset(dst + (size_t)i * PAGE, (int)(rq->key / PAGE + (uint64_t)i), PAGE);
	return pager_answer_ok(rq, rq->npages, buf);
}

/* Answers the child's requests until it ends.  => its exit status, or an error. */
static long serve(long port, uint8_t *buf, long child)
{
	long start = sys_clock_ns(), status = 0;

	while (sys_wait(child, &status, 0) == ERR_TIMEOUT) {
		struct pager_request rq;
		struct msg m;
		long ret;

		if (sys_clock_ns() - start > SERVE_WAIT_NS) {
			sys_kill(child);
			return ERR_TIMEOUT;
		}
		pager_recv_prepare(&m, buf);
		ret = sys_recv(port, &m, 10 * MSEC_NS);
		if (ret == ERR_TIMEOUT)
			continue;
		if (ret < 0 || pager_request_decode(&m, &rq) < 0 || answer(&rq, buf) < 0)
			return ret < 0 ? ret : ERR_INVAL;
	}
	return status;
}

static long pagein_cell(long port, uint8_t *buf, int mode, int cluster, bool spread,
			long pages, uint64_t object, struct tally *t, unsigned tag)
{
	struct snapshot a, b;
	char args[96];
	long child, ret;

	sys_vm_ctl(VM_CTL_FAULTPATH_SET, mode, NULL);
	sys_vm_ctl(VM_CTL_CLUSTER, cluster, NULL);
	snprintf(args, sizeof(args), "bench smp-client %ld %llu %ld", port,
		 (unsigned long long)object, pages);
	spinner_start(spread);
	cost_select(tag);
	stats(&a);
	child = proc_spawn_self(args);
	ret = child < 0 ? child : serve(port, buf, child);
	stats(&b);
	spinner_stop();
	if (ret)
		return ret;
	add(t, &a, &b, true);
	return 0;
}

/* --- page-outs of our own pages --- */

static long pageout_cell(int mode, bool spread, long pages, struct tally *t, unsigned tag)
{
	struct snapshot a, b;
	long ret = sys_mem_map(NULL, pages * (long)PAGE, PROT_READ | PROT_WRITE), out;
	uint8_t *p = (uint8_t *)ret;

	if (ret < 0)
		return ret;
	for (long i = 0; i < pages; i++)
		memset(p + i * PAGE, (int)i, PAGE);
	sys_vm_ctl(VM_CTL_FAULTPATH_SET, mode, NULL);
	spinner_start(spread);
	cost_select(tag);
	stats(&a);
	cost_begin();
	out = sys_vm_ctl(VM_CTL_EVICT, pages * (long)PAGE, p);
	cost_end();
	stats(&b);
	spinner_stop();
	sys_mem_unmap(p, pages * (long)PAGE);
	if (out < 0)
		return out;
	add(t, &a, &b, false);
	return 0;
}

/* argv[i] as a number, dflt if absent, -1 if it is no number. */
static long number(int argc, char **argv, int i, long dflt)
{
	uint64_t v;

	if (argc <= i)
		return dflt;
	return str_to_u64(argv[i], 10, &v, NULL) < 0 || v > 1000000 ? -1 : (long)v;
}

int bench_smp(int argc, char **argv)
{
	long rounds = number(argc, argv, 2, 2), pages = number(argc, argv, 3, 64);
	long prev_mode = sys_vm_ctl(VM_CTL_FAULTPATH_GET, 0, NULL), port, err = 0;
	struct tally pin[FILL_NMODES][NCLUSTERS][2], pout[FILL_NMODES][2];
	uint64_t object = 1;
	struct sys_stats st;
	uint8_t *buf;

	if (argc > 1 && !strcmp(argv[1], "smp-client"))
		return client(argc, argv);
	if (rounds < 1 || pages < 1 || pages > 4096 || sys_stats(&st) < 0) {
		printf("usage: bench smp [ROUNDS] [PAGES, 1..4096]\n");
		return 2;
	}
	port = sys_port_create(16);
	buf = (uint8_t *)sys_mem_map(NULL, PAGER_BUF_SIZE, PROT_READ | PROT_WRITE);
	if (port < 0 || (long)buf < 0 || sys_pager_modes(port, FILL_ALL_MODES) < 0) {
		printf("bench smp: cannot be a pager here (the `pager` right?)\n");
		return 1;
	}
	printf("bench smp cpus=%llu rounds=%ld pages=%ld\n", (unsigned long long)st.cpus_online,
	       rounds, pages);
	memset(pin, 0, sizeof(pin));
	memset(pout, 0, sizeof(pout));
	/* A first client, not counted: its program's pages come in now. */
	err = pagein_cell(port, buf, FILL_COPY, 1, false, 1, object++, &pout[0][0], 0);
	memset(pout, 0, sizeof(pout));
	for (long r = 0; r < rounds && !err; r++) {
		for (int m = 0; m < FILL_NMODES && !err; m++) {
			for (int c = 0; c < NCLUSTERS && !err; c++)
				for (int s = 0; s < 2 && !err; s++)
					err = pagein_cell(port, buf, m, clusters[c], s, pages, object++,
							  &pin[m][c][s], cell_tag(true, m, c, s));
			for (int s = 0; s < 2 && !err; s++)
				err = pageout_cell(m, s, pages, &pout[m][s], cell_tag(false, m, 0, s));
		}
	}
	sys_vm_ctl(VM_CTL_CLUSTER, 8, NULL);
	sys_vm_ctl(VM_CTL_FAULTPATH_SET, prev_mode, NULL);
	if (err) {
		printf("bench smp: %s\n", err_str(err));
		return 1;
	}
	for (int m = 0; m < FILL_NMODES; m++) {
		for (int c = 0; c < NCLUSTERS; c++)
			for (int s = 0; s < 2; s++)
				print("pagein", s, m, clusters[c], &pin[m][c][s],
				      cell_tag(true, m, c, s));
		for (int s = 0; s < 2; s++)
			print("pageout", s, m, 8, &pout[m][s], cell_tag(false, m, 0, s));
	}
	cost_dump();	/* the plugin's file, if it runs: complete now */
	printf("bench smp: done\n");
	return 0;
}
