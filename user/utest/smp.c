// SPDX-License-Identifier: MIT
/*
 * Several CPUs: the TLB shootdowns (kernel/mm/tlb.h) where a grant or a
 * page-out needs them, seen from user space.  Each case needs threads on
 * two CPUs at once (sys_cpu_self() says where one runs) and fails when a
 * stale translation lets a thread reach a frame that changed hands: run
 * with `shootdown=off`, the holder and reader cases must fail
 * (tests/cases/smp.py checks that they do).
 *
 *   smp_holder_window     a holder's writer thread keeps writing through a
 *                         grant's window on one CPU while its other thread
 *                         answers: the writer faults, the faulting process's
 *                         page holds still
 *   smp_reader_pageout    a thread keeps reading its page on one CPU while
 *                         another pages it out and other processes take the
 *                         frame: it faults and reads its own bytes again
 *   smp_fault_storm       threads on every CPU fault the same and
 *                         neighbouring pages in every fill mode, pages
 *                         evicted under them meanwhile
 *   smp_shootdown_counts  take-backs of a grant-map window IPI the holder's
 *                         other CPU; grant-DMA and copy page-ins send none
 */
#include <ferry/sys.h>
#include <stdio.h>
#include <string.h>
#include <thread.h>

#include "utest.h"

#define SPINNER_STACK	16384
#define WRITES_BEFORE	2000	/* the writer's passes over the window before the answer */
#define WATCH_NS	(20 * MSEC_NS)	/* the writer watched after the answer */
#define HOLDER_ROUNDS	4
#define READ_ROUNDS	40
#define STORM_PAGES	64
#define STORM_THREADS	8
#define STORM_EVICTIONS	60	/* runs paged out under the readers, per mode */
#define CHURN_PAGES	64

static long cpus_online(void)
{
	struct sys_stats st;

	CHECK_OK(sys_stats(&st));
	if (st.cpus_online < 2)
		printf("utest: %s needs 2 CPUs, %llu online\n", "the smp cases",
		       (unsigned long long)st.cpus_online);
	CHECK(st.cpus_online >= 2);
	return (long)st.cpus_online;
}

static long threads_now(void)
{
	struct proc_info self;

	CHECK_OK(proc_find(proc_pid(), &self));
	return (long)self.nthreads;
}

/* Until only `n` threads of this process are left (10 s at most). */
static void wait_threads(long n)
{
	long start = sys_clock_ns();

	while (threads_now() > n) {
		CHECK(sys_clock_ns() - start < 2 * UTEST_WAIT_NS);
		sys_sleep(MSEC_NS);
	}
}

static long spin_until(volatile uint64_t *counter, uint64_t at_least)
{
	long start = sys_clock_ns();

	while (*counter < at_least) {
		if (sys_clock_ns() - start > UTEST_WAIT_NS)
			return ERR_TIMEOUT;
		sys_yield();
	}
	return 0;
}

/* --- a holder writing through its window while the grant is taken back --- */

struct writer {
	uint8_t *volatile window;	/* set by the answering thread */
	volatile uint64_t passes;
	volatile long cpu;
};

/* Ends only by faulting: the kernel ends the thread whose window went away. */
static void write_window(void *arg)
{
	struct writer *w = arg;
	uint64_t n = 0;

	while (!w->window)
		;
	for (;;) {
		uint64_t *p = (uint64_t *)w->window;

		for (int i = 0; i < UTEST_PAGE / 8; i++)
			p[i] = n;
		w->cpu = sys_cpu_self();
		w->passes = ++n;
	}
}

