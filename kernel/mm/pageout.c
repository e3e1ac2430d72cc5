// SPDX-License-Identifier: MIT
#include "pageout.h"

#include <ferry/err.h>

#include "../iommu/iommu.h"
#include "../log.h"
#include "../panic.h"
#include "../proc/proc.h"
#include "memobj.h"
#include "objpager.h"
#include "pmm.h"
#include "pte.h"
#include "request.h"
#include "swap.h"
#include "tlb.h"
#include "vm.h"
#include "zeropool.h"

#define DAEMON_PERIOD_NS	100000000	/* also the overtime check period */
#define PAGEOUT_CLUSTER		8

static struct wait_queue daemon_wq, memory_wq;
static size_t low_watermark, high_watermark;
static int clock_hand;		/* next process the clock looks at */
static bool daemon_busy;

static bool evictable(const struct vm_region *r)
{
	return !(r->flags & (VMR_PINNED | VMR_DMA | VMR_GRANT));
}

/*
 * Starts one page-out of the run of n resident pages of p's own at va, to
 * swap.  => pages on their way out, or an error when no provider or
 * request slot can take them now.
 */
static long evict_run(struct proc *p, struct vm_region *r, uint64_t va, int n, uint64_t *handle)
{
	unsigned provider = 0;
	uint64_t slot = 0;
	long err;

	*handle = 0;
	/* A shorter run if no provider has n contiguous slots free. */
	while (swap_choose((unsigned)n, &provider, &slot)) {
		if (n == 1)
			return swap_any_live() ? ERR_BUSY : ERR_NOMEM;
		n /= 2;
	}
	err = request_page_out(p, r, va, n, provider, slot, handle);
	if (err)
		for (int i = 0; i < n; i++)
			swap_free_slot(provider, slot + (uint64_t)i);
	return err ? err : n;
}

/* A present page a memory object caches: the object decides (memobj.h). */
static bool object_page(const struct vm_region *r, pte_t pte)
{
	return r->obj && memobj_frame(arch_pte_frame(pte));
}

/*
 * Length of the run of p's own resident pages (anonymous, or private
 * copies) from va, at most max, not recently used with second_chance.
 */
static int victim_run(struct proc *p, struct vm_region *r, uint64_t va, int max,
		      bool second_chance)
{
	int n = 0;

	while (n < max && va + (uint64_t)n * PAGE_SIZE < r->end) {
		uint64_t a = va + (uint64_t)n * PAGE_SIZE;
		pte_t *pte = arch_pt_leaf(p->vm.root, a, false);

		if (!pte || !arch_pte_present(*pte) || object_page(r, *pte))
			break;
		if (second_chance && arch_pte_accessed(*pte)) {
			arch_pte_clear_accessed_atomic(pte);
			tlb_flush_hint(&p->vm, a);
			break;
		}
		n++;
	}
	return n;
}

/*
 * Evicts what is at va: an object's page (the object drops it from every
 * mapping, or writes it back), or a run of at most max pages of p's own
 * (to swap).  *span: pages looked at.  => pages freed or on their way
 * (*handle: the request, 0 if none), 0 for nothing, or an error.
 */
static long evict_at(struct proc *p, struct vm_region *r, uint64_t va, int max,
		     bool second_chance, uint64_t *handle, int *span)
{
	pte_t *pte = arch_pt_leaf(p->vm.root, va, false);
	int n;

	*handle = 0;
	*span = 1;
	if (!pte || !arch_pte_present(*pte))
		return 0;
	if (object_page(r, *pte))
		return memobj_evict(p, r, va, second_chance, handle);
	n = victim_run(p, r, va, max, second_chance);
	if (n == 0)
		return 0;
	*span = n;
	return evict_run(p, r, va, n, handle);
}

/* One pass over p's pages; => pages freed or on their way out. */
static size_t scan_proc(struct proc *p, size_t want, bool second_chance)
{
	size_t got = 0;

	for (struct vm_region *r = p->vm.regions; r && got < want; r = r->next) {
		if (!evictable(r))
			continue;
		for (uint64_t va = r->start; va < r->end && got < want; va += PAGE_SIZE) {
			uint64_t h;
			int span;
			long out = evict_at(p, r, va, PAGEOUT_CLUSTER, second_chance, &h, &span);

			if (out == ERR_BUSY || out == ERR_FULL)
				return got;	/* providers saturated: later */
			if (out > 0)
				got += (size_t)out;
			va += (uint64_t)(span - 1) * PAGE_SIZE;
		}
	}
	return got;
}

static void evict_until(size_t target)
{
	/* Object pages nobody maps first: nobody is using them. */
	if (pmm_free_frames() < target)
		memobj_reclaim(target - pmm_free_frames());
	for (int pass = 0; pass < 2 && pmm_free_frames() < target; pass++) {
		for (int k = 0; k < PROC_MAX && pmm_free_frames() < target; k++) {
			struct proc *p = proc_by_index((clock_hand + k) % PROC_MAX);

			if (p && !p->vm.pinned && !proc_is_dying(p))
				scan_proc(p, target - pmm_free_frames(), pass == 0);
		}
		clock_hand = (clock_hand + 1) % PROC_MAX;
	}
}

