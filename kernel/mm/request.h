/* SPDX-License-Identifier: MIT */
/*
 * Page requests: one message to a swap provider or pager for a range of
 * up to GRANT_MAX_PAGES pages, in one of the three fill modes: pages of a
 * process going to or coming from swap, or pages of a memory object
 * (memobj.h) coming from or going back to its pager.
 *
 *   1. start: the pages' PTEs become INFLIGHT(request) (pte.h), and an
 *      object's pages too (memobj.h), so a second thread faulting on them,
 *      in any process, waits for this request instead of sending another;
 *      frames are found (grant modes: zeroed pool for page-in, the
 *      victims for page-out), a grant is made, the message sent.  A
 *      page-out takes its PTEs away atomically (their dirty bits with
 *      them) and shoots down every CPU's translation of them (mm/tlb.h)
 *      before a byte is copied or the frames lent: a thread on another
 *      CPU could otherwise write behind the copy.
 *   2. wait: faulting threads sleep in "pager-io" on the request.
 *   3. answer (or failure, provider death, overtime): the grant ends first,
 *      so no user mapping of the frames is left outside the kernel; then
 *      each page is re-validated (process alive, region id unchanged, PTE
 *      still INFLIGHT(this request)) and committed, or its frame and slot
 *      freed, exactly once; an object's page goes back to its object,
 *      which maps it wherever a PTE waited for it.  Waiters wake with the
 *      result.
 *
 * request.c keeps the table and starts requests (steps 1 and 2);
 * request_end.c ends them (step 3); request_int.h is what the two share.
 */
#ifndef REQUEST_H
#define REQUEST_H

#include <ferry/abi.h>
#include <stdbool.h>
#include <stdint.h>

#include "../arch/arch.h"
#include "../proc/thread.h"

#define REQUEST_MAX	64

struct proc;
struct vm_region;
struct memobj;

enum request_dir { REQUEST_IN, REQUEST_OUT };

struct page_request {
	uint32_t index;				/* in the table, for its handle */
	uint32_t gen;
	bool used;
	enum request_dir dir;
	enum fill_mode mode;
	uint64_t pid;
	struct proc *proc;
	uint64_t region_id;
	uint64_t va;
	int npages;
	bool swap;				/* a process's pages, to or from swap */
	struct memobj *obj;			/* else an object's pages (memobj.h) */
	uint64_t obj_page;			/* obj: the page index of page 0 */
	unsigned provider;
	uint64_t slot;				/* swap: slots slot .. slot+npages-1 */
	uint64_t port, object, offset;
	uint64_t token, grant;
	struct wait_queue waiters;
	long result;
	uint64_t t_fault;			/* cycles at the fault */
	uint64_t phase[NPHASES];		/* cycles from the fault to each (trace.h) */
	uint64_t started_ns;			/* clock_run_ns() at the start */
	bool warned;
	bool zero_touch;			/* frames lent unzeroed (zero_touch_allowed()) */
	/* A page-out failed with ERR_IO: bit i = page i was not stored; the
	 * others were (<proto/pager.h>).  0: every page failed. */
	uint64_t failed_pages;
	/* Last: only [0, npages) is ever read, so a new request clears
	 * nothing from here on (req_alloc). */
	paddr_t frames[GRANT_MAX_PAGES];
	pte_t saved_pte[GRANT_MAX_PAGES];	/* page-out: as it was, dirty bit and all */
	/* A process's pages (swap): where their PTEs are.  A live process's
	 * page tables are freed only with its address space, after it died,
	 * so they stay valid while still_ours() finds it alive. */
	pte_t *ptes[GRANT_MAX_PAGES];
};

void request_init(void);
/* Swap-in of up to n pages [va, va + n pages) of region r, the first page
 * being the fault's; pte its (swapped) PTE. */
long request_page_in(struct proc *p, struct vm_region *r, uint64_t va, pte_t *pte, int n,
		     uint64_t t_fault, uint64_t *handle);
/* Page-out of n resident pages starting at va to the swap slot run chosen. */
long request_page_out(struct proc *p, struct vm_region *r, uint64_t va, int n,
		      unsigned provider, uint64_t slot, uint64_t *handle);
/*
 * Page-in of object o's absent pages [pg, pg + n) for p (the faulting
 * process, or the one the kernel reads for); the PTEs of r from va on wait
 * for them too (r may be NULL: the kernel reads, nothing maps).
 */
long request_object_in(struct proc *p, struct memobj *o, uint64_t pg, int n,
		       struct vm_region *r, uint64_t va, uint64_t t_fault, uint64_t *handle);
/* Write-back of object o's resident pages [pg, pg + n), for p's page-out (NULL: the
 * kernel's own, of pages nobody maps). */
long request_object_out(struct proc *p, struct memobj *o, uint64_t pg, int n, uint64_t *handle);
struct page_request *request_get(uint64_t handle);
/* Blocks the current thread until request `handle` ends; => its result. */
long request_wait(uint64_t handle);
/* Sleeps until a request slot frees up (or 10 ms pass). */
void request_wait_for_slot(void);
/* Fails requests past their overtime; logs the ones getting old. */
void request_check_overtime(void);
int request_live_count(void);
bool request_view(int index, struct page_request *out);

extern enum fill_mode fill_mode_current;
extern int fault_cluster_pages;

#endif
