// SPDX-License-Identifier: MIT
/*
 * bench faults: page-in latency per fault and page-out cost per page, for
 * every fill mode and cluster size, in one boot.
 *
 * Modes and cluster sizes are interleaved in rounds (copy grant dma, copy
 * grant dma, ...) so that drift of the host hits them all alike.  Each cell
 * of a round maps PAGES fresh pages, writes a pattern naming each page,
 * pages them all out (VM_CTL_EVICT, timed and a cost-model region of its
 * own: the page-out cost), proves that every page really left memory
 * (VM_CTL_PAGE_STATE says swapped), then reads them back in order, timing
 * each read.  A read of a page that was swapped is a fault, and its time
 * is one sample; every read checks the pattern.  The kernel's own counters
 * (VM_CTL_STATS) before and after give the per-phase breakdown, bytes
 * copied and TLB invalidations per fault, the time the CPU sat halted
 * waiting for a device (sys_stats), and tell which mode really served the
 * cell (a RAM store cannot take DMA grants: the kernel then uses
 * grant-map, and the report says so).
 *
 * Backings: `anon` pages go to whichever swap provider the boot runs
 * (swapd's RAM store, or the swap partition through ata); `file` pages
 * belong to a file of the ext2 partition mapped read-only: evicting drops
 * them (clean), and each fault goes to fs, which has ata fill the frame.
 * The label the report prints is given on the command line.
 *
 *   bench faults ROUNDS PAGES [anon|file] [LABEL]
 *
 * Output, one line per mode x cluster:
 *   fault backing=B mode=M cluster=C served=M2 faults=N pages=N p10=.. p90=.. median=..
 *         p99=.. mean=.. per_page=.. pageout_per_page=.. pages_out=.. copied_per_fault=..
 *         tlb_per_fault=.. halted_per_fault=.. sent=.. received=.. replied=.. taken_back=..
 *         mapped=.. resumed=..       (cycles; phases are means from the fault)
 */
#include <ferry/costmark.h>
#include <ferry/err.h>
#include <ferry/sys.h>
#include <file.h>
#include <ipc.h>
#include <proc.h>
#include <proto/fs.h>
#include <proto/swapd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define PAGE		4096UL
#define BENCH_FILE	"/bench.dat"
#define NCLUSTERS	3
#define MAX_SAMPLES	65536
#define PAGER_WAIT_NS	(30 * SEC_NS)

static const int clusters[NCLUSTERS] = { 1, 8, 32 };
static const char *const mode_names[FILL_NMODES] = { "copy", "grant", "dma" };

struct cell {
	uint64_t *lat;			/* fault latencies, all rounds */
	long n;
	uint64_t touch_cycles, touches;
	uint64_t pageout_cycles, pages_out;
	uint64_t halted_cycles;		/* the CPU idle while the reads ran */
	struct fault_stats delta[FILL_NMODES];
	bool not_all_out, mismatch;
};

static struct cell cells[FILL_NMODES][NCLUSTERS];

static uint64_t pattern(uint64_t page)
{
	return (page * 0x9E3779B97F4A7C15ULL) ^ 0x5eedf00d;
}

static void stats(struct fault_stats s[FILL_NMODES])
{
	sys_vm_ctl(VM_CTL_STATS, 0, s);
}

static uint64_t halted_cycles(void)
{
	struct sys_stats st;

	return sys_stats(&st) < 0 ? 0 : st.halted_cycles;
}

static void add_delta(struct fault_stats *acc, const struct fault_stats *a,
		      const struct fault_stats *b)
{
	const uint64_t *pa = (const uint64_t *)a, *pb = (const uint64_t *)b;
	uint64_t *pc = (uint64_t *)acc;

	for (size_t i = 0; i < sizeof(*a) / sizeof(uint64_t); i++)
		pc[i] += pb[i] - pa[i];
}

static bool gone(long state)
{
	return state == PAGE_SWAPPED || state == PAGE_WITH_PAGER;
}

/* Pages that are really with their backing store now, not in memory. */
static long count_gone(uint8_t *base, long pages)
{
	long n = 0;

	for (long i = 0; i < pages; i++)
		n += gone(sys_vm_ctl(VM_CTL_PAGE_STATE, (long)(base + i * PAGE), 0));
	return n;
}

/*
 * One timed read.  A read that faults is a region for the cost-model
 * plugin (tools/costmodel/), marked here in user space around the very
 * samples the latency figures take: everything from the faulting load to
 * the program running on (exception entry, kernel, pager and driver
 * processes, devices, return) is in it, and nothing else; the two rdtsc
 * are in it too, as they are in the latency.
 */
static uint64_t timed_read(volatile uint64_t *p, bool fault, uint64_t *dt)
{
	uint64_t t0, v;

	if (fault)
		cost_begin();
	t0 = rdtsc();
	v = *p;
	*dt = rdtsc() - t0;
	if (fault)
		cost_end();
	return v;
}

