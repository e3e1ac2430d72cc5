// SPDX-License-Identifier: MIT
/*
 * Virtual memory: demand-zero pages, eviction to swapd and back in each
 * fault path, many threads on the same swapped pages, processes that die
 * or unmap while their page is in flight, switching the fault path, and
 * the stress cases that touch more memory than there is.
 */
#include <ferry/sys.h>
#include <proto/swapd.h>
#include <stdio.h>
#include <thread.h>

#include "utest.h"

#define ZERO_PAGES	64
#define ROUNDTRIP_PAGES	256
#define SHARED_PAGES	64
#define READERS		4
#define READER_STACK	16384
#define STRESS_MARGIN	512	/* swap slots left for everyone else's pages */
#define STRESS_FACTOR	3	/* pages touched per free frame, as swap allows */

static size_t pages_len(long n)
{
	return (size_t)n * UTEST_PAGE;
}

static uint8_t *map_anon(long npages)
{
	return (uint8_t *)CHECK_OK(sys_mem_map(NULL, (long)pages_len(npages),
					       PROT_READ | PROT_WRITE));
}

static long resident_pages(void)
{
	struct proc_info self;

	CHECK_OK(proc_find(proc_pid(), &self));
	return (long)self.resident_pages;
}

UTEST(vm_demand_zero)
{
	const uint64_t *w;
	long before, i, k;
	uint8_t *p;

	before = resident_pages();
	p = map_anon(ZERO_PAGES);
	/* Mapping costs no memory: pages come on first touch, one each. */
	CHECK_EQ(resident_pages(), before);
	for (i = 0; i < ZERO_PAGES; i++)
		CHECK_EQ(vm_page_state(p + pages_len(i)), PAGE_ABSENT);
	for (i = 0; i < ZERO_PAGES; i += 2) {
		w = (const uint64_t *)(p + pages_len(i));
		for (k = 0; k < UTEST_PAGE / 8; k++)
			CHECK_EQ(w[k], 0);
		CHECK_EQ(vm_page_state(w), PAGE_RESIDENT);
	}
	CHECK_EQ(resident_pages(), before + ZERO_PAGES / 2);
	CHECK_EQ(vm_page_state(p + UTEST_PAGE), PAGE_ABSENT);
	p[UTEST_PAGE] = 1;
	CHECK_EQ(p[UTEST_PAGE], 1);
	CHECK_EQ(vm_page_state(p + UTEST_PAGE), PAGE_RESIDENT);
	CHECK_OK(sys_mem_unmap(p, (long)pages_len(ZERO_PAGES)));
	CHECK_EQ(resident_pages(), before);
	return 0;
}

static uint32_t page_seed(long i)
{
	return (uint32_t)(proc_pid() * 7 + i);
}

/* Evicts all of [p, p + n pages) and checks that each page went to swap. */
static void evict_all(uint8_t *p, long n)
{
	long i;

	CHECK_EQ(sys_vm_ctl(VM_CTL_EVICT, (long)pages_len(n), p), n);
	for (i = 0; i < n; i++)
		CHECK_EQ(vm_page_state(p + pages_len(i)), PAGE_SWAPPED);
}