/* One round: a grant's holder writing on one CPU, answered from another. */
static void holder_window_once(int round)
{
	static char stack[SPINNER_STACK] __attribute__((aligned(16)));
	static struct writer w;
	struct pager_request rq;
	struct tpager tp;
	long prev, child, me, start;
	uint64_t after;

	memset(&w, 0, sizeof(w));
	prev = vm_faultpath(FILL_GRANT_MAP);
	tpager_open(&tp);
	child = tpager_client(tp.port, 7, 0, 1, "stable");
	CHECK_OK(thread_start(write_window, &w, stack, sizeof(stack)));
	tpager_recv(&tp, &rq, UTEST_WAIT_NS);
	CHECK_EQ(rq.mode, FILL_GRANT_MAP);
	CHECK(rq.window != NULL);
	w.window = rq.window;
	CHECK_OK(spin_until(&w.passes, WRITES_BEFORE));
	me = sys_cpu_self();
	printf("utest: round %d: writer on cpu %ld (%llu passes), answering on cpu %ld\n", round,
	       w.cpu, (unsigned long long)w.passes, me);
	CHECK(w.cpu != me);	/* else nothing here tests a remote translation */
	CHECK_OK(pager_answer_ok(&rq, 1, tp.buf));
	/*
	 * The take-back removed the window on the writer's CPU, acknowledged
	 * before the answer returned: the writer may finish the pass it was
	 * in, never another.  Watched while it dies, because with a stale
	 * translation it goes on until its CPU next switches address space,
	 * which a thread woken meanwhile (the child) may cause soon: its
	 * death alone would not tell.
	 */
	after = w.passes;
	start = sys_clock_ns();
	while (threads_now() > 1 && sys_clock_ns() - start < WATCH_NS)
		;
	if (w.passes > after + 1)
		printf("utest: the writer made %llu passes after the take-back\n",
		       (unsigned long long)(w.passes - after));
	CHECK(w.passes <= after + 1);
	wait_threads(1);
	utest_reap(child, 0);
	tpager_close(&tp);
	vm_faultpath(prev);
}

/*
 * Several rounds, because a stale translation shows only while the
 * writer's CPU stays in its address space: with `shootdown=off` a round
 * whose CPU happened to switch at once would pass, never all of them.
 */
UTEST(smp_holder_window)
{
	cpus_online();
	for (int round = 1; round <= HOLDER_ROUNDS; round++)
		holder_window_once(round);
	return 0;
}

/* --- a reader on one CPU, a page-out on another, the frame reused --- */

struct reader {
	const uint8_t *page;
	uint32_t seed;
	volatile int stop;
	volatile uint64_t reads;
	volatile long cpu;
	volatile long bad_at;		/* first wrong byte, or -1 */
	volatile int bad_value;
};

static void read_page(void *arg)
{
	static uint8_t want[UTEST_PAGE];
	struct reader *r = arg;

	utest_fill(want, r->seed);
	while (!r->stop) {
		for (long i = 0; i < UTEST_PAGE; i++) {
			uint8_t got = r->page[i];

			if (got != want[i]) {
				r->bad_value = got;
				r->bad_at = i;
				return;
			}
		}
		r->cpu = sys_cpu_self();
		r->reads++;
	}
}

/* utest smp_churn PARENT: maps, writes its own bytes into and unmaps
 * pages, over and over, so the frames others free are taken again at
 * once; until the case kills it, or it finds the case gone. */
UTEST_HELPER(smp_churn)
{
	long parent = utest_arg(argc, argv, 2);
	struct proc_info info;

	while (proc_find(parent, &info) == 0) {
		uint8_t *p = (uint8_t *)CHECK_OK(sys_mem_map(NULL, CHURN_PAGES * UTEST_PAGE,
							    PROT_READ | PROT_WRITE));

		memset(p, 0x5A, CHURN_PAGES * UTEST_PAGE);
		CHECK_OK(sys_mem_unmap(p, CHURN_PAGES * UTEST_PAGE));
	}
	return 0;
}

