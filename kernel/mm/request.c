// SPDX-License-Identifier: MIT
#include "request.h"

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

static uint64_t req_handle(const struct page_request *r)
{
	return handle_make((uint32_t)(r - reqs), r->gen);
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
		memset(&r->dir, 0, sizeof(*r) - offsetof(struct page_request, dir));
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

static void req_release(struct page_request *r)
{
	r->used = false;
	r->gen = handle_next_gen(r->gen);
	wait_queue_wake_all(&slot_waiters, 0);
}

static uint64_t page_va(const struct page_request *r, int i)
{
	return r->va + (uint64_t)i * PAGE_SIZE;
}

static void stamp(struct page_request *r, enum fault_phase ph)
{
	r->phase[ph] = arch_cycles() - r->t_fault;
}

static void emit(struct page_request *r, enum trace_kind kind)
{
	trace_emit(&(struct trace_event){ .kind = kind, .grant = r->grant, .mode = r->mode,
					  .request = req_handle(r),
					  .page_in = r->dir == REQUEST_IN, .npages = r->npages });
}

/* The PTE of page i, if the page is still this request's to commit. */
static pte_t *still_ours(struct page_request *r, int i)
{
	struct proc *p = proc_lookup(r->pid);
	struct vm_region *reg;
	pte_t *pte;

	if (!p || p != r->proc || proc_is_dying(p))
		return NULL;
	reg = vm_find_id(&p->vm, r->region_id);
	if (!reg || page_va(r, i) < reg->start || page_va(r, i) >= reg->end)
		return NULL;
	pte = arch_pt_leaf(p->vm.root, page_va(r, i), false);
	if (!pte || arch_pte_present(*pte) || arch_pte_payload(*pte) !=
	    pte_inflight_make(req_handle(r)))
		return NULL;
	return pte;
}

static uint64_t backing_payload(const struct page_request *r, int i)
{
	return r->swap ? pte_swap_make(r->provider, r->slot + (uint64_t)i) : 0;
}

static void drop_slot(struct page_request *r, int i, bool bad)
{
	if (!r->swap)
		return;
	if (bad)
		swap_mark_bad(r->provider, r->slot + (uint64_t)i);
	else
		swap_free_slot(r->provider, r->slot + (uint64_t)i);
}

static unsigned region_vm_flags(const struct page_request *r)
{
	struct vm_region *reg = vm_find_id(&r->proc->vm, r->region_id);
	unsigned f = VM_USER | VM_READ;

	if (reg && (reg->prot & PROT_WRITE))
		f |= VM_WRITE;
	if (reg && (reg->prot & PROT_EXEC))
		f |= VM_EXEC;
	return f;
}

/*
 * Where a frame goes that a device may still be writing into (unsettled,
 * see finish()): without an IOMMU nothing can stop the transfer, so it is
 * quarantined for good; with one, the window is closed and every transfer
 * started after that faults, so it waits only for the driver to say its
 * device is done (iommu_park(); did: the domain the grant was last mapped
 * in).  A frame no domain ever mapped was out of every device's reach.
 */
static void release_unsettled(paddr_t frame, int did, uint64_t grant)
{
	if (!iommu_translating())
		pmm_quarantine(frame);
	else if (did)
		iommu_park(did, grant, frame);
	else
		pmm_free(frame);
}

/* One page of a finished page-in: map it, or put everything back, or free.
 * unsettled_did: -1 when no device can still write the frame, else the
 * domain for release_unsettled(). */
static void commit_in(struct page_request *r, int i, long result, int filled, paddr_t frame,
		      int unsettled_did)
{
	pte_t *pte;
	bool ok = result == 0 && i < filled;

	if (r->obj) {	/* the object takes it, and maps it where PTEs wait */
		if (!ok && frame && unsettled_did >= 0) {
			release_unsettled(frame, unsettled_did, r->grant);
			frame = 0;	/* disposed of: the object only forgets the page */
		}
		memobj_end_in(r->obj, r->obj_page + (uint64_t)i, req_handle(r), frame, ok, false);
		return;
	}
	pte = still_ours(r, i);
	if (ok && pte) {
		*pte = arch_pte_make(frame, region_vm_flags(r));
		r->proc->vm.resident_pages++;
		drop_slot(r, i, false);	/* the data lives in the frame now */
		return;
	}
	if (frame && unsettled_did >= 0)
		release_unsettled(frame, unsettled_did, r->grant);	/* a device may write it */
	else if (frame)
		pmm_free(frame);
	if (pte)
		*pte = arch_pte_absent(backing_payload(r, i));	/* still there to fetch */
	else
		drop_slot(r, i, false);	/* nobody refers to it any more */
}

/* What a page-out's result means for its page i: a media error the pager
 * pinned on other pages leaves this one stored. */
static long page_out_result(const struct page_request *r, int i, long result)
{
	if (result == ERR_IO && r->failed_pages && !((r->failed_pages >> i) & 1))
		return 0;
	return result;
}

/* Pages of a finished page-out that were stored. */
static int pages_stored(const struct page_request *r, long result)
{
	int n = 0;

	for (int i = 0; i < r->npages; i++)
		n += page_out_result(r, i, result) == 0;
	return n;
}

/* One page of a finished page-out: forget the frame, or map it back. */
static void commit_out(struct page_request *r, int i, long request_result)
{
	long result = page_out_result(r, i, request_result);
	pte_t *pte;

	if (r->obj) {	/* written back: dropped; else the object keeps it, dirty */
		memobj_end_out(r->obj, r->obj_page + (uint64_t)i, req_handle(r), r->frames[i],
			       result);
		return;
	}
	pte = still_ours(r, i);
	/* In flight, the page already stopped counting as resident. */
	if (result == 0 && pte) {
		*pte = arch_pte_absent(backing_payload(r, i));
		pmm_free(r->frames[i]);
		return;
	}
	if (result == 0) {
		pmm_free(r->frames[i]);
		drop_slot(r, i, false);
		return;
	}
	/* Failed: nothing is lost; the page stays resident and dirty. */
	if (pte) {
		*pte = r->saved_pte[i];
		r->proc->vm.resident_pages++;
	} else
		pmm_free(r->frames[i]);
	drop_slot(r, i, result == ERR_IO);
}

/*
 * Zero-touch frames (request_page_in) hold an earlier user's bytes until a
 * device overwrites them.  A pager that answers "filled" for a grant that
 * never reached a device domain (it did not forward it, or the driver had
 * none) cannot have filled them: they are zeroed now, so at worst the
 * fault sees zeros, never someone else's data.
 */
static void zero_untouched(struct page_request *r, int filled)
{
	log_warn("page request %#lx: answered filled, but its DMA grant never reached a device:"
		 " %d frames zeroed", (unsigned long)req_handle(r), filled);
	for (int i = 0; i < filled; i++)
		memset(phys_to_virt(r->frames[i]), 0, PAGE_SIZE);
}

static enum grant_outcome outcome_of(long result)
{
	if (result == 0)
		return GRANT_COMPLETED;
	return result == ERR_TIMEOUT ? GRANT_OVERTIME : GRANT_FAILED;
}

/*
 * A grant whose holder's device may still be transferring (grant.h: the
 * holder read the frames' addresses and has not said it is done, or died
 * before it did) cannot end well: a page-in's frames may still be
 * written, so they are not reused until that cannot happen
 * (release_unsettled(): quarantined, or parked with an IOMMU); a page-out
 * may not have reached the disk, so its pages stay resident.  A pager
 * that answers success while its driver's DMA is open is not believed.
 * => the request's result, overriding a success.
 */
static long settle_dma(struct page_request *r, long result, bool *unsettled)
{
	bool busy = r->grant && grant_dma_busy(r->grant);

	*unsettled = r->dir == REQUEST_IN && r->grant && result != 0 &&
		     (busy || grant_dma_unsettled(r->grant));
	if (!busy || result != 0)
		return result;
	log_warn("page request %#lx (pid %lu at %#lx): its pager answered while its driver's"
		 " DMA on grant %#lx was still open: failed", (unsigned long)req_handle(r),
		 (unsigned long)r->pid, (unsigned long)r->va, (unsigned long)r->grant);
	*unsettled = r->dir == REQUEST_IN;
	return r->dir == REQUEST_IN ? ERR_IO : ERR_AGAIN;
}

/* Ends a request: grant first, then pages, then waiters. */
/* The pages that made it: filled in, or stored (all, or those a media
 * error spared); none when the request failed otherwise. */
static int pages_moved(const struct page_request *r, long result, int filled)
{
	if (r->dir == REQUEST_OUT)
		return result ? pages_stored(r, result) : r->npages;
	return result ? 0 : filled;
}

static void count_ended(struct page_request *r, long result, int filled)
{
	struct swap_provider *sp = r->swap ? swap_provider(r->provider) : NULL;
	int moved = pages_moved(r, result, filled);

	if (sp && r->dir == REQUEST_OUT) {
		sp->outstanding--;
		sp->pages_out += (uint64_t)moved;
	} else if (sp) {
		sp->pages_in += (uint64_t)moved;
	}
	trace_emit(&(struct trace_event){ .kind = TRACE_REQUEST_ENDED, .mode = r->mode,
					  .request = req_handle(r),
					  .page_in = r->dir == REQUEST_IN, .npages = moved,
					  .result = result,
					  .phases = r->dir == REQUEST_IN ? r->phase : NULL });
}

static void finish(struct page_request *r, long result, int filled)
{
	bool unsettled;		/* a device may still write the frames (settle_dma()) */
	int did = r->grant ? grant_device_domain(r->grant) : 0;
	bool device_wrote = r->zero_touch && did;
	long ended;

	result = settle_dma(r, result, &unsettled);
	stamp(r, PHASE_REPLIED);
	if (ipc_call_received_cycles(r->token))
		r->phase[PHASE_RECEIVED] = ipc_call_received_cycles(r->token) - r->t_fault;
	if (r->grant)
		emit(r, TRACE_GRANT_FILLED);
	/* A holder died (ERR_DEAD) or its device faulted (ERR_DMAFAULT): the
	 * frames' contents are unknown. */
	ended = r->grant ? grant_end(r->grant, outcome_of(result)) : 0;
	if (ended && result == 0)
		result = ended;
	if (r->zero_touch && !device_wrote && result == 0)
		zero_untouched(r, filled);
	stamp(r, PHASE_TAKEN_BACK);
	for (int i = 0; i < r->npages; i++) {
		if (r->dir == REQUEST_IN)
			commit_in(r, i, result, filled, r->frames[i], unsettled ? did : -1);
		else
			commit_out(r, i, result);
	}
	stamp(r, PHASE_MAPPED);
	if (r->grant) {
		grant_history_note_phases(r->grant, r->phase);
		emit(r, TRACE_GRANT_MAPPED);
	}
	count_ended(r, result, filled);
	if (r->obj)
		memobj_put(r->obj);
	r->result = result;
	wait_queue_wake_all(&r->waiters, result);
	req_release(r);
	pageout_memory_freed();
	if (r->dir == REQUEST_OUT)
		pageout_check_pressure();	/* room for the next page-out: go on now */
}

/*
 * What a pager's PAGER_FAIL reason means to the kernel: the device's own
 * verdict (ERR_IO: a page-out then retires its slots), an object or range
 * that is not there, a refusal (ERR_PERM: the driver below would not serve
 * the pager, which says nothing against the slots either), or ERR_AGAIN:
 * the device below the pager was out of reach (its driver died and did
 * not come back, or never answered).  Anything else is taken as ERR_IO.
 */
static long pager_failure(long e)
{
	if (e == ERR_IO || e == ERR_NOENT || e == ERR_RANGE || e == ERR_PERM)
		return e;
	if (e == ERR_DEAD || e == ERR_TIMEOUT || e == ERR_AGAIN)
		return ERR_AGAIN;
	return ERR_IO;
}

/*
 * The pager's answer (ipc calls this from the pager's sys_reply, or with
 * an error when the pager died).  => 0 to accept it; an error refuses the
 * answer and leaves the request waiting for a correct one.
 */
static long request_answered(void *ctx, struct kmsg *reply, long err)
{
	struct page_request *r = ctx;
	int filled = r->npages, npages;

	if (err) {
		log_warn("page request %#lx: pager gone (%s)", (unsigned long)req_handle(r),
			 err_str(err));
		finish(r, ERR_DEAD, 0);
		return 0;
	}
	if (reply->m.op == PAGER_FAIL) {
		long e = pager_failure((long)reply->m.arg[PAGER_REPLY_ERROR]);
		uint64_t failed = reply->m.arg[PAGER_REPLY_FAILED];

		if (r->dir == REQUEST_OUT && e == ERR_IO && failed) {
			if (r->npages < 64 && (failed >> r->npages))
				return ERR_INVAL;	/* pages the request does not have */
			r->failed_pages = failed;
		}
		finish(r, e, 0);
		return 0;
	}
	if (reply->m.op != PAGER_OK)
		return ERR_INVAL;
	if (r->grant && reply->m.arg[PAGER_REPLY_GRANT] != r->grant)
		return ERR_BADHANDLE;	/* wrong, stale or foreign grant id */
	if (r->dir == REQUEST_IN) {
		filled = (int)reply->m.arg[PAGER_REPLY_COUNT];
		if (filled < 1 || filled > r->npages)
			return ERR_INVAL;
	}
	if (r->obj && r->dir == REQUEST_IN)
		memobj_set_size(r->obj, reply->m.arg[PAGER_REPLY_SIZE]);
	npages = (reply->m.flags & MSG_PAGE) ? reply->npages : 0;
	if (r->dir == REQUEST_IN && r->mode == FILL_COPY) {
		if (npages != filled)
			return ERR_INVAL;
		/* The bytes were copied into r->frames as the answer was read. */
		trace_emit(&(struct trace_event){ .kind = TRACE_BYTES_COPIED, .mode = r->mode,
						  .bytes = (uint64_t)filled * PAGE_SIZE });
	}
	finish(r, 0, filled);
	return 0;
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
		token = ipc_kernel_call_pages(r->port, &m, r->frames, r->npages, request_answered,
					      r);
		if (token > 0)
			trace_emit(&(struct trace_event){
				.kind = TRACE_BYTES_COPIED, .mode = r->mode,
				.bytes = (uint64_t)r->npages * PAGE_SIZE });
	} else if (r->dir == REQUEST_IN && r->mode == FILL_COPY) {
		token = ipc_kernel_call_into(r->port, &m, r->frames, r->npages, request_answered, r);
	} else {
		token = ipc_kernel_call(r->port, &m, request_answered, r);
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

static void set_inflight(struct page_request *r)
{
	for (int i = 0; i < r->npages; i++) {
		pte_t *pte = arch_pt_leaf(r->proc->vm.root, page_va(r, i), false);

		KASSERT(pte);
		*pte = arch_pte_absent(pte_inflight_make(req_handle(r)));
	}
}

/* How many pages from va on are in the next slots of the same swap provider. */
static int cluster_in(struct proc *p, struct vm_region *reg, uint64_t va, uint64_t sw0, int max)
{
	int n = 1;

	while (n < max && va + (uint64_t)n * PAGE_SIZE < reg->end) {
		pte_t *pte = arch_pt_leaf(p->vm.root, va + (uint64_t)n * PAGE_SIZE, false);
		uint64_t sw;

		if (!pte || arch_pte_present(*pte))
			break;
		sw = arch_pte_payload(*pte);
		if (!pte_is_swapped(sw) || pte_swap_provider(sw) != pte_swap_provider(sw0) ||
		    pte_swap_slot(sw) != pte_swap_slot(sw0) + (uint64_t)n)
			break;
		n++;
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
		pte_t *pte = arch_pt_leaf(r->proc->vm.root, page_va(r, i), false);

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
	long err;

	if (!r->obj && r->dir == REQUEST_IN)
		set_inflight(r);	/* an object's pages are marked by memobj_start_*() */
	err = send(r);
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

long request_page_in(struct proc *p, struct vm_region *reg, uint64_t va, int n, uint64_t t_fault,
		     uint64_t *handle)
{
	pte_t *pte = arch_pt_leaf(p->vm.root, va, false);
	uint64_t sw = pte ? arch_pte_payload(*pte) : 0;
	struct page_request *r;

	KASSERT(pte_is_swapped(sw));
	if (!swap_provider(pte_swap_provider(sw)))
		return ERR_DEAD;	/* its provider died: the page is gone */
	r = req_alloc(REQUEST_IN, p, reg, va, cluster_in(p, reg, va, sw, n));
	if (!r)
		return ERR_BUSY;
	r->t_fault = t_fault;
	r->swap = true;
	r->provider = pte_swap_provider(sw);
	r->slot = pte_swap_slot(sw);
	r->port = swap_provider(r->provider)->port;
	r->mode = served_mode(r);
	if (!take_frames(r)) {
		req_release(r);
		return ERR_NOMEM;
	}
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
		pte_t *pte = arch_pt_leaf(r->proc->vm.root, page_va(r, i), false);

		KASSERT(pte && arch_pte_present(*pte));
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
			finish(r, ERR_TIMEOUT, 0);
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
