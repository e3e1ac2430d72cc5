// SPDX-License-Identifier: MIT
/*
 * Grants: the kernel lends a frame (or a cluster of frames) to exactly one
 * user process at a time, for exactly one page request, and takes it back.
 *
 * The model
 * ---------
 * A grant is a slot in a fixed table; its id is index + generation, so a
 * stale, forged or recycled id never names a live grant (handle.h).
 *
 *     FREE ──create──> LENT(holder) ──forward──> LENT(new holder)
 *                         │                          │
 *                         └──────────┬───────────────┘
 *                                    end (completed | failed | overtime)
 *                                    │  or the holder dies: back to the
 *                                    │  forwarder if it lives (it may
 *                                    │  forward again), else revoked, then end
 *                                    ▼
 *                                   FREE (generation bumped)
 *
 * Who may do what:
 *   - The kernel creates a grant when it sends a page request in a grant
 *     mode, and ends it when the request is answered, fails, overruns its
 *     overtime, or its pager dies.  Only the kernel ends grants.
 *   - The holder (and only the holder) may read the grant's description
 *     (sys_grant_info) and forward it, once per hop, to one other process
 *     (swapd -> ata, fs -> ata).  Forwarding takes the forwarder's own
 *     access away before the new holder gets any.
 *   - A holder that may program DMA (the `dma` right) and reads the
 *     description learns the frames' physical addresses: from then on its
 *     device may be transferring into them, and the grant is DMA-busy
 *     until the holder says its device is done with them (sys_grant_done:
 *     the transfer ended, or it stopped the bus master and reset the
 *     channel).  A page-in that fails while its grant is DMA-busy, or
 *     after a DMA-busy holder died, has its frames quarantined, never
 *     freed: the device may still write them (mm/request.c).
 *   - In FILL_GRANT_MAP mode the holder sees the frames in a window of its
 *     address space (GRANT_WINDOW_BASE, one slot per grant), writable for
 *     page-in, read-only for page-out.  In FILL_GRANT_DMA mode it gets no
 *     CPU mapping: no map, no unmap, no TLB flush.  In both modes it may
 *     have its device move the bytes: with an IOMMU the frames are mapped
 *     in the holder's device domain, for as long as it holds the grant,
 *     and it learns their device addresses (kernel/iommu); a device fault
 *     pinned on the grant fails it.  Without one it learns the physical
 *     addresses and nothing stops a DMA-capable driver from writing
 *     elsewhere: DMA rights are trust, granted by the boot configuration.
 *
 * Invariants:
 *   - A lent frame is mapped in at most one user address space, the
 *     holder's window, or one device domain, the holder's, and never in the
 *     faulting process until the grant has ended: grant_end() unmaps (and
 *     flushes the TLB entry when the holder's tables are live, and the
 *     IOTLB, waiting for it) before it returns, and only then does the
 *     caller map the frame at the fault.
 *   - Frames belong to the page request, never to the grant: a grant never
 *     frees a frame, so a frame is freed exactly once, by its request.
 *   - Lent frames are FRAME_GRANT in the frame table while lent.
 *
 * Concurrency: the kernel lock (lock.h), held by whoever calls in.  A
 * holder's threads may run on several CPUs while the kernel takes a grant
 * back: unmap_window() shoots the window's translations down on each of
 * them (mm/tlb.h) before the frames change hands.
 */
#include "grant.h"

#include <ferry/err.h>
#include <string.h>

#include "../clock.h"
#include "../handle.h"
#include "../lock.h"
#include "../iommu/iommu.h"
#include "../log.h"
#include "../mm/pmm.h"
#include "../mm/tlb.h"
#include "../panic.h"
#include "../proc/proc.h"
#include "../trace.h"

struct grant {
	uint32_t gen;
	bool lent;
	bool revoked;
	enum fill_mode mode;
	bool writable;
	int npages;
	paddr_t frames[GRANT_MAX_PAGES];
	struct proc *holder;		/* NULL once revoked */
	/* A DMA-capable holder learned the frames' addresses and has not said
	 * its device is done with them (sys_grant_done). */
	bool dma_busy;
	/* A holder died DMA-busy: its device may still be writing the frames;
	 * nothing the kernel sees afterwards says it has stopped. */
	bool dma_unsettled;
	int window_slot;		/* in the holder, FILL_GRANT_MAP */
	uint64_t iova;			/* FILL_GRANT_DMA in the holder's device domain; 0: none */
	uint64_t iova_was;		/* the last one, for the history */
	int domain_was;			/* the device domain it was last mapped in; 0: none */
	bool device_fault;		/* the IOMMU pinned a fault on it */
	uint64_t holder_pid, forwarded_from;
	uint64_t fault_pid, fault_va, request;
	uint64_t created_ns;
};

