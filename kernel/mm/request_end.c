// SPDX-License-Identifier: MIT
/*
 * The end of a page request (request.h, step 3): the pager's answer or a
 * failure, the grant taken back, each page re-validated and committed or
 * put back, the waiters woken.  The start (the table, frames, the grant,
 * the message) is request.c's.
 */
#include "request.h"
#include "request_int.h"

#include <ferry/err.h>
#include <proto/pager.h>
#include <string.h>

#include "../grant/grant.h"
#include "../iommu/iommu.h"
#include "../ipc/port.h"
#include "../log.h"
#include "../proc/proc.h"
#include "../trace.h"
#include "memobj.h"
#include "pageout.h"
#include "pmm.h"
#include "pte.h"
#include "swap.h"
#include "vm.h"

/* The request's region, if its process is the same one and alive and the
 * region still there (the same id): asked once per request, not per page. */
static struct vm_region *still_there(const struct page_request *r)
{
	struct proc *p = proc_lookup(r->pid);

	if (!p || p != r->proc || proc_is_dying(p))
		return NULL;
	return vm_find_id(&p->vm, r->region_id);
}

/* The PTE of page i, if the page is still this request's to commit (reg:
 * still_there()'s answer). */
static pte_t *still_ours(struct page_request *r, const struct vm_region *reg, int i)
{
	pte_t *pte;

	if (!reg || page_va(r, i) < reg->start || page_va(r, i) >= reg->end)
		return NULL;
	pte = r->ptes[i];
	if (arch_pte_present(*pte) || arch_pte_payload(*pte) != pte_inflight_make(req_handle(r)))
		return NULL;
	return pte;
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

static unsigned region_vm_flags(const struct vm_region *reg)
{
	unsigned f = VM_USER | VM_READ;

	if (reg->prot & PROT_WRITE)
		f |= VM_WRITE;
	if (reg->prot & PROT_EXEC)
		f |= VM_EXEC;
	return f;
}

/*
 * Where a frame goes that a device may still be writing into (unsettled,
 * see req_finish()): without an IOMMU nothing can stop the transfer, so it is
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
static void commit_in(struct page_request *r, const struct vm_region *reg, int i, long result,
		      int filled, paddr_t frame, int unsettled_did)
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
	pte = still_ours(r, reg, i);
	if (ok && pte) {
		*pte = arch_pte_make(frame, region_vm_flags(reg));
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
static void commit_out(struct page_request *r, const struct vm_region *reg, int i,
		       long request_result)
{
	long result = page_out_result(r, i, request_result);
	pte_t *pte;

	if (r->obj) {	/* written back: dropped; else the object keeps it, dirty */
		memobj_end_out(r->obj, r->obj_page + (uint64_t)i, req_handle(r), r->frames[i],
			       result);
		return;
	}
	pte = still_ours(r, reg, i);
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

void req_finish(struct page_request *r, long result, int filled)
{
	bool unsettled;		/* a device may still write the frames (settle_dma()) */
	int did = r->grant ? grant_device_domain(r->grant) : 0;
	bool device_wrote = r->zero_touch && did;
	uint64_t received = ipc_call_received_cycles(r->token);
	struct vm_region *reg;
	long ended;

	result = settle_dma(r, result, &unsettled);
	stamp(r, PHASE_REPLIED);
	if (received)
		r->phase[PHASE_RECEIVED] = received - r->t_fault;
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
	reg = r->obj ? NULL : still_there(r);	/* an object's pages go to the object */
	for (int i = 0; i < r->npages; i++) {
		if (r->dir == REQUEST_IN)
			commit_in(r, reg, i, result, filled, r->frames[i], unsettled ? did : -1);
		else
			commit_out(r, reg, i, result);
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
long req_answered(void *ctx, struct kmsg *reply, long err)
{
	struct page_request *r = ctx;
	int filled = r->npages, npages;

	if (err) {
		log_warn("page request %#lx: pager gone (%s)", (unsigned long)req_handle(r),
			 err_str(err));
		req_finish(r, ERR_DEAD, 0);
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
		req_finish(r, e, 0);
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
	req_finish(r, 0, filled);
	return 0;
}