static void reader_pageout(long mode)
{
	static char stack[SPINNER_STACK] __attribute__((aligned(16)));
	static struct reader r;
	struct fault_stats st0[FILL_NMODES], st1[FILL_NMODES];
	uint8_t *page = (uint8_t *)CHECK_OK(sys_mem_map(NULL, UTEST_PAGE, PROT_READ | PROT_WRITE));
	long churn = utest_spawn("smp_churn", "%ld", proc_pid()), prev = vm_faultpath(mode);
	long apart = 0;

	r = (struct reader){ .page = page, .seed = (uint32_t)(proc_pid() * 31 + mode),
			     .bad_at = -1, .cpu = -1 };
	utest_fill(page, r.seed);
	CHECK_OK(thread_start(read_page, &r, stack, sizeof(stack)));
	CHECK_OK(spin_until(&r.reads, 100));
	vm_stats(st0);
	for (int round = 0; round < READ_ROUNDS && r.bad_at < 0; round++) {
		struct fault_stats a[FILL_NMODES], b[FILL_NMODES];
		uint64_t before = r.reads;

		vm_stats(a);
		/* 1, or 0 when the reader faulted it back in before we looked */
		CHECK(sys_vm_ctl(VM_CTL_EVICT, UTEST_PAGE, page) >= 0);
		vm_stats(b);
		apart += b[mode].tlb_ipis > a[mode].tlb_ipis;	/* the reader's CPU was asked */
		sys_sleep(2 * MSEC_NS);		/* the churner takes the frame meanwhile */
		/* faulted back in and read on, or stopped at a wrong byte */
		while (r.reads < before + 10 && r.bad_at < 0)
			sys_yield();
	}
	r.stop = 1;
	wait_threads(1);
	vm_stats(st1);
	CHECK_OK(sys_kill(churn));
	utest_reap(churn, PROC_STATUS_KILLED);
	printf("utest: reader %s: %llu reads, %ld of %d page-outs shot down another CPU, "
	       "%llu pages in, %llu shootdown IPIs\n", pager_mode_name((uint32_t)mode),
	       (unsigned long long)r.reads, apart, READ_ROUNDS,
	       (unsigned long long)(st1[mode].pages_in - st0[mode].pages_in),
	       (unsigned long long)(st1[mode].tlb_ipis - st0[mode].tlb_ipis));
	if (r.bad_at >= 0)
		printf("utest: the reader saw byte %ld of its page as %#x: another's frame\n",
		       r.bad_at, r.bad_value);
	CHECK(r.bad_at < 0);
	/* Else no page-out raced the reader on another CPU (shootdown=off
	 * counts none either: the reader's wrong byte fails it first). */
	CHECK(apart > 0 || r.bad_at >= 0);
	CHECK(st1[mode].pages_in - st0[mode].pages_in >= READ_ROUNDS);
	CHECK_OK(sys_mem_unmap(page, UTEST_PAGE));
	vm_faultpath(prev);
}

UTEST(smp_reader_pageout)
{
	cpus_online();
	vm_need_swap();
	reader_pageout(FILL_COPY);
	reader_pageout(FILL_GRANT_MAP);
	return 0;
}

/* --- threads on every CPU on the same and neighbouring pages --- */

struct storm {
	uint8_t *base;
	uint32_t seed;
	volatile int started, go, stop;
	volatile int done, wrong;
	volatile uint64_t cpus_seen;	/* bit per CPU a reader ran on */
};

static uint32_t storm_seed(const struct storm *s, long i)
{
	return s->seed + (uint32_t)i;
}

/* Passes over every page until told to stop (at least three). */
static void storm_read(void *arg)
{
	struct storm *s = arg;
	long tid = __atomic_add_fetch(&s->started, 1, __ATOMIC_ACQ_REL);

	while (!s->go)		/* all start at once: on every CPU */
		;
	for (int pass = 0; pass < 3 || !s->stop; pass++) {
		for (long k = 0; k < STORM_PAGES; k++) {
			/* each thread starts elsewhere: neighbours and the same pages at once */
			long i = (k + tid * 3) % STORM_PAGES;

			if (!utest_filled(s->base + i * UTEST_PAGE, storm_seed(s, i)))
				__atomic_add_fetch(&s->wrong, 1, __ATOMIC_RELAXED);
		}
		__atomic_fetch_or(&s->cpus_seen, 1ULL << sys_cpu_self(), __ATOMIC_RELAXED);
	}
	__atomic_add_fetch(&s->done, 1, __ATOMIC_RELEASE);
}