static struct grant grants[GRANT_MAX];
static struct grant_view history[GRANT_HISTORY];
static unsigned history_next;
static int live_grants;

void grant_init(void)
{
	for (int i = 0; i < GRANT_MAX; i++)
		grants[i].gen = 1;
}

static uint64_t grant_id(const struct grant *g)
{
	return handle_make((uint32_t)(g - grants), g->gen);
}

static struct grant *grant_get(uint64_t id)
{
	uint32_t i = handle_index(id);

	if (id == 0 || i >= GRANT_MAX || !grants[i].lent || grants[i].gen != handle_gen(id))
		return NULL;
	return &grants[i];
}

static uint64_t window_va(int slot)
{
	return GRANT_WINDOW_BASE + (uint64_t)slot * GRANT_MAX_PAGES * PAGE_SIZE;
}

/* A window slot no other live grant of this holder uses; -1 if all are. */
static int free_window_slot(const struct proc *holder)
{
	uint32_t used = holder->vm.window_slots_used;

	for (int s = 0; s < GRANT_PER_HOLDER; s++)
		if (!(used & (1u << s)))
			return s;
	return -1;
}

static pte_t *window_pte(struct grant *g, int page)
{
	return &g->holder->vm.window_ptes[g->window_slot * GRANT_MAX_PAGES + page];
}

static int map_window(struct grant *g)
{
	unsigned flags = VM_USER | VM_READ | (g->writable ? VM_WRITE : 0);

	if (vm_grant_window(&g->holder->vm))
		return ERR_NOMEM;
	for (int i = 0; i < g->npages; i++)
		*window_pte(g, i) = arch_pte_make(g->frames[i], flags);
	return 0;
}

/*
 * Takes the window mapping away on every CPU: the holder's threads may
 * run on several, one of them writing through the window right now.  One
 * shootdown for all the grant's pages; on return no CPU reaches them.
 */
static void unmap_window(struct grant *g)
{
	struct tlb_batch b;
	uint64_t va = window_va(g->window_slot);

	tlb_batch_init(&b, g->mode);
	for (int i = 0; i < g->npages; i++) {
		arch_pte_exchange(window_pte(g, i), 0);
		tlb_batch_add(&b, &g->holder->vm, va + (uint64_t)i * PAGE_SIZE);
	}
	tlb_batch_flush(&b);
}

static void detach_holder(struct grant *g)
{
	if (!g->holder)
		return;
	if (g->mode == FILL_GRANT_MAP)
		unmap_window(g);
	/* A holder that dies DMA-busy leaves it unsettled (grant_release_holder). */
	if (g->iova && iommu_grant_unmap(grant_id(g), g->dma_busy || g->dma_unsettled))
		g->device_fault = true;
	g->iova = 0;
	g->holder->vm.window_slots_used &= ~(1u << g->window_slot);
	g->holder = NULL;
}

static long attach_holder(struct grant *g, struct proc *holder)
{
	int slot = free_window_slot(holder);

	if (slot < 0)
		return ERR_BUSY;
	g->holder = holder;
	g->holder_pid = holder->pid;
	g->window_slot = slot;
	if (g->mode == FILL_GRANT_MAP && map_window(g)) {
		g->holder = NULL;
		return ERR_NOMEM;
	}
	/* Both modes: a driver fills a mapped grant by DMA too when it can. */
	g->iova = iommu_grant_map(holder, grant_id(g), g->frames, g->npages, g->writable,
				  &g->domain_was);
	g->iova_was = g->iova ? g->iova : g->iova_was;
	holder->vm.window_slots_used |= 1u << slot;
	return 0;
}

long grant_create(const struct grant_lend *l, uint64_t *id, uint64_t *window)
{
	struct grant *g = NULL;
	long err;

	KASSERT(kernel_lock_held());
	KASSERT(l->npages >= 1 && l->npages <= GRANT_MAX_PAGES);
	KASSERT(l->mode == FILL_GRANT_MAP || l->mode == FILL_GRANT_DMA);
	for (int i = 0; i < GRANT_MAX && !g; i++)
		if (!grants[i].lent)
			g = &grants[i];
	if (!g)
		return ERR_BUSY;
	g->mode = l->mode;
	g->writable = l->writable;
	g->npages = l->npages;
	memcpy(g->frames, l->frames, (size_t)l->npages * sizeof(paddr_t));
	g->revoked = false;
	g->dma_busy = false;
	g->dma_unsettled = false;
	g->device_fault = false;
	g->iova = g->iova_was = 0;
	g->domain_was = 0;
	g->forwarded_from = 0;
	g->fault_pid = l->fault_pid;
	g->fault_va = l->fault_va;
	g->request = l->request;
	err = attach_holder(g, l->holder);
	if (err)
		return err;
	g->lent = true;
	g->created_ns = clock_ns();
	for (int i = 0; i < g->npages; i++)
		pmm_set_use(g->frames[i], FRAME_USER, FRAME_GRANT);
	live_grants++;
	*id = grant_id(g);
	*window = g->mode == FILL_GRANT_MAP ? window_va(g->window_slot) : 0;
	trace_emit(&(struct trace_event){ .kind = TRACE_GRANT_LENT, .grant = *id, .mode = g->mode,
					  .npages = g->npages });
	return 0;
}

