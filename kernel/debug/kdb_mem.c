// SPDX-License-Identifier: MIT
/* kdb: physical memory, swap providers, allowances, fault-path statistics, fill mode. */
#include <ferry/abi.h>
#include <fmt.h>
#include <string.h>

#include "../arch/arch.h"
#include "../clock.h"
#include "../grant/grant.h"
#include "../ipc/allow.h"
#include "../mm/fault_stats.h"
#include "../mm/memobj.h"
#include "../mm/objpager.h"
#include "../mm/pmm.h"
#include "../mm/request.h"
#include "../mm/swap.h"
#include "../mm/zeropool.h"
#include "../proc/proc.h"
#include "kdb_cmd.h"

#define HIST_BUCKETS	24

static bool cmd_mem(int argc, char **argv)
{
	struct pmm_stats s;

	(void)argc;
	(void)argv;
	pmm_get_stats(&s);
	kdb_printf("%-10s %8s %10s\n", "USE", "FRAMES", "KIB");
	for (int u = 0; u < FRAME_NUSES; u++)
		kdb_printf("%-10s %8lu %10lu\n", frame_use_name((enum frame_use)u),
			   (unsigned long)s.count[u], (unsigned long)s.count[u] * 4);
	kdb_printf("%-10s %8lu %10lu\n", "total", (unsigned long)s.total,
		   (unsigned long)s.total * 4);
	kdb_printf("zeroed pool %lu frames, %lu zeroed on demand; page requests live %d\n",
		   (unsigned long)zeropool_size(), (unsigned long)zeropool_misses(),
		   request_live_count());
	return true;
}

static bool cmd_swap(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	kdb_printf("%-3s %-8s %-7s %-12s %10s %10s %6s %5s %10s %10s %4s  %s\n", "IDX", "STATE",
		   "PID", "NAME", "SLOTS", "USED", "BAD", "OUT", "PAGES-IN", "PAGES-OUT", "RST",
		   "WHERE");
	for (unsigned i = 0; i < SWAP_PROVIDERS_MAX; i++) {
		const struct swap_provider *sp = swap_provider_view(i);

		if (!sp)
			break;
		kdb_printf("%-3u %-8s %-7lu %-12s %10lu %10lu %6lu %5d %10lu %10lu %4u  %s\n", i,
			   swap_state_name(sp->state), (unsigned long)sp->pid_last, sp->name_last,
			   (unsigned long)sp->map.nslots, (unsigned long)(sp->map.used - sp->map.bad),
			   (unsigned long)sp->map.bad, sp->outstanding, (unsigned long)sp->pages_in,
			   (unsigned long)sp->pages_out, sp->restarts,
			   sp->where[0] ? sp->where : "-");
	}
	return true;
}

/* Live allowances: who lets whom have a driver touch which ranges; and
 * the suspended ones, whose swap area waits for a successor. */
static bool cmd_allow(int argc, char **argv)
{
	const struct allow_info *ai;
	uint64_t id;
	int i, suspended = 0;

	(void)argc;
	(void)argv;
	kdb_printf("%-8s %-12s %-8s %-8s %-8s %-18s %6s  %s\n", "ID", "CREATOR", "PID", "GRANTEE",
		   "TAG", "OBJECT", "RANGES", "FIRST..LAST");
	for (i = 0; (ai = allow_view(i, &id)); i++) {
		const struct allow_range *last = &ai->ai_ranges[ai->ai_nranges - 1];

		kdb_printf("%-8lx %-12s %-8lu %-8lu %-8lx %-18lx %6u  %lu..%lu%s\n", (unsigned long)id,
			   ai->ai_creator_name, (unsigned long)ai->ai_creator,
			   (unsigned long)ai->ai_grantee, (unsigned long)ai->ai_tag,
			   (unsigned long)ai->ai_object, ai->ai_nranges,
			   (unsigned long)ai->ai_ranges[0].ar_start,
			   (unsigned long)(last->ar_start + last->ar_count - 1),
			   ai->ai_flags & ALLOW_SUSPENDED ? "  suspended" : "");
		suspended += (ai->ai_flags & ALLOW_SUSPENDED) != 0;
	}
	kdb_printf("live allowances: %d\n", i - suspended);
	if (suspended)
		kdb_printf("suspended (grantee dead, swap area kept): %d\n", suspended);
	return true;
}