static void evict_roundtrip(long mode)
{
	struct fault_stats st0[FILL_NMODES], st1[FILL_NMODES];
	struct sys_stats before, after;
	long prev, i, m;
	uint8_t *p;

	vm_need_swap();
	prev = vm_faultpath(mode);
	CHECK_OK(sys_stats(&before));
	p = map_anon(ROUNDTRIP_PAGES);
	for (i = 0; i < ROUNDTRIP_PAGES; i++)
		utest_fill(p + pages_len(i), page_seed(i));
	vm_stats(st0);
	evict_all(p, ROUNDTRIP_PAGES);
	CHECK_OK(sys_stats(&after));
	CHECK_EQ(after.swap_slots_used, before.swap_slots_used + ROUNDTRIP_PAGES);
	for (i = ROUNDTRIP_PAGES - 1; i >= 0; i--)
		CHECK(utest_filled(p + pages_len(i), page_seed(i)));
	vm_stats(st1);
	CHECK_OK(sys_stats(&after));
	CHECK_EQ(after.swap_slots_used, before.swap_slots_used);
	CHECK(st1[mode].pages_out - st0[mode].pages_out >= ROUNDTRIP_PAGES);
	CHECK(st1[mode].pages_in - st0[mode].pages_in >= ROUNDTRIP_PAGES);
	for (m = 0; m < FILL_NMODES; m++) {
		if (m == FILL_COPY && mode == FILL_COPY)
			CHECK(st1[m].bytes_copied - st0[m].bytes_copied >=
			      2 * pages_len(ROUNDTRIP_PAGES));
		else
			CHECK_EQ(st1[m].bytes_copied, st0[m].bytes_copied);
	}
	printf("utest: %s: %llu pages out, %llu in, %llu requests in\n", pager_mode_name(mode),
	       (unsigned long long)(st1[mode].pages_out - st0[mode].pages_out),
	       (unsigned long long)(st1[mode].pages_in - st0[mode].pages_in),
	       (unsigned long long)(st1[mode].faults - st0[mode].faults));
	CHECK_OK(sys_mem_unmap(p, (long)pages_len(ROUNDTRIP_PAGES)));
	vm_faultpath(prev);
}

UTEST(vm_evict_roundtrip_copy)
{
	evict_roundtrip(FILL_COPY);
	return 0;
}

UTEST(vm_evict_roundtrip_grant)
{
	evict_roundtrip(FILL_GRANT_MAP);
	return 0;
}

UTEST(vm_faultpath_switch)
{
	long prev = CHECK_OK(sys_vm_ctl(VM_CTL_FAULTPATH_GET, 0, NULL)), m;

	CHECK(prev < FILL_NMODES);
	for (m = 0; m < FILL_NMODES; m++) {
		CHECK_OK(sys_vm_ctl(VM_CTL_FAULTPATH_SET, m, NULL));
		CHECK_EQ(sys_vm_ctl(VM_CTL_FAULTPATH_GET, 0, NULL), m);
	}
	CHECK_EQ(sys_vm_ctl(VM_CTL_FAULTPATH_SET, FILL_NMODES, NULL), ERR_INVAL);
	CHECK_EQ(sys_vm_ctl(VM_CTL_FAULTPATH_SET, -1, NULL), ERR_INVAL);
	/* A refused switch changes nothing. */
	CHECK_EQ(sys_vm_ctl(VM_CTL_FAULTPATH_GET, 0, NULL), FILL_NMODES - 1);
	CHECK_EQ(sys_vm_ctl(VM_CTL_CLUSTER, 0, NULL), ERR_INVAL);
	CHECK_EQ(sys_vm_ctl(VM_CTL_CLUSTER, GRANT_MAX_PAGES + 1, NULL), ERR_INVAL);
	CHECK_EQ(sys_vm_ctl(0, 0, NULL), ERR_INVAL);
	CHECK_OK(sys_vm_ctl(VM_CTL_FAULTPATH_SET, prev, NULL));
	CHECK_EQ(sys_vm_ctl(VM_CTL_FAULTPATH_GET, 0, NULL), prev);
	return 0;
}

/* --- many threads, the same swapped pages --- */

struct readers {
	uint8_t *base;
	int go, done;
	int wrong;
};

static void read_all(void *arg)
{
	struct readers *r = arg;
	long i;

	while (!__atomic_load_n(&r->go, __ATOMIC_ACQUIRE))
		sys_yield();
	for (i = 0; i < SHARED_PAGES; i++) {
		if (!utest_filled(r->base + pages_len(i), page_seed(i)))
			__atomic_add_fetch(&r->wrong, 1, __ATOMIC_RELAXED);
	}
	__atomic_add_fetch(&r->done, 1, __ATOMIC_RELEASE);
}