static void record_history(const struct grant *g, enum grant_outcome outcome)
{
	struct grant_view *v = &history[history_next++ % GRANT_HISTORY];

	/* Cleared up to its frames, of which only [0, npages) are read. */
	memset(v, 0, offsetof(struct grant_view, frames));
	v->id = grant_id(g);
	v->mode = g->mode;
	v->writable = g->writable;
	v->npages = g->npages;
	v->frame0 = g->frames[0];
	v->fault_pid = g->fault_pid;
	v->fault_va = g->fault_va;
	v->holder_pid = g->holder_pid;
	v->forwarded_from = g->forwarded_from;
	v->request = g->request;
	v->age_ns = clock_ns() - g->created_ns;
	v->outcome = outcome;
	v->revoked = g->revoked;
	v->iova = g->iova_was;
	v->device_fault = g->device_fault;
	memcpy(v->frames, g->frames, (size_t)g->npages * sizeof(paddr_t));
}

/* Newest first: the grant that just ended is nearly always the last entry. */
void grant_history_note_phases(uint64_t id, const uint64_t *phase_cycles)
{
	for (unsigned i = 1; i <= GRANT_HISTORY && i <= history_next; i++) {
		struct grant_view *v = &history[(history_next - i) % GRANT_HISTORY];

		if (v->id == id && !v->live) {
			memcpy(v->phase_cycles, phase_cycles, sizeof(v->phase_cycles));
			return;
		}
	}
}

long grant_end(uint64_t id, enum grant_outcome outcome)
{
	struct grant *g = grant_get(id);
	bool revoked;

	KASSERT(kernel_lock_held());
	if (!g)
		panic("grant_end: no live grant %#lx", (unsigned long)id);
	detach_holder(g);	/* mappings gone before anyone maps the frames */
	for (int i = 0; i < g->npages; i++)
		pmm_set_use(g->frames[i], FRAME_GRANT, FRAME_USER);
	revoked = g->revoked;
	if (revoked)
		outcome = GRANT_REVOKED;
	record_history(g, outcome);
	if (g->device_fault)
		log_warn("grant %#lx (request %#lx): a DMA fault of its device was pinned on it: "
			 "the frames are not trusted", (unsigned long)id, (unsigned long)g->request);
	g->lent = false;
	g->gen = handle_next_gen(g->gen);
	live_grants--;
	trace_emit(&(struct trace_event){ .kind = TRACE_GRANT_TAKEN_BACK, .grant = id,
					  .mode = g->mode, .outcome = outcome });
	return revoked ? ERR_DEAD : g->device_fault ? ERR_DMAFAULT : 0;
}

bool grant_dma_busy(uint64_t id)
{
	struct grant *g = grant_get(id);

	return g && g->dma_busy;
}

int grant_device_domain(uint64_t id)
{
	struct grant *g = grant_get(id);

	return g ? g->domain_was : 0;
}

bool grant_dma_unsettled(uint64_t id)
{
	struct grant *g = grant_get(id);

	return g && g->dma_unsettled;
}

long grant_forward(struct proc *caller, uint64_t id, uint64_t to_pid)
{
	struct grant *g = grant_get(id);
	struct proc *to = proc_lookup(to_pid);
	long err;

	if (!g || g->holder != caller)
		return ERR_BADHANDLE;	/* dead, forged, or not (any longer) yours */
	if (!to || to == caller || proc_is_dying(to))
		return ERR_NOENT;
	if (free_window_slot(to) < 0)
		return ERR_BUSY;
	detach_holder(g);
	err = attach_holder(g, to);
	if (err) {
		/* The target could not take it: nobody holds it; the request
		 * will fail on its answer.  Never hand it back half-done. */
		g->revoked = true;
		return err;
	}
	g->forwarded_from = caller->pid;
	trace_emit(&(struct trace_event){ .kind = TRACE_GRANT_FORWARDED, .grant = id,
					  .mode = g->mode });
	return 0;
}