static void daemon_main(void *arg)
{
	(void)arg;
	for (;;) {
		thread_block(&daemon_wq, THREAD_BLOCKED_SLEEP, 0, DAEMON_PERIOD_NS);
		request_check_overtime();
		iommu_fault_poll();	/* without the fault event's interrupt */
		swap_expire_orphans();
		objpager_expire_orphans();
		memobj_write_back_unmapped();
		if (pmm_free_frames() < low_watermark) {
			daemon_busy = true;
			zeropool_drain(0);
			evict_until(high_watermark);
			daemon_busy = false;
		}
		pageout_memory_freed();
	}
}

void pageout_init(void)
{
	struct pmm_stats s;

	wait_queue_init(&daemon_wq);
	wait_queue_init(&memory_wq);
	pmm_get_stats(&s);
	low_watermark = PMM_RESERVE_FRAMES * 2 + s.count[FRAME_FREE] / 32;
	high_watermark = low_watermark * 2;
	if (!thread_create_kernel("pageout", daemon_main, NULL, PRIO_MAX))
		panic("pageout_init: cannot start the daemon");
}

void pageout_check_pressure(void)
{
	if (pmm_free_frames() < low_watermark && !daemon_busy) {
		struct thread *t = wait_queue_first(&daemon_wq);

		if (t)
			thread_wake(t, 0);
	}
}

bool pageout_wait_for_memory(void)
{
	pageout_check_pressure();
	return thread_block(&memory_wq, THREAD_BLOCKED_PAGER, 0, 10000000) != ERR_DEAD;
}

void pageout_memory_freed(void)
{
	/* Room for a whole cluster, or a waiter would only fail again. */
	if (pmm_free_frames() > PMM_RESERVE_FRAMES + GRANT_MAX_PAGES)
		wait_queue_wake_all(&memory_wq, 0);
}

/* An object's pager is away: wait for its successor (objpager.h). */
static bool pager_came_back(const struct vm_region *r)
{
	return r->obj && memobj_pager_kept(r->obj) && memobj_wait_pager(r->obj);
}

/* What range_out does at va: evict what is there, or write back a dirty object page. */
static long range_out_at(struct proc *p, struct vm_region *r, uint64_t va, int max,
			 bool write_back, uint64_t *handle, int *span)
{
	pte_t *pte;

	if (!write_back)
		return evict_at(p, r, va, max, false, handle, span);
	pte = arch_pt_leaf(p->vm.root, va, false);
	*handle = 0;
	*span = 1;
	if (!pte || !arch_pte_present(*pte) || !object_page(r, *pte))
		return 0;
	return memobj_write_back(p, r, va, handle);
}

static long range_out(struct proc *p, uint64_t addr, size_t len, bool write_back)
{
	uint64_t handles[64];
	uint64_t resident_before = p->vm.resident_pages;
	int nh = 0;

	if (!vm_range_ok(addr, len) || p->vm.pinned)
		return ERR_INVAL;
	for (uint64_t va = PAGE_ALIGN_DOWN(addr); va < addr + len;) {
		struct vm_region *r = vm_find(&p->vm, va);
		int max = (int)((addr + len - va + PAGE_SIZE - 1) / PAGE_SIZE), span;
		long out;

		if (!r || !evictable(r))
			return ERR_PERM;
		if (nh == 63)
			while (nh)
				request_wait(handles[--nh]);
		out = range_out_at(p, r, va, max < PAGEOUT_CLUSTER ? max : PAGEOUT_CLUSTER,
				   write_back, &handles[nh], &span);
		if (out == ERR_BUSY || out == ERR_FULL) {
			if (nh == 0)
				request_wait_for_slot();	/* someone else's requests */
			while (nh)	/* let ours finish, then go on */
				request_wait(handles[--nh]);
			continue;
		}
		if (out == ERR_DEAD && pager_came_back(r))
			continue;	/* the same pages, to the restarted pager */
		if (out < 0)
			return out;
		if (handles[nh])
			nh++;
		va += (uint64_t)span * PAGE_SIZE;
	}
	while (nh)
		request_wait(handles[--nh]);
	/* What really left memory: a failed page-out leaves its pages resident. */
	return resident_before > p->vm.resident_pages
		       ? (long)(resident_before - p->vm.resident_pages) : 0;
}

long pageout_evict_range(struct proc *p, uint64_t addr, size_t len)
{
	return range_out(p, addr, len, false);
}

long pageout_write_back_range(struct proc *p, uint64_t addr, size_t len)
{
	return range_out(p, addr, len, true);
}
