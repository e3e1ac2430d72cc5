// SPDX-License-Identifier: MIT
/*
 * pagebench: the Linux side of Ferry's fault-path benchmark.
 *
 * Runs as a static program in the peer's initramfs (peer/linux/run.py) and
 * times, per page, the Linux paths that `make bench` compares Ferry with:
 *
 *   anon_touch   first write to fresh anonymous memory (kernel zero-fill)
 *   uffd_copy    a user-space pager thread resolves each missing-page fault
 *                with UFFDIO_COPY straight from the pages it holds (one copy,
 *                the kernel's): Linux's counterpart of swapd's RAM store
 *   uffd_move    the same with UFFDIO_MOVE (6.8+): the pager's page itself is
 *                moved into place, no copy (Linux's counterpart of lending)
 *   swapin_pcN   a read of a page pushed out to the IDE swap partition, with
 *                vm.page-cluster=N: 0 = one page per read (no readahead),
 *                3 = Linux's default (up to 8 pages), 5 = up to 32 pages
 *
 * Each sample is one read (or write) of one page bracketed by rdtsc, exactly
 * as in user/bench/faults.c; under `-icount shift=0` a TSC delta is a count
 * of guest instructions (plus time halted for the disk).  Every page carries
 * a pattern checked after the timed loop.  Before a swap-in loop every page
 * must have left memory, swap cache included: MADV_PAGEOUT leaves written
 * pages in the swap cache, so the program also reclaims through its
 * cgroup's memory.reclaim and checks with mincore() that none is resident.
 *
 *   pagebench [-n PAGES] [-r REPS] [-w WARM] [TEST...]      (default: all)
 *
 * Output: one line per test,
 *   RESULT name pages=N reps=R median=.. p10=.. p90=.. p99=.. mean=..
 *          med_min=.. med_max=.. resident_max=.. mismatches=.. errors=..
 *          majflt=.. pswpin=.. cost_tag=..
 * each statistic the median over the REPS repetitions of that repetition's
 * statistic (TSC ticks per page); med_min/med_max is the spread of the
 * repetitions' medians; the counters are the worst (or, for majflt and
 * pswpin, the median) repetition; cost_tag is the test's region tag for
 * the cost-model plugin.  A WARM-page run before each test is discarded:
 * under TCG the first pass through a path also translates it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ferry/costmark.h>	/* Ferry's lib/include: the cost-model markers */

#ifndef UFFD_FEATURE_MOVE
/* Linux 6.8 uapi; Debian 12's linux-libc-dev (6.1) predates it. */
#define UFFD_FEATURE_MOVE (1 << 16)
struct uffdio_move {
	__u64 dst;
	__u64 src;
	__u64 len;
	__u64 mode;
	__s64 move;
};
#define UFFDIO_MOVE _IOWR(UFFDIO, 0x05, struct uffdio_move)
#endif

#define PAGE		4096UL
#define MAX_PAGES	8192
#define MAX_REPS	15
/*
 * The cost-model plugin (tools/costmodel/, `make cost`) counts what every
 * timed access costs, kernel work included, between markers around it:
 * each test's timed repetitions under the tag of its index in tests[],
 * the warm-up under a tag of its own that nobody reads.  Elsewhere a
 * marker is one NOP.
 */
#define COST_WARM_TAG	63

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* One repetition of one test. */
struct rep {
	uint64_t p10, median, p90, p99, mean;
	long resident, mismatches, errors, majflt, pswpin;
};

static uint64_t samples[MAX_PAGES];	/* locked with the rest by mlockall */
static char reclaim_path[256];		/* our cgroup's memory.reclaim, or "" */

