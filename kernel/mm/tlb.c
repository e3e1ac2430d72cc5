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
	struct vm_space *vs;
	unsigned sender;
	bool retire;
	int npages;
	vaddr_t va[TLB_BATCH_MAX];
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

void tlb_batch_init(struct tlb_batch *b, struct vm_space *vs, int mode)
{
	b->vs = vs;
	b->mode = mode;
	b->npages = 0;
}

void tlb_batch_add(struct tlb_batch *b, vaddr_t va)
{
	if (b->npages < TLB_BATCH_MAX)
		b->va[b->npages] = va;
	b->npages++;
}

static void invalidate_here(int npages, const vaddr_t *va)
{
	if (npages > TLB_BATCH_MAX) {
		arch_tlb_flush_all();
		return;
	}
	for (int i = 0; i < npages; i++)
		arch_tlb_flush_page(va[i]);
}

void tlb_serve(void)
{
	struct cpu *c = this_cpu();
	uint64_t bit = cpu_bit(c->id);

	if (!(__atomic_load_n(&pending, __ATOMIC_ACQUIRE) & bit))
		return;
	if (c->vm && c->vm == req.vs) {
		if (req.retire) {
			arch_switch_root(arch_kernel_root());
			__atomic_fetch_and(&req.vs->cpumask, ~bit, __ATOMIC_SEQ_CST);
			c->vm = NULL;
		} else {
			invalidate_here(req.npages, req.va);
		}
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

static uint64_t others(const struct vm_space *vs)
{
	return __atomic_load_n(&vs->cpumask, __ATOMIC_SEQ_CST) & ~cpu_bit(this_cpu()->id) &
	       smp_online_mask();
}

static void count(int mode, int npages, uint64_t targets, uint64_t cycles)
{
	int ncpus = __builtin_popcountll(targets);
	uint64_t pages = (uint64_t)(npages > TLB_BATCH_MAX ? TLB_BATCH_MAX : npages) * ncpus;

	totals.shootdowns++;
	totals.ipis += (uint64_t)ncpus;
	totals.remote_pages += pages;
	totals.wait_cycles += cycles;
	if (mode != TLB_NO_MODE) {
		struct fault_stats *st = fault_stats_for((enum fill_mode)mode);

		st->tlb_ipis += (uint64_t)ncpus;
		st->tlb_remote_pages += pages;
		st->tlb_acks += (uint64_t)ncpus;
		st->tlb_wait_cycles += cycles;
	}
}

void tlb_batch_flush(struct tlb_batch *b)
{
	uint64_t targets;

	KASSERT(kernel_lock_held());
	if (b->npages == 0)
		return;
	if (this_cpu()->vm == b->vs) {
		invalidate_here(b->npages, b->va);
		if (b->mode != TLB_NO_MODE)
			fault_stats_for((enum fill_mode)b->mode)->tlb_flushes +=
				(uint64_t)(b->npages > TLB_BATCH_MAX ? 1 : b->npages);
	}
	targets = others(b->vs);
	if (targets && !shootdown_off) {
		req.vs = b->vs;
		req.retire = false;
		req.npages = b->npages;
		memcpy(req.va, b->va, sizeof(vaddr_t) * (size_t)(b->npages > TLB_BATCH_MAX
								 ? 0 : b->npages));
		count(b->mode, b->npages, targets, ask(targets));
	}
	b->npages = 0;
}

void tlb_flush_hint(struct vm_space *vs, vaddr_t va)
{
	if (this_cpu()->vm == vs)
		arch_tlb_flush_page(va);
}

void tlb_activate(struct vm_space *vs)
{
	struct cpu *c = this_cpu();
	uint64_t bit = cpu_bit(c->id);

	KASSERT(kernel_lock_held());
	if (c->vm == vs)
		return;
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
	targets = others(vs);
	if (targets) {
		req.vs = vs;
		req.retire = true;
		req.npages = 0;
		totals.retires++;
		totals.wait_cycles += ask(targets);
	}
	KASSERT(__atomic_load_n(&vs->cpumask, __ATOMIC_SEQ_CST) == 0);
}

void tlb_get_totals(struct tlb_totals *out)
{
	*out = totals;
}