static uint64_t faults_sum(const struct fault_stats st[FILL_NMODES])
{
	uint64_t n = 0;
	int m;

	for (m = 0; m < FILL_NMODES; m++)
		n += st[m].faults;
	return n;
}

/* One request per page at most: a thread that finds the page in flight waits for it. */
UTEST(vm_threads_same_pages)
{
	static char stacks[READERS][READER_STACK] __attribute__((aligned(16)));
	static struct readers r;
	struct fault_stats st0[FILL_NMODES], st1[FILL_NMODES];
	long i, start;

	vm_need_swap();
	r.base = map_anon(SHARED_PAGES);
	for (i = 0; i < SHARED_PAGES; i++)
		utest_fill(r.base + pages_len(i), page_seed(i));
	evict_all(r.base, SHARED_PAGES);
	for (i = 0; i < READERS; i++)
		CHECK_OK(thread_start(read_all, &r, stacks[i], sizeof(stacks[i])));
	vm_stats(st0);
	__atomic_store_n(&r.go, 1, __ATOMIC_RELEASE);
	start = sys_clock_ns();
	while (__atomic_load_n(&r.done, __ATOMIC_ACQUIRE) < READERS) {
		CHECK(sys_clock_ns() - start < 2 * UTEST_WAIT_NS);
		sys_sleep(MSEC_NS);
	}
	vm_stats(st1);
	printf("utest: %d threads, %d pages: %llu page-in requests\n", READERS, SHARED_PAGES,
	       (unsigned long long)(faults_sum(st1) - faults_sum(st0)));
	CHECK_EQ(r.wrong, 0);
	CHECK(faults_sum(st1) - faults_sum(st0) <= SHARED_PAGES);
	return 0;
}

/* --- the faulting process goes away while its page is in flight --- */

/* The grant is ours until we answer, unless the kernel ended it on the child's death. */
static long answer_for_the_dead(struct tpager *tp, const struct pager_request *rq)
{
	struct grant_info info;

	if (rq->mode == FILL_GRANT_MAP && sys_grant_info(rq->grant, &info) != 0)
		return pager_answer_ok(rq, rq->npages, tp->buf);
	return tpager_answer(tp, rq);
}

static void exit_inflight(long mode)
{
	struct pager_request rq;
	struct sys_stats before;
	struct tpager tp;
	long prev, child, ret;

	prev = vm_faultpath(mode);
	CHECK_OK(sys_stats(&before));
	tpager_open(&tp);
	child = tpager_client(tp.port, 1, 0, 1, "read");
	tpager_recv(&tp, &rq, UTEST_WAIT_NS);
	utest_wait_state(child, THREAD_BLOCKED_PAGER);
	CHECK_OK(sys_kill(child));
	utest_reap(child, PROC_STATUS_KILLED);
	/* Whether the kernel still takes the answer or not, nothing may leak. */
	ret = answer_for_the_dead(&tp, &rq);
	CHECK(ret == 0 || ret == ERR_BADHANDLE);
	vm_check_idle(&before);
	tpager_close(&tp);
	vm_faultpath(prev);
}

UTEST(vm_exit_inflight)
{
	exit_inflight(FILL_COPY);
	exit_inflight(FILL_GRANT_MAP);
	return 0;
}

static void munmap_during_fault(long mode)
{
	struct pager_request rq;
	struct sys_stats before;
	struct tpager tp;
	struct msg note = { 0 };
	long prev, child;

	prev = vm_faultpath(mode);
	CHECK_OK(sys_stats(&before));
	tpager_open(&tp);
	child = tpager_client(tp.port, 2, 0, 1, "unmap");
	tpager_recv(&tp, &rq, UTEST_WAIT_NS);
	CHECK_OK(sys_recv(tp.port, &note, UTEST_WAIT_NS));
	CHECK_EQ(note.sender, child);
	CHECK_EQ(note.op, TPAGER_UNMAPPED);
	/* Unmapping does not end the request: the answer is still wanted. */
	CHECK_OK(tpager_answer(&tp, &rq));
	utest_reap(child, 0);
	vm_check_idle(&before);
	tpager_close(&tp);
	vm_faultpath(prev);
}

