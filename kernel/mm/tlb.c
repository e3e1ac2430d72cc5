// SPDX-License-Identifier: MIT
#include "tlb.h"

#include <ferry/abi.h>
#include <string.h>

#include "../cmdline.h"
#include "../cpu.h"
#include "../lock.h"
#include "../log.h"
#include "../panic.h"
#include "../smp.h"
#include "fault_stats.h"
#include "vm.h"

/* The one request out: written by the lock holder before `pending` is set. */
static struct {
	unsigned sender;
	bool retire;			/* vs[0] is dying: leave it */
	bool all;			/* everything of vs[0] */
	uint64_t pages;			/* counted, when `all` */
	int n;
	struct vm_space *vs[TLB_BATCH_MAX];
	vaddr_t va[TLB_BATCH_MAX];
	uint64_t invalidated;		/* pages the targets invalidated, atomic */
} req;
static uint64_t pending;	/* CPUs yet to acknowledge, atomic */
static struct tlb_totals totals;
static bool shootdown_off;

void tlb_init(void)
{
	shootdown_off = cmdline_is("shootdown", "off");
	if (shootdown_off)
		log_warn("tlb: shootdown=off: other CPUs keep stale translations (a test switch: "
			 "unsafe)");
}

void tlb_batch_init(struct tlb_batch *b, int mode)
{
	b->mode = mode;
	b->n = 0;
	b->all = false;
	b->pages = 0;
}

static bool one_space(const struct tlb_batch *b, const struct vm_space *vs)
{
	for (int i = 0; i < b->n; i++)
		if (b->vs[i] != vs)
			return false;
	return true;
}

void tlb_batch_add(struct tlb_batch *b, struct vm_space *vs, vaddr_t va)
{
	if (b->all && b->vs[0] != vs)
		tlb_batch_flush(b);
	if (!b->all && b->n == TLB_BATCH_MAX) {
		if (one_space(b, vs))
			b->all = true;		/* Linux, too, flushes all past 33 pages */
		else
			tlb_batch_flush(b);
	}
	b->pages++;
	if (b->all)
		return;
	b->vs[b->n] = vs;
	b->va[b->n++] = va;
}

/* The pages of the space this CPU has loaded; => how many it invalidated. */
static uint64_t invalidate_here(bool all, int n, struct vm_space *const *vs,
				const vaddr_t *va, uint64_t all_pages)
{
	struct vm_space *mine = this_cpu()->vm;
	uint64_t done = 0;

	if (!mine)
		return 0;
	if (all) {
		if (vs[0] != mine)
			return 0;
		arch_tlb_flush_all();
		return all_pages;
	}
	for (int i = 0; i < n; i++) {
		if (vs[i] == mine) {
			arch_tlb_flush_page(va[i]);
			done++;
		}
	}
	return done;
}

void tlb_serve(void)
{
	struct cpu *c = this_cpu();
	uint64_t bit = cpu_bit(c->id);

	if (!(__atomic_load_n(&pending, __ATOMIC_ACQUIRE) & bit))
		return;
	if (req.retire) {
		if (c->vm == req.vs[0]) {
			arch_switch_root(arch_kernel_root());
			__atomic_fetch_and(&req.vs[0]->cpumask, ~bit, __ATOMIC_SEQ_CST);
			c->vm = NULL;
		}
	} else {
		__atomic_fetch_add(&req.invalidated,
				   invalidate_here(req.all, req.n, req.vs, req.va, req.pages),
				   __ATOMIC_RELAXED);
	}
	c->tlb_requests_served++;
	if (__atomic_and_fetch(&pending, ~bit, __ATOMIC_SEQ_CST) == 0)
		smp_wake(req.sender);	/* it may be halted waiting for the last of us */
}

static bool all_acknowledged(const void *ctx)
{
	(void)ctx;
	return __atomic_load_n(&pending, __ATOMIC_ACQUIRE) == 0;
}

/* Posts the request to `targets` and waits for all of them; => cycles waited. */
static uint64_t ask(uint64_t targets)
{
	uint64_t t0 = arch_cycles();

	req.sender = this_cpu()->id;
	__atomic_store_n(&pending, targets, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < cpu_count; i++)
		if (targets & cpu_bit(i))
			smp_send_ipi(i, IPI_TLB);
	smp_wait_until(all_acknowledged, NULL);	/* serving stop requests meanwhile */
	return arch_cycles() - t0;
}

static uint64_t others(uint64_t mask)
{
	return mask & ~cpu_bit(this_cpu()->id) & smp_online_mask();
}