long grant_info_for(struct proc *caller, uint64_t id, struct grant_info *out)
{
	struct grant *g = grant_get(id);

	if (!g || g->holder != caller)
		return ERR_BADHANDLE;
	if (proc_has_right(caller, RIGHT_DMA))
		g->dma_busy = true;	/* it may program its device with these from now on */
	memset(out, 0, sizeof(*out));
	out->mode = g->mode;
	out->npages = (uint32_t)g->npages;
	out->writable = g->writable;
	out->window = g->mode == FILL_GRANT_MAP ? window_va(g->window_slot) : 0;
	out->forwarded_from = g->forwarded_from;
	out->device = g->iova != 0;
	for (int i = 0; i < g->npages; i++) {
		if (iommu_translating())
			out->phys[i] = g->iova ? g->iova + (uint64_t)i * PAGE_SIZE : 0;
		else
			out->phys[i] = g->frames[i];
	}
	return 0;
}

long grant_done(struct proc *caller, uint64_t id, uint64_t flags)
{
	struct grant *g = grant_get(id);

	if (!g) {
		/* Ended while its transfer ran: its frames may wait for this. */
		iommu_grant_settled(caller, id);
		return ERR_BADHANDLE;
	}
	if (g->holder != caller)
		return ERR_BADHANDLE;
	if (flags & ~(uint64_t)GRANT_DONE_WRITTEN)
		return ERR_INVAL;
	g->dma_busy = false;
	/* Only the device wrote them, and the holder may have no mapping
	 * (or one that vanishes when the grant ends): the kernel says so. */
	if ((flags & GRANT_DONE_WRITTEN) && g->writable)
		for (int i = 0; i < g->npages; i++)
			arch_cost_device_wrote(g->frames[i]);
	return 0;
}

/*
 * A forwarded grant whose holder died goes back to the process that
 * forwarded it, if that one lives: swapd or fs can then forward it to a
 * restarted driver and the request completes.  => true if it went back.
 */
static bool return_to_forwarder(struct grant *g, struct proc *dead)
{
	struct proc *back = g->forwarded_from ? proc_lookup(g->forwarded_from) : NULL;

	if (!back || back == dead || proc_is_dying(back) || free_window_slot(back) < 0)
		return false;
	detach_holder(g);
	if (attach_holder(g, back))
		return false;
	g->forwarded_from = 0;
	log_warn("grant %#lx back with %s (pid %lu): holder %s (pid %lu) died",
		 (unsigned long)grant_id(g), back->name, (unsigned long)back->pid, dead->name,
		 (unsigned long)dead->pid);
	return true;
}

void grant_release_holder(struct proc *p)
{
	for (int i = 0; i < GRANT_MAX; i++) {
		struct grant *g = &grants[i];

		if (!g->lent || g->holder != p)
			continue;
		if (g->dma_busy)
			g->dma_unsettled = true;
		g->dma_busy = false;	/* the next holder has not learned the addresses */
		if (return_to_forwarder(g, p))
			continue;
		log_warn("grant %#lx revoked: holder %s (pid %lu) died",
			 (unsigned long)grant_id(g), p->name, (unsigned long)p->pid);
		detach_holder(g);
		g->revoked = true;
	}
}

int grant_live_count(void)
{
	return live_grants;
}

static void view_of(const struct grant *g, struct grant_view *v)
{
	*v = (struct grant_view){
		.id = grant_id(g), .mode = g->mode, .writable = g->writable, .live = true,
		.npages = g->npages, .frame0 = g->frames[0], .fault_pid = g->fault_pid,
		.fault_va = g->fault_va, .holder_pid = g->holder ? g->holder->pid : 0,
		.window = g->holder && g->mode == FILL_GRANT_MAP ? window_va(g->window_slot) : 0,
		.forwarded_from = g->forwarded_from, .request = g->request,
		.age_ns = clock_ns() - g->created_ns, .revoked = g->revoked,
		.iova = g->iova, .device_fault = g->device_fault,
	};
	memcpy(v->frames, g->frames, sizeof(v->frames));
}

bool grant_view_live(int index, struct grant_view *v)
{
	for (int i = 0; i < GRANT_MAX; i++) {
		if (!grants[i].lent || index-- > 0)
			continue;
		view_of(&grants[i], v);
		return true;
	}
	return false;
}

bool grant_view_history(int index, struct grant_view *v)
{
	unsigned n = history_next < GRANT_HISTORY ? history_next : GRANT_HISTORY;

	if (index < 0 || (unsigned)index >= n)
		return false;
	*v = history[(history_next - 1 - (unsigned)index) % GRANT_HISTORY];
	return true;
}

bool grant_frame_holder(paddr_t pa, uint64_t *holder_pid, uint64_t *window)
{
	for (int i = 0; i < GRANT_MAX; i++) {
		const struct grant *g = &grants[i];

		if (!g->lent)
			continue;
		for (int k = 0; k < g->npages; k++) {
			if (g->frames[k] != pa)
				continue;
			*holder_pid = g->holder ? g->holder->pid : 0;
			*window = g->holder && g->mode == FILL_GRANT_MAP
					  ? window_va(g->window_slot) + (uint64_t)k * PAGE_SIZE
					  : 0;
			return true;
		}
	}
	return false;
}