UTEST(vm_munmap_during_fault)
{
	munmap_during_fault(FILL_COPY);
	munmap_during_fault(FILL_GRANT_MAP);
	return 0;
}

/* --- stress: more pages than memory --- */

struct stress {
	uint64_t *base;
	long npages, free_frames;
	long asked, mode;	/* the fault path set, and the one swapd serves */
	uint64_t pid;
	long mismatches;
};

#define WORDS	(UTEST_PAGE / 8)

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ULL;
	x ^= x >> 27;
	return x;
}

/* Words 0..2: pid, address, generation; 3: checksum of the rest; 4..: derived. */
static void stress_write(const struct stress *s, long i, uint64_t gen)
{
	uint64_t *w = s->base + (size_t)i * WORDS, x, sum = 0;
	long k;

	x = mix(s->pid * 0x9e3779b97f4a7c15ULL ^ (uint64_t)w ^ gen << 56);
	for (k = 4; k < WORDS; k++) {
		x = mix(x + (uint64_t)k);
		w[k] = x;
		sum += x;
	}
	w[0] = s->pid;
	w[1] = (uint64_t)w;
	w[2] = gen;
	w[3] = sum;
}

static bool stress_ok(const struct stress *s, long i, uint64_t gen)
{
	const uint64_t *w = s->base + (size_t)i * WORDS;
	uint64_t x, sum = 0;
	long k;

	if (w[0] != s->pid || w[1] != (uint64_t)w || w[2] != gen)
		return false;
	x = mix(s->pid * 0x9e3779b97f4a7c15ULL ^ (uint64_t)w ^ gen << 56);
	for (k = 4; k < WORDS; k++) {
		x = mix(x + (uint64_t)k);
		if (w[k] != x)
			return false;
		sum += x;
	}
	return w[3] == sum;
}

static void stress_check(struct stress *s, long i, uint64_t gen)
{
	if (stress_ok(s, i, gen))
		return;
	if (s->mismatches++ < 8)
		printf("utest: stress: page %ld (%p) wrong: pid %llu addr %#llx gen %llu\n", i,
		       (void *)(s->base + (size_t)i * WORDS), (unsigned long long)s->base[i * WORDS],
		       (unsigned long long)s->base[i * WORDS + 1],
		       (unsigned long long)s->base[i * WORDS + 2]);
}