static void die(const char *what)
{
	printf("FATAL %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t pattern(uint64_t page, uint64_t word, uint64_t salt)
{
	return (page << 24) ^ (word * 0x9E3779B97F4A7C15ULL) ^ salt;
}

static void fill_page(uint64_t *p, uint64_t page, uint64_t salt)
{
	for (uint64_t w = 0; w < PAGE / 8; w++)
		p[w] = pattern(page, w, salt);
}

static long count_mismatches(const char *base, long n, uint64_t salt)
{
	long bad = 0;

	for (long i = 0; i < n; i++) {
		const uint64_t *p = (const uint64_t *)(base + i * PAGE);
		for (uint64_t w = 0; w < PAGE / 8; w++)
			if (p[w] != pattern((uint64_t)i, w, salt)) {
				bad++;
				break;
			}
	}
	return bad;
}

static char *map_pages(long n)
{
	char *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	madvise(p, n * PAGE, MADV_NOHUGEPAGE);
	return p;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Order statistics and mean of samples[0..n). */
static void summarize(long n, struct rep *r)
{
	uint64_t sum = 0;

	for (long i = 0; i < n; i++)
		sum += samples[i];
	qsort(samples, n, sizeof(samples[0]), cmp_u64);
	r->p10 = samples[n / 10];
	r->median = samples[n / 2];
	r->p90 = samples[n * 9 / 10];
	r->p99 = samples[(n - 1) * 99 / 100];
	r->mean = sum / n;
}

static long major_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_majflt;
}

static long vmstat(const char *key)
{
	FILE *f = fopen("/proc/vmstat", "r");
	char k[64];
	long v, found = -1;

	if (!f)
		return -1;
	while (found < 0 && fscanf(f, "%63s %ld", k, &v) == 2)
		if (!strcmp(k, key))
			found = v;
	fclose(f);
	return found;
}

static long meminfo_kb(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	size_t len = strlen(key);
	long v = -1;

	if (!f)
		return -1;
	while (v < 0 && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':')
			v = atol(line + len + 1);
	fclose(f);
	return v;
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = write(fd, text, strlen(text));
	close(fd);
	return w < 0 ? -1 : 0;
}

/* /sys/fs/cgroup/<our cgroup>/memory.reclaim, if init made one for us. */
static void find_reclaim_path(void)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[200];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(reclaim_path, sizeof(reclaim_path), "/sys/fs/cgroup%s/memory.reclaim",
				 strcmp(line + 3, "/") ? line + 3 : "");
		}
	fclose(f);
	if (reclaim_path[0] && access(reclaim_path, W_OK))
		reclaim_path[0] = 0;
}

/* ---- first touch of anonymous memory ---- */

static void run_anon_touch(long n, struct rep *r)
{
	char *base = map_pages(n);

	for (long i = 0; i < n; i++) {
		volatile uint64_t *p = (volatile uint64_t *)(base + i * PAGE);
		uint64_t t0;

		cost_begin();
		t0 = rdtsc();
		*p = (uint64_t)i + 1;
		samples[i] = rdtsc() - t0;
		cost_end();
	}
	for (long i = 0; i < n; i++)
		r->mismatches += *(uint64_t *)(base + i * PAGE) != (uint64_t)i + 1;
	summarize(n, r);
	munmap(base, n * PAGE);
}

/* ---- swap-in from the IDE swap partition ---- */

static long count_resident(char *base, long n)
{
	static unsigned char vec[MAX_PAGES];
	long resident = 0;

	if (mincore(base, n * PAGE, vec))
		die("mincore");
	for (long i = 0; i < n; i++)
		resident += vec[i] & 1;
	return resident;
}

static void wait_writeback(void)
{
	for (int k = 0; k < 5000 && meminfo_kb("Writeback") > 0; k++)
		usleep(1000);
}

/* Pushes [base, base + n pages) to swap and out of the swap cache;
 * => pages still resident (0 when it worked). */
static long push_to_swap(char *base, long n)
{
	char amount[32];
	long resident;

	if (madvise(base, n * PAGE, MADV_PAGEOUT))
		die("madvise(MADV_PAGEOUT)");
	wait_writeback();
	resident = count_resident(base, n);
	for (int k = 0; k < 20 && resident > 0 && reclaim_path[0]; k++) {
		snprintf(amount, sizeof(amount), "%ld", (resident + 64) * (long)PAGE);
		write_text(reclaim_path, amount);	/* EAGAIN when short: try again */
		wait_writeback();
		resident = count_resident(base, n);
	}
	return resident;
}

static int page_cluster;

static void run_swapin(long n, struct rep *r)
{
	char value[8];
	char *base = map_pages(n);
	uint64_t salt = rdtsc();
	long maj0, in0;

	snprintf(value, sizeof(value), "%d", page_cluster);
	if (write_text("/proc/sys/vm/page-cluster", value))
		die("page-cluster");
	for (long i = 0; i < n; i++)
		fill_page((uint64_t *)(base + i * PAGE), (uint64_t)i, salt);
	r->resident = push_to_swap(base, n);
	maj0 = major_faults();
	in0 = vmstat("pswpin");
	for (long i = 0; i < n; i++) {
		volatile uint64_t *p = (volatile uint64_t *)(base + i * PAGE);
		uint64_t t0;

		cost_begin();
		t0 = rdtsc();
		(void)*p;
		samples[i] = rdtsc() - t0;
		cost_end();
	}
	r->majflt = major_faults() - maj0;
	r->pswpin = vmstat("pswpin") - in0;
	r->mismatches = count_mismatches(base, n, salt);
	summarize(n, r);
	munmap(base, n * PAGE);
}

