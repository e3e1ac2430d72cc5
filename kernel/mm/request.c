// SPDX-License-Identifier: MIT
#include "request.h"
#include "request_int.h"

#include <ferry/err.h>
#include <proto/pager.h>
#include <string.h>

#include "../clock.h"
#include "../cmdline.h"
#include "../grant/grant.h"
#include "../handle.h"
#include "../iommu/iommu.h"
#include "../ipc/port.h"
#include "../log.h"
#include "../mm/heap.h"
#include "../panic.h"
#include "../proc/proc.h"
#include "../trace.h"
#include "memobj.h"
#include "fault_stats.h"	/* fill_mode_name() */
#include "pageout.h"
#include "pmm.h"
#include "pte.h"
#include "swap.h"
#include "tlb.h"
#include "vm.h"
#include "zeropool.h"

enum fill_mode fill_mode_current = FILL_GRANT_MAP;
int fault_cluster_pages = 8;

static struct page_request reqs[REQUEST_MAX];
static uint64_t overtime_abort_ns = 30ULL * 1000000000;
static uint64_t overtime_warn_ns = 5ULL * 1000000000;
static struct wait_queue slot_waiters;	/* threads waiting for a free request */
static bool zero_touch_on = true;	/* zerotouch=off: the comparison's other half */

static enum fill_mode parse_fill_mode(const char *s)
{
	for (int m = 0; m < FILL_NMODES; m++)
		if (strcmp(s, fill_mode_name((enum fill_mode)m)) == 0)
			return (enum fill_mode)m;
	log_warn("faultpath=%s unknown: using %s", s, fill_mode_name(fill_mode_current));
	return fill_mode_current;
}

void request_init(void)
{
	const char *fp = cmdline_get("faultpath");
	const char *zt = cmdline_get("zerotouch");
	uint64_t ms = cmdline_get_u64("overtime", 0);

	for (int i = 0; i < REQUEST_MAX; i++) {
		reqs[i].index = (uint32_t)i;
		reqs[i].gen = 1;
		wait_queue_init(&reqs[i].waiters);
	}
	wait_queue_init(&slot_waiters);
	if (fp)
		fill_mode_current = parse_fill_mode(fp);
	zero_touch_on = !(zt && strcmp(zt, "off") == 0);
	if (ms) {
		overtime_abort_ns = ms * 1000000;
		overtime_warn_ns = overtime_abort_ns / 4;
	}
	log_info("fault path: %s, cluster %d pages, overtime %lu ms",
		 fill_mode_name(fill_mode_current), fault_cluster_pages,
		 (unsigned long)(overtime_abort_ns / 1000000));
}

struct page_request *request_get(uint64_t h)
{
	uint32_t i = handle_index(h);

	if (i >= REQUEST_MAX || !reqs[i].used || reqs[i].gen != handle_gen(h))
		return NULL;
	return &reqs[i];
}

/* A free request for n pages at va of region reg of p, going in `dir`. */
static struct page_request *req_alloc(enum request_dir dir, struct proc *p,
				      const struct vm_region *reg, uint64_t va, int n)
{
	for (int i = 0; i < REQUEST_MAX; i++) {
		struct page_request *r = &reqs[i];

		if (r->used)
			continue;
		memset(&r->dir, 0, offsetof(struct page_request, frames) -
				   offsetof(struct page_request, dir));
		wait_queue_init(&r->waiters);
		r->used = true;
		r->started_ns = clock_run_ns();
		r->dir = dir;
		r->mode = fill_mode_current;
		r->proc = p;
		r->pid = p ? p->pid : 0;	/* 0: the kernel's own (an object's write-back) */
		r->region_id = reg ? reg->id : 0;
		r->va = va;
		r->npages = n;
		return r;
	}
	return NULL;
}

void req_release(struct page_request *r)
{
	r->used = false;
	r->gen = handle_next_gen(r->gen);
	wait_queue_wake_all(&slot_waiters, 0);
}

static struct proc *holder_of(const struct page_request *r)
{
	if (r->swap) {
		struct swap_provider *sp = swap_provider(r->provider);

		return sp ? sp->proc : NULL;
	}
	return port_owner(r->port);
}

static long lend(struct page_request *r, uint64_t *window)
{
	struct proc *holder = holder_of(r);
	struct grant_lend l = {
		.mode = r->mode, .writable = r->dir == REQUEST_IN, .npages = r->npages,
		.frames = r->frames, .holder = holder, .fault_pid = r->pid, .fault_va = r->va,
		.request = req_handle(r),
	};

	if (!holder)
		return ERR_DEAD;
	return grant_create(&l, &r->grant, window);
}

