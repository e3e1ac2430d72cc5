/* SPDX-License-Identifier: MIT */
/*
 * What request.c (a request's start: the table, frames, grant, message)
 * and request_end.c (its end: the answer, the take-back, each page's
 * commit) share.  Nothing else includes it: request.h is the interface.
 */
#ifndef REQUEST_INT_H
#define REQUEST_INT_H

#include "../handle.h"
#include "../ipc/port.h"
#include "../trace.h"
#include "pte.h"
#include "request.h"

static inline uint64_t req_handle(const struct page_request *r)
{
	return handle_make(r->index, r->gen);
}

static inline uint64_t page_va(const struct page_request *r, int i)
{
	return r->va + (uint64_t)i * PAGE_SIZE;
}

static inline void stamp(struct page_request *r, enum fault_phase ph)
{
	r->phase[ph] = arch_cycles() - r->t_fault;
}

static inline void emit(struct page_request *r, enum trace_kind kind)
{
	trace_emit(&(struct trace_event){ .kind = kind, .grant = r->grant, .mode = r->mode,
					  .request = req_handle(r),
					  .page_in = r->dir == REQUEST_IN, .npages = r->npages });
}

/* What page i's PTE says when the page is not resident: its swap slot, or
 * (an object's page, or a kernel read) nothing. */
static inline uint64_t backing_payload(const struct page_request *r, int i)
{
	return r->swap ? pte_swap_make(r->provider, r->slot + (uint64_t)i) : 0;
}

/* The slot goes back to the table (and the waiters for one are woken). */
void req_release(struct page_request *r);
/* Ends a request: grant first, then pages, then waiters (request_end.c). */
void req_finish(struct page_request *r, long result, int filled);
/* The pager's answer to the kernel call (an ipc_done_fn). */
long req_answered(void *ctx, struct kmsg *reply, long err);

#endif