/* ---- a user-space pager on userfaultfd ---- */

struct pager {
	int fd;
	bool move;		/* UFFDIO_MOVE, else UFFDIO_COPY */
	char *area, *store;	/* the faulting range; the pager's own pages */
	long n;			/* area has n pages and a sentinel after them */
	long errors;
};

static int resolve(struct pager *pg, uint64_t addr, long idx)
{
	uint64_t src = (uint64_t)(pg->store + idx * PAGE);

	if (pg->move) {
		struct uffdio_move mv = { .dst = addr, .src = src, .len = PAGE };
		return ioctl(pg->fd, UFFDIO_MOVE, &mv);
	}
	struct uffdio_copy cp = { .dst = addr, .src = src, .len = PAGE };
	return ioctl(pg->fd, UFFDIO_COPY, &cp);
}

/* Never leaves the faulting thread blocked: a zero page on error. */
static void resolve_with_zero(struct pager *pg, uint64_t addr)
{
	struct uffdio_zeropage z = { .range = { .start = addr, .len = PAGE } };

	ioctl(pg->fd, UFFDIO_ZEROPAGE, &z);
}

static void *pager_thread(void *arg)
{
	struct pager *pg = arg;
	struct uffd_msg msg;

	for (;;) {
		ssize_t got = read(pg->fd, &msg, sizeof(msg));

		if (got < 0 && errno == EINTR)
			continue;
		if (got != sizeof(msg)) {
			pg->errors++;
			return NULL;
		}
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		uint64_t addr = msg.arg.pagefault.address & ~(PAGE - 1);
		long idx = (long)((addr - (uint64_t)pg->area) / PAGE);

		if (idx >= pg->n) {	/* the sentinel: we are done */
			resolve_with_zero(pg, addr);
			return NULL;
		}
		if (resolve(pg, addr, idx) && errno != EEXIST) {
			pg->errors++;
			resolve_with_zero(pg, addr);
		}
	}
}

static bool uffd_move;

static int open_uffd(bool move)
{
	struct uffdio_api api = { .api = UFFD_API, .features = move ? UFFD_FEATURE_MOVE : 0 };
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);

	if (fd < 0)
		die("userfaultfd");
	if (ioctl(fd, UFFDIO_API, &api))
		die("UFFDIO_API");
	return fd;
}