static void build_msg(const struct page_request *r, struct msg *m, uint64_t window)
{
	memset(m, 0, sizeof(*m));
	m->op = r->dir == REQUEST_IN ? PAGER_PAGE_IN : PAGER_PAGE_OUT;
	m->arg[PAGER_ARG_KEY] = r->swap ? r->slot : r->offset;
	m->arg[PAGER_ARG_OBJECT] = r->object;
	m->arg[PAGER_ARG_NPAGES] = (uint64_t)r->npages;
	m->arg[PAGER_ARG_MODE] = r->mode;
	m->arg[PAGER_ARG_GRANT] = r->grant;
	m->arg[PAGER_ARG_WINDOW] = window;
}

/* Sends a prepared request; on failure undoes the grant (the caller the PTEs). */
static long send(struct page_request *r)
{
	uint64_t window = 0;
	struct msg m;
	long token;

	if (r->mode != FILL_COPY) {
		long err = lend(r, &window);

		if (err)
			return err;
	}
	build_msg(r, &m, window);
	if (r->dir == REQUEST_OUT && r->mode == FILL_COPY) {
		token = ipc_kernel_call_pages(r->port, &m, r->frames, r->npages, req_answered,
					      r);
		if (token > 0)
			trace_emit(&(struct trace_event){
				.kind = TRACE_BYTES_COPIED, .mode = r->mode,
				.bytes = (uint64_t)r->npages * PAGE_SIZE });
	} else if (r->dir == REQUEST_IN && r->mode == FILL_COPY) {
		token = ipc_kernel_call_into(r->port, &m, r->frames, r->npages, req_answered, r);
	} else {
		token = ipc_kernel_call(r->port, &m, req_answered, r);
	}
	if (token < 0) {
		if (r->grant)
			grant_end(r->grant, GRANT_FAILED);
		r->grant = 0;
		return token;
	}
	r->token = (uint64_t)token;
	return 0;
}

/* r->ptes[i]: page i's, found by cluster_in(). */
static void set_inflight(struct page_request *r)
{
	for (int i = 0; i < r->npages; i++)
		*r->ptes[i] = arch_pte_absent(pte_inflight_make(req_handle(r)));
}

/* How many pages from va on (ptes[0]: va's) are in the next slots of the
 * same swap provider; their PTEs into ptes[]. */
static int cluster_in(struct proc *p, struct vm_region *reg, uint64_t va, pte_t **ptes, int max)
{
	uint64_t sw0 = arch_pte_payload(*ptes[0]);
	int n = 1;

	while (n < max && va + (uint64_t)n * PAGE_SIZE < reg->end) {
		pte_t *pte = arch_pt_leaf_next(p->vm.root, ptes[n - 1],
					       va + (uint64_t)(n - 1) * PAGE_SIZE);
		uint64_t sw;

		if (!pte || arch_pte_present(*pte))
			break;
		sw = arch_pte_payload(*pte);
		if (!pte_is_swapped(sw) || pte_swap_provider(sw) != pte_swap_provider(sw0) ||
		    pte_swap_slot(sw) != pte_swap_slot(sw0) + (uint64_t)n)
			break;
		ptes[n++] = pte;
	}
	return n;
}

static void undo_start(struct page_request *r)
{
	for (int i = 0; r->obj && i < r->npages; i++) {
		if (r->dir == REQUEST_IN)
			memobj_end_in(r->obj, r->obj_page + (uint64_t)i, req_handle(r), r->frames[i],
				      false, false);
		else
			memobj_end_out(r->obj, r->obj_page + (uint64_t)i, req_handle(r),
				       r->frames[i], ERR_AGAIN);	/* never sent */
	}
	if (r->obj) {
		memobj_put(r->obj);
		return;
	}
	for (int i = 0; i < r->npages; i++) {
		pte_t *pte = r->ptes[i];

		if (r->dir == REQUEST_IN) {
			*pte = arch_pte_absent(backing_payload(r, i));
			if (r->frames[i])
				pmm_free(r->frames[i]);
		} else {
			*pte = r->saved_pte[i];
		}
	}
}

/* => the pages' PTEs are INFLIGHT(r) already (and for a page-out no CPU
 *    reaches the frames any more). */
static long start(struct page_request *r, uint64_t *handle)
{
	long err = send(r);

	if (err) {
		undo_start(r);
		req_release(r);
		return err;
	}
	stamp(r, PHASE_SENT);
	emit(r, TRACE_REQUEST_SENT);
	*handle = req_handle(r);
	return 0;
}