/* The CPUs that may hold any of the batch's translations. */
static uint64_t batch_mask(const struct tlb_batch *b)
{
	uint64_t m = 0;

	for (int i = 0; i < b->n; i++)
		m |= __atomic_load_n(&b->vs[i]->cpumask, __ATOMIC_SEQ_CST);
	return others(m);
}

static void count(int mode, uint64_t targets, uint64_t remote, uint64_t cycles)
{
	uint64_t ncpus = (uint64_t)__builtin_popcountll(targets);

	totals.shootdowns++;
	totals.ipis += ncpus;
	totals.remote_pages += remote;
	totals.wait_cycles += cycles;
	if (mode != TLB_NO_MODE) {
		struct fault_stats *st = fault_stats_for((enum fill_mode)mode);

		st->tlb_ipis += ncpus;
		st->tlb_remote_pages += remote;
		st->tlb_acks += ncpus;
		st->tlb_wait_cycles += cycles;
	}
}

/* Lazy CPUs leave the request: marked stale, they flush before user code
 * of that space runs there again (tlb_activate). */
static uint64_t skip_lazy(uint64_t targets)
{
	for (unsigned i = 0; i < cpu_count; i++) {
		if (!(targets & cpu_bit(i)) || !cpus[i].tlb_lazy)
			continue;
		cpus[i].tlb_stale = true;
		targets &= ~cpu_bit(i);
		totals.lazy_skipped++;
	}
	return targets;
}

void tlb_batch_flush(struct tlb_batch *b)
{
	uint64_t targets, here, cycles;

	KASSERT(kernel_lock_held());
	if (b->pages == 0)
		return;
	here = invalidate_here(b->all, b->n, b->vs, b->va, b->pages);
	if (b->mode != TLB_NO_MODE)
		fault_stats_for((enum fill_mode)b->mode)->tlb_flushes += here;
	/* With no other CPU online nobody else can hold the translations. */
	targets = others(~0ULL) ? skip_lazy(batch_mask(b)) : 0;
	if (targets && !shootdown_off) {
		req.retire = false;
		req.all = b->all;
		req.pages = b->pages;
		req.n = b->n;
		memcpy(req.vs, b->vs, sizeof(b->vs[0]) * (size_t)b->n);
		memcpy(req.va, b->va, sizeof(b->va[0]) * (size_t)b->n);
		req.invalidated = 0;
		cycles = ask(targets);
		count(b->mode, targets, __atomic_load_n(&req.invalidated, __ATOMIC_RELAXED), cycles);
	}
	tlb_batch_init(b, b->mode);
}

void tlb_flush_hint(struct vm_space *vs, vaddr_t va)
{
	if (this_cpu()->vm == vs)
		arch_tlb_flush_page(va);
}

void tlb_lazy(void)
{
	this_cpu()->tlb_lazy = true;
}

void tlb_activate(struct vm_space *vs)
{
	struct cpu *c = this_cpu();
	uint64_t bit = cpu_bit(c->id);

	KASSERT(kernel_lock_held());
	c->tlb_lazy = false;
	if (c->vm == vs) {
		if (c->tlb_stale)
			arch_tlb_flush_all();	/* a shootdown passed us by */
		c->tlb_stale = false;
		return;
	}
	c->tlb_stale = false;		/* the CR3 load below drops them all */
	if (vs)
		__atomic_fetch_or(&vs->cpumask, bit, __ATOMIC_SEQ_CST);
	arch_switch_root(vs ? vs->root : arch_kernel_root());
	if (c->vm)
		__atomic_fetch_and(&c->vm->cpumask, ~bit, __ATOMIC_SEQ_CST);
	c->vm = vs;
}

/* Not skipped by shootdown=off: freeing tables a CPU still walks is no test. */
void tlb_retire(struct vm_space *vs)
{
	uint64_t targets;

	KASSERT(kernel_lock_held());
	if (this_cpu()->vm == vs)
		tlb_activate(NULL);
	targets = others(__atomic_load_n(&vs->cpumask, __ATOMIC_SEQ_CST));
	if (targets) {
		req.retire = true;
		req.all = false;
		req.n = 1;
		req.vs[0] = vs;
		totals.retires++;
		totals.wait_cycles += ask(targets);
	}
	KASSERT(__atomic_load_n(&vs->cpumask, __ATOMIC_SEQ_CST) == 0);
}

uint64_t tlb_pending(void)
{
	return __atomic_load_n(&pending, __ATOMIC_ACQUIRE);
}

void tlb_get_totals(struct tlb_totals *out)
{
	*out = totals;
}