static void run_uffd(long n, struct rep *r)
{
	struct pager pg = { .fd = open_uffd(uffd_move), .move = uffd_move, .n = n };
	uint64_t salt = rdtsc();
	pthread_t thread;

	pg.area = map_pages(n + 1);
	pg.store = map_pages(n);
	for (long i = 0; i < n; i++)	/* the pager's data, resident */
		fill_page((uint64_t *)(pg.store + i * PAGE), (uint64_t)i, salt);
	struct uffdio_register reg = {
		.range = { .start = (uint64_t)pg.area, .len = (n + 1) * PAGE },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	if (ioctl(pg.fd, UFFDIO_REGISTER, &reg))
		die("UFFDIO_REGISTER");
	if (pthread_create(&thread, NULL, pager_thread, &pg))
		die("pthread_create");
	for (long i = 0; i < n; i++) {
		volatile uint64_t *p = (volatile uint64_t *)(pg.area + i * PAGE);
		uint64_t t0;

		cost_begin();
		t0 = rdtsc();
		(void)*p;
		samples[i] = rdtsc() - t0;
		cost_end();
	}
	(void)*(volatile uint64_t *)(pg.area + n * PAGE);	/* ends the pager */
	pthread_join(thread, NULL);
	r->errors = pg.errors;
	r->mismatches = count_mismatches(pg.area, n, salt);
	summarize(n, r);
	close(pg.fd);
	munmap(pg.area, (n + 1) * PAGE);
	munmap(pg.store, n * PAGE);
}

/* ---- driver ---- */

struct test {
	const char *name;
	void (*run)(long n, struct rep *r);
	int page_cluster;	/* swap-in tests */
	bool move;		/* uffd tests */
};

static const struct test tests[] = {
	{ "anon_touch", run_anon_touch, 0, false },
	{ "uffd_copy", run_uffd, 0, false },
	{ "uffd_move", run_uffd, 0, true },
	{ "swapin_pc0", run_swapin, 0, false },
	{ "swapin_pc3", run_swapin, 3, false },
	{ "swapin_pc5", run_swapin, 5, false },
};

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/* The median over reps of the field at byte offset off (uint64_t or long). */
static long median_of(const struct rep *reps, int nreps, size_t off)
{
	long v[MAX_REPS];

	for (int i = 0; i < nreps; i++)
		v[i] = *(const long *)((const char *)&reps[i] + off);
	qsort(v, nreps, sizeof(v[0]), cmp_long);
	return v[nreps / 2];
}

static long worst_of(const struct rep *reps, int nreps, size_t off)
{
	long worst = 0;

	for (int i = 0; i < nreps; i++) {
		long v = *(const long *)((const char *)&reps[i] + off);
		worst = v > worst ? v : worst;
	}
	return worst;
}

#define MED(f) median_of(reps, nreps, offsetof(struct rep, f))
#define WORST(f) worst_of(reps, nreps, offsetof(struct rep, f))

static void report(const char *name, unsigned tag, long n, const struct rep *reps, int nreps)
{
	uint64_t lo = reps[0].median, hi = reps[0].median;

	for (int i = 1; i < nreps; i++) {
		lo = reps[i].median < lo ? reps[i].median : lo;
		hi = reps[i].median > hi ? reps[i].median : hi;
	}
	printf("RESULT %s pages=%ld reps=%d median=%ld p10=%ld p90=%ld p99=%ld mean=%ld "
	       "med_min=%llu med_max=%llu resident_max=%ld mismatches=%ld errors=%ld "
	       "majflt=%ld pswpin=%ld cost_tag=%u\n",
	       name, n, nreps, MED(median), MED(p10), MED(p90), MED(p99), MED(mean),
	       (unsigned long long)lo, (unsigned long long)hi, WORST(resident),
	       WORST(mismatches), WORST(errors), MED(majflt), MED(pswpin), tag);
}

static void run_test(const struct test *t, long n, int nreps, long warm)
{
	struct rep reps[MAX_REPS], discard;

	page_cluster = t->page_cluster;
	uffd_move = t->move;
	memset(&discard, 0, sizeof(discard));
	cost_select(COST_WARM_TAG);
	t->run(warm < n ? warm : n, &discard);
	cost_select((unsigned)(t - tests));
	for (int i = 0; i < nreps; i++) {
		memset(&reps[i], 0, sizeof(reps[i]));
		t->run(n, &reps[i]);
	}
	report(t->name, (unsigned)(t - tests), n, reps, nreps);
}

static bool wanted(const char *name, int argc, char **argv)
{
	if (optind >= argc)
		return true;
	for (int i = optind; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

static long number(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == 0 || *end || v < lo || v > hi) {
		fprintf(stderr, "pagebench: %s must be %ld..%ld, not %s\n", what, lo, hi, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	long n = 2048, warm = 256;
	int nreps = 5, opt;

	while ((opt = getopt(argc, argv, "n:r:w:")) != -1) {
		switch (opt) {
		case 'n': n = number(optarg, 10, MAX_PAGES, "-n PAGES"); break;
		case 'r': nreps = (int)number(optarg, 1, MAX_REPS, "-r REPS"); break;
		case 'w': warm = number(optarg, 1, MAX_PAGES, "-w WARM"); break;
		default:
			fprintf(stderr, "usage: pagebench [-n PAGES] [-r REPS] [-w WARM] [TEST...]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* The sample arrays, stack and code stay put while the swap tests reclaim. */
	if (mlockall(MCL_CURRENT))
		printf("WARN mlockall: %s\n", strerror(errno));
	find_reclaim_path();
	printf("INFO pages=%ld reps=%d warm=%ld reclaim=%s swap_total_kb=%ld\n", n, nreps, warm,
	       reclaim_path[0] ? reclaim_path : "none", meminfo_kb("SwapTotal"));
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (!wanted(tests[i].name, argc, argv))
			continue;
		if (!strncmp(tests[i].name, "swapin", 6) && meminfo_kb("SwapTotal") <= 0) {
			printf("SKIP %s: no swap\n", tests[i].name);
			continue;
		}
		run_test(&tests[i], n, nreps, warm);
	}
	cost_dump();
	printf("DONE\n");
	return 0;
}