static long gcd(long a, long b)
{
	while (b) {
		long t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* Visits every page once, jumping by a stride that shares no factor with n. */
static void stress_verify_strided(struct stress *s, uint64_t gen)
{
	long stride = 97, i;

	while (gcd(stride, s->npages) != 1)
		stride += 2;
	for (i = 0; i < s->npages; i++)
		stress_check(s, (i * stride) % s->npages, gen);
}

static void swapd_info(struct msg *rep)
{
	struct msg req = { .op = SWAPD_INFO };

	*rep = (struct msg){ 0 };
	CHECK_OK(sys_call(vm_need_swap(), &req, rep, UTEST_WAIT_NS));
	CHECK_EQ(rep->op, SWAPD_INFO);
}

/*
 * STRESS_FACTOR times free memory, as far as swapd's store takes it: a
 * RAM store is sized to 60 % of free memory, which leaves room for about
 * 1.5 times what stays free; the swap partition takes several times the
 * free memory of a small guest.
 */
static long stress_pages(long *free_frames)
{
	struct sys_stats st;
	struct msg info;
	long room, want;

	swapd_info(&info);
	CHECK_OK(sys_stats(&st));
	room = (long)info.arg[SWAPD_INFO_SLOTS] - (long)st.swap_slots_used - STRESS_MARGIN;
	want = (long)st.frames_free * STRESS_FACTOR;
	*free_frames = (long)st.frames_free;
	if (room <= (long)st.frames_free)
		printf("utest: stress: swap has room for %ld pages, memory %ld free: "
		       "swapd needs a larger store\n", room, *free_frames);
	CHECK(room > (long)st.frames_free);
	return want < room ? want : room;
}

/* The mode the kernel uses with swapd for `mode`: the modes swapd
 * registered decide, by the kernel's own rule (<ferry/abi.h>). */
static long served_mode(long mode)
{
	struct msg store;

	vm_swapd_store(&store);
	return fill_mode_served((uint32_t)store.arg[SWAPD_STORE_MODES], (enum fill_mode)mode);
}

/* What the kernel and swapd counted over the run, and whether it paged at all. */
static void stress_report(const struct stress *s, const struct fault_stats st0[FILL_NMODES],
			  const struct msg *info0, long t0)
{
	struct fault_stats st1[FILL_NMODES];
	struct msg info1;
	long m = s->mode;

	vm_stats(st1);
	swapd_info(&info1);
	printf("utest: stress %s%s%s: %ld pages, %ld free: %llu pages out, %llu in, "
	       "%llu requests in, %ld wrong, %ld ms; swapd answers shortened %llu, waited %llu\n",
	       pager_mode_name((uint32_t)s->asked), s->asked == m ? "" : " served as ",
	       s->asked == m ? "" : pager_mode_name((uint32_t)m), s->npages, s->free_frames,
	       (unsigned long long)(st1[m].pages_out - st0[m].pages_out),
	       (unsigned long long)(st1[m].pages_in - st0[m].pages_in),
	       (unsigned long long)(st1[m].faults - st0[m].faults), s->mismatches,
	       (sys_clock_ns() - t0) / MSEC_NS,
	       (unsigned long long)(info1.arg[SWAPD_INFO_SHORTENED] -
				    info0->arg[SWAPD_INFO_SHORTENED]),
	       (unsigned long long)(info1.arg[SWAPD_INFO_DEFERRED] -
				    info0->arg[SWAPD_INFO_DEFERRED]));
	CHECK(st1[m].pages_out > st0[m].pages_out);
	CHECK(st1[m].pages_in > st0[m].pages_in);
}

/* Generation 1 written in order, read strided; generation 2 written, read backwards. */
static void stress(long mode)
{
	struct stress s = { .pid = (uint64_t)proc_pid(), .asked = mode, .mode = served_mode(mode) };
	struct fault_stats st0[FILL_NMODES];
	struct msg info0;
	long prev, i, t0;

	s.npages = stress_pages(&s.free_frames);
	prev = vm_faultpath(mode);
	s.base = (uint64_t *)map_anon(s.npages);
	vm_stats(st0);
	swapd_info(&info0);
	t0 = sys_clock_ns();
	for (i = 0; i < s.npages; i++)
		stress_write(&s, i, 1);
	stress_verify_strided(&s, 1);
	for (i = 0; i < s.npages; i++)
		stress_write(&s, i, 2);
	for (i = s.npages - 1; i >= 0; i--)
		stress_check(&s, i, 2);
	stress_report(&s, st0, &info0, t0);
	CHECK_EQ(s.mismatches, 0);
	CHECK_OK(sys_mem_unmap(s.base, (long)pages_len(s.npages)));
	vm_faultpath(prev);
}

UTEST(vm_stress_copy)
{
	stress(FILL_COPY);
	return 0;
}

UTEST(vm_stress_grant)
{
	stress(FILL_GRANT_MAP);
	return 0;
}

/* A RAM store takes no DMA grant: the kernel serves it grant-map instead. */
UTEST(vm_stress_dma)
{
	stress(FILL_GRANT_DMA);
	return 0;
}