/* Reads every page once; a read of a swapped page is a timed fault. */
static void touch_all(struct cell *c, uint8_t *base, long pages)
{
	for (long i = 0; i < pages; i++) {
		volatile uint64_t *p = (volatile uint64_t *)(base + i * PAGE);
		bool fault = gone(sys_vm_ctl(VM_CTL_PAGE_STATE, (long)p, 0));
		uint64_t dt, v = timed_read(p, fault, &dt);

		c->touch_cycles += dt;
		c->touches++;
		if (v != pattern((uint64_t)i))
			c->mismatch = true;
		if (fault && c->n < MAX_SAMPLES)
			c->lat[c->n++] = dt;
	}
}

static int file_fd = -1;

/* The file backing: PAGES pages, each starting with its pattern word. */
static int make_file(long pages)
{
	static uint8_t buf[PAGE];

	file_fd = (int)file_open(BENCH_FILE, O_RDWR | O_CREAT | O_TRUNC);
	if (file_fd < 0)
		return -1;
	for (long i = 0; i < pages; i++) {
		memset(buf, (int)i, sizeof(buf));
		*(uint64_t *)buf = pattern((uint64_t)i);
		if (file_write(file_fd, buf, PAGE) != (long)PAGE)
			return -1;
	}
	return 0;
}

/* Fresh pages, resident, each with its pattern word; => base or NULL. */
static uint8_t *map_pages(bool file, long pages)
{
	long base;

	if (file) {
		base = file_mmap(file_fd, 0, pages * PAGE, PROT_READ);
		if (base < 0)
			return NULL;
		for (long i = 0; i < pages; i++)	/* bring them in first */
			(void)*(volatile uint64_t *)(base + i * PAGE);
		return (uint8_t *)base;
	}
	base = sys_mem_map(0, pages * PAGE, PROT_READ | PROT_WRITE);
	if (base < 0)
		return NULL;
	for (long i = 0; i < pages; i++)
		*(uint64_t *)(base + i * PAGE) = pattern((uint64_t)i);
	return (uint8_t *)base;
}

static int cluster_index(int cluster)
{
	for (int ci = 0; ci < NCLUSTERS; ci++)
		if (clusters[ci] == cluster)
			return ci;
	return 0;
}

/* The cost model's tag of a cell's page-ins, or with pageout its page-outs
 * (tests/bench_cells.py's ferry_tag() decodes them alike). */
static unsigned cost_tag(bool file, int mode, int ci, bool pageout)
{
	return (file ? 32u : 0u) + (unsigned)mode * 8u + (pageout ? (unsigned)NCLUSTERS : 0u) +
	       (unsigned)ci;
}

static int run_cell(struct cell *c, int mode, int cluster, long pages, bool file)
{
	struct fault_stats before[FILL_NMODES], after[FILL_NMODES];
	uint8_t *base;
	uint64_t t0, h0;
	long out;

	/* Early: the plugin starts counting at the first tag (tools/costmodel/),
	 * and this cell's own set-up then warms its models for the page-out,
	 * one region of its own (the whole VM_CTL_EVICT, writes included). */
	cost_select(cost_tag(file, mode, cluster_index(cluster), true));
	sys_vm_ctl(VM_CTL_FAULTPATH_SET, mode, 0);
	sys_vm_ctl(VM_CTL_CLUSTER, cluster, 0);
	base = map_pages(file, pages);
	if (!base)
		return -1;
	cost_begin();
	t0 = rdtsc();
	out = sys_vm_ctl(VM_CTL_EVICT, pages * PAGE, base);
	c->pageout_cycles += rdtsc() - t0;
	cost_end();
	cost_select(cost_tag(file, mode, cluster_index(cluster), false));
	c->pages_out += out > 0 ? (uint64_t)out : 0;
	if (count_gone(base, pages) != pages)
		c->not_all_out = true;
	stats(before);
	h0 = halted_cycles();
	touch_all(c, base, pages);
	c->halted_cycles += halted_cycles() - h0;
	stats(after);
	for (int m = 0; m < FILL_NMODES; m++)
		add_delta(&c->delta[m], &before[m], &after[m]);
	if (file)
		file_munmap(base, pages * PAGE);
	else
		sys_mem_unmap(base, pages * PAGE);
	return 0;
}

/* The mode whose counters moved: the one that really served the cell. */
static int served_by(const struct cell *c)
{
	int best = -1;
	uint64_t most = 0;

	for (int m = 0; m < FILL_NMODES; m++)
		if (c->delta[m].pages_in > most) {
			most = c->delta[m].pages_in;
			best = m;
		}
	return best;
}