/* The mode the provider or pager serves for the one asked for. */
static enum fill_mode served_mode(const struct page_request *r)
{
	return r->swap ? swap_fill_mode(r->provider, r->mode)
		       : fill_mode_served(port_pager_modes(r->port), r->mode);
}

/*
 * Zero-touch page-in: a frame lent for DMA need not be zeroed first when
 * nobody but a device can reach it, and the device only to write: a DMA
 * grant (no CPU mapping for any holder) with an IOMMU (the device mapping
 * is write-only for a page-in).  Only swap page-ins: a swap slot is always
 * a whole page, so a page the provider says it filled was written whole,
 * while a file page may be read short (a hole, the end of the file) and
 * relies on zeros in the rest.  Pages past the count filled are freed,
 * never mapped; see zero_untouched() for a grant no device ever reached.
 */
static bool zero_touch_allowed(const struct page_request *r)
{
	return r->mode == FILL_GRANT_DMA && r->swap && iommu_translating() && zero_touch_on;
}

/*
 * The frames the pages will live in, in every mode: copy-mode answers are
 * copied straight into them.  User frames come out of the reserve only
 * through the page-out daemon: short of memory, the caller waits and
 * tries again.  => false when there are not enough now.
 */
static bool take_frames(struct page_request *r)
{
	if (pmm_free_frames() < PMM_RESERVE_FRAMES + (size_t)r->npages)
		return false;
	r->zero_touch = zero_touch_allowed(r);
	for (int i = 0; i < r->npages; i++)	/* cannot fail above the reserve */
		r->frames[i] = r->mode == FILL_COPY || r->zero_touch ? pmm_alloc(FRAME_USER)
								    : zeropool_take();
	if (r->zero_touch)
		trace_emit(&(struct trace_event){ .kind = TRACE_FRAMES_UNZEROED, .mode = r->mode,
						  .request = req_handle(r), .npages = r->npages });
	return true;
}

long request_page_in(struct proc *p, struct vm_region *reg, uint64_t va, pte_t *pte, int n,
		     uint64_t t_fault, uint64_t *handle)
{
	uint64_t sw = arch_pte_payload(*pte);
	struct swap_provider *sp = swap_provider(pte_swap_provider(sw));
	pte_t *ptes[GRANT_MAX_PAGES];
	struct page_request *r;

	KASSERT(pte_is_swapped(sw) && n <= GRANT_MAX_PAGES);
	ptes[0] = pte;	/* copied into the request once it has one */
	if (!sp)
		return ERR_DEAD;	/* its provider died: the page is gone */
	r = req_alloc(REQUEST_IN, p, reg, va, cluster_in(p, reg, va, ptes, n));
	if (!r)
		return ERR_BUSY;
	r->t_fault = t_fault;
	r->swap = true;
	r->provider = pte_swap_provider(sw);
	r->slot = pte_swap_slot(sw);
	r->port = sp->port;
	r->mode = served_mode(r);
	if (!take_frames(r)) {
		req_release(r);
		return ERR_NOMEM;
	}
	memcpy(r->ptes, ptes, (size_t)r->npages * sizeof(ptes[0]));
	set_inflight(r);	/* an object's pages are marked by memobj_start_in() */
	return start(r, handle);
}

/* An object's pages, to the port of its pager now.  => false: the pager is away. */
static bool object_backing(struct page_request *r, struct memobj *o, uint64_t pg)
{
	r->obj = o;
	r->obj_page = pg;
	r->port = memobj_port(o);	/* 0: its pager is away (objpager.h) */
	r->object = o->object;
	r->offset = pg << PAGE_SHIFT;
	r->mode = served_mode(r);
	return r->port != 0;
}

long request_object_in(struct proc *p, struct memobj *o, uint64_t pg, int n,
		       struct vm_region *reg, uint64_t va, uint64_t t_fault, uint64_t *handle)
{
	struct page_request *r = req_alloc(REQUEST_IN, p, reg, va, n);
	long err = 0;

	if (!r)
		return ERR_BUSY;
	r->t_fault = t_fault;
	if (!object_backing(r, o, pg))
		err = ERR_DEAD;	/* the fault waits for a restarted pager */
	else if (!take_frames(r))
		err = ERR_NOMEM;
	else if ((err = memobj_start_in(o, pg, n, req_handle(r), reg, va)) != 0)
		for (int i = 0; i < n; i++)
			pmm_free(r->frames[i]);
	if (err) {
		req_release(r);
		return err;
	}
	memobj_hold(o);		/* the request's, until it ends */
	return start(r, handle);
}