static bool cmd_pagers(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	kdb_printf("%-3s %-8s %-7s %-12s %4s %s\n", "IDX", "STATE", "PID", "NAME", "RST",
		   "LONGEST-AWAY-MS");
	for (uint32_t i = 0; objpager_view(i); i++) {
		const struct objpager *op = objpager_view(i);

		kdb_printf("%-3u %-8s %-7lu %-12s %4u %lu\n", i, objpager_state_name(op->state),
			   (unsigned long)op->pid_last, op->name_last, op->restarts,
			   (unsigned long)(op->longest_away_ns / 1000000));
	}
	return true;
}

static bool cmd_objects(int argc, char **argv)
{
	struct memobj_totals t;

	(void)argc;
	(void)argv;
	kdb_printf("%-8s %-6s %-18s %9s %5s %4s %5s %4s %6s %5s %5s %4s\n", "ID", "PAGER",
		   "OBJECT", "SIZE", "PAGES", "MAPS", "IMAGE", "REFS", "HITS", "COWS", "DROPS",
		   "WB");
	for (int i = 0; i < memobj_slots(); i++) {
		const struct memobj *o = memobj_view(i);
		char pager[16];

		if (!o)
			continue;
		if (o->pager_index == OBJPAGER_NONE)
			snprintf(pager, sizeof(pager), "%#lx", (unsigned long)o->port);
		else
			snprintf(pager, sizeof(pager), "obj%u", o->pager_index);
		kdb_printf("%#-8lx %-6s %#-18lx %9lu %5lu %4u %5u %4u %6lu %5lu %5lu %4lu\n",
			   (unsigned long)memobj_id(o), pager, (unsigned long)o->object,
			   (unsigned long)o->size, (unsigned long)o->pages, o->nmappings,
			   o->image_maps, o->refs, (unsigned long)o->hits, (unsigned long)o->cows,
			   (unsigned long)o->drops, (unsigned long)o->writebacks);
	}
	memobj_get_totals(&t);
	kdb_printf("objects %lu, caching %lu pages; since boot: %lu faults served from a cache,"
		   " %lu copies on write, %lu zeroed tails, %lu pages dropped, %lu written back\n",
		   (unsigned long)t.live, (unsigned long)t.pages, (unsigned long)t.hits,
		   (unsigned long)t.cows, (unsigned long)t.zero_tails, (unsigned long)t.drops,
		   (unsigned long)t.writebacks);
	return true;
}