static void report(const char *backing, int mode, int ci)
{
	struct cell *c = &cells[mode][ci];
	int s = served_by(c);
	const struct fault_stats *d = s >= 0 ? &c->delta[s] : &c->delta[mode];
	uint64_t sum = 0, faults = d->faults ? d->faults : 1;

	sort_u64(c->lat, (size_t)c->n);
	for (long i = 0; i < c->n; i++)
		sum += c->lat[i];
	printf("fault backing=%s mode=%s cluster=%d served=%s faults=%ld pages=%llu p10=%llu "
	       "p90=%llu median=%llu p99=%llu mean=%llu per_page=%llu pageout_per_page=%llu "
	       "pages_out=%llu copied_per_fault=%llu tlb_per_fault=%llu halted_per_fault=%llu", backing,
	       mode_names[mode], clusters[ci], s >= 0 ? mode_names[s] : "none", c->n,
	       (unsigned long long)c->touches,
	       (unsigned long long)(c->n ? c->lat[c->n / 10] : 0),
	       (unsigned long long)(c->n ? c->lat[c->n * 9 / 10] : 0),
	       (unsigned long long)(c->n ? c->lat[c->n / 2] : 0),
	       (unsigned long long)(c->n ? c->lat[c->n * 99 / 100] : 0),
	       (unsigned long long)(c->n ? sum / (uint64_t)c->n : 0),
	       (unsigned long long)(c->touches ? c->touch_cycles / c->touches : 0),
	       (unsigned long long)(c->pages_out ? c->pageout_cycles / c->pages_out : 0),
	       (unsigned long long)c->pages_out,
	       (unsigned long long)(d->bytes_copied / faults),
	       (unsigned long long)(d->tlb_flushes / faults),
	       (unsigned long long)(c->halted_cycles / faults));
	for (int ph = 0; ph < NPHASES; ph++) {
		static const char *const names[NPHASES] = { "sent", "received", "replied",
							    "taken_back", "mapped", "resumed" };

		printf(" %s=%llu", names[ph], (unsigned long long)(d->phase_cycles[ph] / faults));
	}
	printf("%s%s\n", c->not_all_out ? " warning=not_all_pages_left_memory" : "",
	       c->mismatch ? " error=data_mismatch" : "");
}

static long arg(int argc, char **argv, int i, long dflt, long max)
{
	uint64_t v;

	if (argc <= i || str_to_u64(argv[i], 10, &v, NULL) < 0 || v == 0 || (long)v > max)
		return dflt;
	return (long)v;
}

/*
 * init starts swapd and fs beside the shell: a run started at once could
 * evict with nobody to take the pages.  swapd publishes its port only
 * once it is registered, so the port is the sign that swap works.
 */
static bool pager_ready(bool file)
{
	const char *name = file ? FS_PORT_NAME : SWAPD_PORT_NAME;
	long port = ipc_lookup(name, PAGER_WAIT_NS);

	if (port < 0)
		printf("bench: no %s (port \"%s\"): %s\n", file ? "file server" : "swap provider",
		       name, err_str(port));
	return port >= 0;
}

int bench_faults(int argc, char **argv)
{
	long rounds = arg(argc, argv, 2, 10, 1000), pages = arg(argc, argv, 3, 256, 4096);
	long old_mode = sys_vm_ctl(VM_CTL_FAULTPATH_GET, 0, 0);
	bool file = argc > 4 && strcmp(argv[4], "file") == 0;
	const char *label = argc > 5 ? argv[5] : (file ? "file" : "anon");

	if (!pager_ready(file))
		return 1;
	if (file && make_file(pages) < 0) {
		printf("bench: cannot write %s\n", BENCH_FILE);
		return 1;
	}

	for (int m = 0; m < FILL_NMODES; m++)
		for (int ci = 0; ci < NCLUSTERS; ci++) {
			cells[m][ci].lat = malloc(MAX_SAMPLES * sizeof(uint64_t));
			if (!cells[m][ci].lat) {
				printf("bench: out of memory\n");
				return 1;
			}
		}
	{
		struct sys_stats st;

		sys_stats(&st);
		printf("bench faults: %ld rounds of %ld pages per cell, cycles_per_sec=%llu\n",
		       rounds, pages, (unsigned long long)st.cycles_per_sec);
	}
	for (long r = 0; r < rounds; r++) {
		for (int ci = 0; ci < NCLUSTERS; ci++)
			for (int m = 0; m < FILL_NMODES; m++)
				if (run_cell(&cells[m][ci], m, clusters[ci], pages, file) < 0) {
					printf("bench: cannot map %ld pages\n", pages);
					return 1;
				}
		printf("progress round=%ld/%ld\n", r + 1, rounds);
	}
	for (int ci = 0; ci < NCLUSTERS; ci++)
		for (int m = 0; m < FILL_NMODES; m++)
			report(label, m, ci);
	cost_dump();
	sys_vm_ctl(VM_CTL_FAULTPATH_SET, old_mode, 0);
	sys_vm_ctl(VM_CTL_CLUSTER, 8, 0);
	if (file) {
		file_close(file_fd);
		file_unlink(BENCH_FILE);
	}
	printf("bench faults: done\n");
	return 0;
}