static void storm(long mode, long nthreads)
{
	static char stacks[STORM_THREADS][SPINNER_STACK] __attribute__((aligned(16)));
	static struct storm s;
	long prev = vm_faultpath(mode), start, evictions = 0;

	s = (struct storm){ .seed = (uint32_t)(proc_pid() * 131 + mode * 7) };
	s.base = (uint8_t *)CHECK_OK(sys_mem_map(NULL, STORM_PAGES * UTEST_PAGE,
						 PROT_READ | PROT_WRITE));
	for (long i = 0; i < STORM_PAGES; i++)
		utest_fill(s.base + i * UTEST_PAGE, storm_seed(&s, i));
	CHECK_EQ(sys_vm_ctl(VM_CTL_EVICT, STORM_PAGES * UTEST_PAGE, s.base), STORM_PAGES);
	for (long t = 0; t < nthreads; t++)
		CHECK_OK(thread_start(storm_read, &s, stacks[t], sizeof(stacks[t])));
	while (s.started < nthreads)
		sys_yield();
	s.go = 1;
	/* Meanwhile this thread pages runs of 8 out again under the readers. */
	start = sys_clock_ns();
	while (__atomic_load_n(&s.done, __ATOMIC_ACQUIRE) < nthreads) {
		long at = (evictions * 5) % (STORM_PAGES - 8);

		CHECK(sys_clock_ns() - start < 4 * UTEST_WAIT_NS);
		CHECK(sys_vm_ctl(VM_CTL_EVICT, 8 * UTEST_PAGE, s.base + at * UTEST_PAGE) >= 0);
		if (++evictions == STORM_EVICTIONS)
			s.stop = 1;
		sys_sleep(MSEC_NS);
	}
	wait_threads(1);
	printf("utest: storm %s: %ld threads on CPUs %#llx, %ld evictions under them, "
	       "%d wrong pages\n", pager_mode_name((uint32_t)mode), nthreads,
	       (unsigned long long)s.cpus_seen, evictions, s.wrong);
	CHECK_EQ(s.wrong, 0);
	CHECK(__builtin_popcountll(s.cpus_seen) >= 2);
	CHECK_OK(sys_mem_unmap(s.base, STORM_PAGES * UTEST_PAGE));
	vm_faultpath(prev);
}

UTEST(smp_fault_storm)
{
	long n = cpus_online() * 2;

	vm_need_swap();
	if (n > STORM_THREADS)
		n = STORM_THREADS;
	for (long mode = 0; mode < FILL_NMODES; mode++)
		storm(mode, n);
	return 0;
}

/* --- which page-ins shoot down, and which do not --- */

static void spin_forever(void *arg)
{
	volatile long *cpu = arg;

	for (;;)
		*cpu = sys_cpu_self();
}

/* => shootdown IPIs of mode for `pages` page-ins served with the holder's
 *    second thread spinning on another CPU. */
static uint64_t ipis_for_page_ins(struct tpager *tp, long mode, int pages)
{
	struct fault_stats st0[FILL_NMODES], st1[FILL_NMODES];
	long child;

	vm_faultpath(mode);
	CHECK_OK(sys_vm_ctl(VM_CTL_CLUSTER, 1, NULL));
	vm_stats(st0);
	/* Nothing fills a DMA grant here (no device): its pages stay zero. */
	child = tpager_client(tp->port, 11 + (uint64_t)mode, 0, pages,
			     mode == FILL_GRANT_DMA ? "zero" : "read");
	tpager_serve_until_exit(tp, child, 0);
	vm_stats(st1);
	CHECK_EQ(st1[mode].faults - st0[mode].faults, pages);
	return st1[mode].tlb_ipis - st0[mode].tlb_ipis;
}

UTEST(smp_shootdown_counts)
{
	static char stack[SPINNER_STACK] __attribute__((aligned(16)));
	static volatile long spinner_cpu = -1;
	long prev = CHECK_OK(sys_vm_ctl(VM_CTL_FAULTPATH_GET, 0, NULL));
	uint64_t copy, map, dma;
	struct tpager tp;

	cpus_online();
	tpager_open(&tp);
	CHECK_OK(thread_start(spin_forever, (void *)&spinner_cpu, stack, sizeof(stack)));
	while (spinner_cpu < 0)
		sys_yield();
	copy = ipis_for_page_ins(&tp, FILL_COPY, 8);
	map = ipis_for_page_ins(&tp, FILL_GRANT_MAP, 8);
	dma = ipis_for_page_ins(&tp, FILL_GRANT_DMA, 8);
	printf("utest: shootdown IPIs for 8 page-ins, the holder on 2 CPUs: copy %llu, "
	       "grant %llu, dma %llu\n", (unsigned long long)copy, (unsigned long long)map,
	       (unsigned long long)dma);
	CHECK_EQ(copy, 0);	/* nothing of the holder's was mapped */
	/* Take-backs reach the spinner's CPU (a few may find the answering
	 * thread there, the other CPU running the client: then none is due). */
	CHECK(map >= 4);
	CHECK_EQ(dma, 0);	/* a DMA grant has no mapping to take back */
	CHECK_OK(sys_vm_ctl(VM_CTL_CLUSTER, 8, NULL));
	vm_faultpath(prev);
	return 0;	/* the spinner ends with the process */
}