static void sort_u64(uint64_t *v, int n)
{
	for (int i = 1; i < n; i++) {
		uint64_t x = v[i];
		int j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static uint64_t percentile(const uint64_t *sorted, int n, int pct)
{
	int i = (n * pct) / 100;

	return n ? sorted[i < n ? i : n - 1] : 0;
}

static void phase_table(const struct fault_sample *s, int n)
{
	static uint64_t v[FAULT_SAMPLES];

	kdb_printf("  %-12s %12s %12s   (cycles from the fault, last %d faults)\n", "PHASE",
		   "MEDIAN", "P99", n);
	for (int ph = 0; ph < NPHASES; ph++) {
		for (int i = 0; i < n; i++)
			v[i] = s[i].phase[ph];
		sort_u64(v, n);
		kdb_printf("  %-12s %12lu %12lu\n", fault_phase_name((enum fault_phase)ph),
			   (unsigned long)percentile(v, n, 50), (unsigned long)percentile(v, n, 99));
	}
}

/* Log2 buckets of the fault-to-mapped time, drawn with '#'. */
static void histogram(const struct fault_sample *s, int n)
{
	int bucket[HIST_BUCKETS] = { 0 }, most = 1;

	for (int i = 0; i < n; i++) {
		uint64_t c = s[i].phase[PHASE_MAPPED];
		int b = 0;

		while (c > 1 && b < HIST_BUCKETS - 1) {
			c >>= 1;
			b++;
		}
		bucket[b]++;
	}
	for (int b = 0; b < HIST_BUCKETS; b++)
		most = bucket[b] > most ? bucket[b] : most;
	kdb_printf("  fault-to-mapped latency, cycles (log2 buckets):\n");
	for (int b = 0; b < HIST_BUCKETS; b++) {
		if (!bucket[b])
			continue;
		kdb_printf("  >= %10lu %5d ", 1UL << b, bucket[b]);
		for (int k = 0; k < (bucket[b] * 40 + most - 1) / most; k++)
			kdb_printf("#");
		kdb_printf("\n");
	}
}

static bool cmd_faults(int argc, char **argv)
{
	static struct fault_sample samples[FAULT_SAMPLES];

	(void)argc;
	(void)argv;
	kdb_printf("fault path now: %s, cluster %d, %lu cycles/s\n",
		   fill_mode_name(fill_mode_current), fault_cluster_pages,
		   (unsigned long)arch_cycles_per_sec());
	for (int m = 0; m < FILL_NMODES; m++) {
		struct fault_stats *st = fault_stats_for((enum fill_mode)m);
		int n = fault_samples((enum fill_mode)m, samples, FAULT_SAMPLES);

		kdb_printf("mode %s: faults %lu pages-in %lu pages-out %lu bytes-copied %lu "
			   "tlb-flushes %lu failures %lu zero-touch %lu\n",
			   fill_mode_name((enum fill_mode)m), (unsigned long)st->faults,
			   (unsigned long)st->pages_in, (unsigned long)st->pages_out,
			   (unsigned long)st->bytes_copied, (unsigned long)st->tlb_flushes,
			   (unsigned long)st->failures, (unsigned long)st->zero_touch);
		kdb_printf("  grants: created %lu forwarded %lu completed %lu failed %lu revoked %lu "
			   "overtime %lu\n", (unsigned long)st->grants_created,
			   (unsigned long)st->grants_forwarded, (unsigned long)st->grants_completed,
			   (unsigned long)st->grants_failed, (unsigned long)st->grants_revoked,
			   (unsigned long)st->grants_overtime);
		if (n) {
			phase_table(samples, n);
			histogram(samples, n);
		}
	}
	return true;
}

static bool cmd_faultpath(int argc, char **argv)
{
	if (argc < 2) {
		kdb_printf("fault path: %s\n", fill_mode_name(fill_mode_current));
		return true;
	}
	for (int m = 0; m < FILL_NMODES; m++) {
		if (strcmp(argv[1], fill_mode_name((enum fill_mode)m)) == 0) {
			fill_mode_current = (enum fill_mode)m;
			kdb_printf("fault path: %s\n", fill_mode_name(fill_mode_current));
			return true;
		}
	}
	kdb_printf("usage: faultpath copy|grant|dma\n");
	return true;
}

const struct kdb_cmd kdb_mem_cmds[] = {
	{ "mem", "", "physical memory by use", cmd_mem },
	{ "swap", "", "swap providers: slots, outstanding requests, where", cmd_swap },
	{ "allow", "", "allowances: who may have a driver touch which ranges", cmd_allow },
	{ "pagers", "", "object pagers (fs): state, restarts, longest time away", cmd_pagers },
	{ "objects", "", "memory objects: pages cached, mappings, sharing, copies, drops",
	  cmd_objects },
	{ "faults", "", "fault-path statistics per mode: phases, latency histogram", cmd_faults },
	{ "faultpath", "[MODE]", "show or switch the fill mode: copy, grant, dma", cmd_faultpath },
	{ NULL, NULL, NULL, NULL },
};