long request_object_out(struct proc *p, struct memobj *o, uint64_t pg, int n, uint64_t *handle)
{
	struct page_request *r = req_alloc(REQUEST_OUT, p, NULL, 0, n);

	if (!r)
		return ERR_BUSY;
	r->t_fault = arch_cycles();
	if (!object_backing(r, o, pg)) {
		req_release(r);
		return ERR_DEAD;	/* its pager is away: the pages stay dirty */
	}
	memobj_hold(o);
	memobj_start_out(o, pg, n, req_handle(r), r->frames, r->mode);
	return start(r, handle);
}

/*
 * The victims' PTEs become INFLIGHT in one atomic swap each (the dirty bit
 * a writer on another CPU sets comes along), then one shootdown: after it
 * no thread anywhere can write behind the copy or the lent frames.
 */
static void take_pages_out(struct page_request *r)
{
	struct tlb_batch b;
	pte_t inflight = arch_pte_absent(pte_inflight_make(req_handle(r)));

	tlb_batch_init(&b, r->mode);
	for (int i = 0; i < r->npages; i++) {
		pte_t *pte = i ? arch_pt_leaf_next(r->proc->vm.root, r->ptes[i - 1], page_va(r, i - 1))
			       : arch_pt_leaf(r->proc->vm.root, page_va(r, i), false);

		KASSERT(pte && arch_pte_present(*pte));
		r->ptes[i] = pte;
		r->saved_pte[i] = arch_pte_exchange(pte, inflight);
		r->frames[i] = arch_pte_frame(r->saved_pte[i]);
		tlb_batch_add(&b, &r->proc->vm, page_va(r, i));
	}
	tlb_batch_flush(&b);
}

long request_page_out(struct proc *p, struct vm_region *reg, uint64_t va, int n,
		      unsigned provider, uint64_t slot, uint64_t *handle)
{
	struct page_request *r = req_alloc(REQUEST_OUT, p, reg, va, n);
	long err;

	if (!r)
		return ERR_BUSY;
	r->t_fault = arch_cycles();
	r->swap = true;
	r->provider = provider;
	r->slot = slot;
	r->port = swap_provider(provider)->port;
	r->mode = served_mode(r);
	take_pages_out(r);
	err = start(r, handle);
	if (err)
		return err;
	p->vm.resident_pages -= (uint64_t)n;
	swap_provider(provider)->outstanding++;
	return 0;
}

long request_wait(uint64_t handle)
{
	struct page_request *r = request_get(handle);

	if (!r)
		return 0;	/* already over: the caller looks at the PTE again */
	return thread_block(&r->waiters, THREAD_BLOCKED_PAGER, handle, -1);
}

void request_wait_for_slot(void)
{
	thread_block(&slot_waiters, THREAD_BLOCKED_PAGER, 0, 10000000);
}

/* Ages are running time (clock_run_ns): a stop in kdb does not count. */
void request_check_overtime(void)
{
	uint64_t now = clock_run_ns();

	for (int i = 0; i < REQUEST_MAX; i++) {
		struct page_request *r = &reqs[i];
		uint64_t age;

		if (!r->used)
			continue;
		age = now - r->started_ns;
		if (age > overtime_abort_ns) {
			log_err("page request %#lx (%s of %d pages for pid %lu at %#lx) overran %lu ms:"
				" failing it", (unsigned long)req_handle(r),
				r->dir == REQUEST_IN ? "page-in" : "page-out", r->npages,
				(unsigned long)r->pid, (unsigned long)r->va,
				(unsigned long)(overtime_abort_ns / 1000000));
			ipc_kernel_cancel(r->token);
			req_finish(r, ERR_TIMEOUT, 0);
		} else if (age > overtime_warn_ns && !r->warned) {
			r->warned = true;
			log_warn("page request %#lx for pid %lu at %#lx is %lu ms old",
				 (unsigned long)req_handle(r), (unsigned long)r->pid,
				 (unsigned long)r->va, (unsigned long)(age / 1000000));
		}
	}
}

int request_live_count(void)
{
	int n = 0;

	for (int i = 0; i < REQUEST_MAX; i++)
		n += reqs[i].used;
	return n;
}

bool request_view(int index, struct page_request *out)
{
	for (int i = 0; i < REQUEST_MAX; i++) {
		if (!reqs[i].used || index-- > 0)
			continue;
		*out = reqs[i];
		return true;
	}
	return false;
}
