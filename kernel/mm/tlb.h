/* SPDX-License-Identifier: MIT */
/*
 * TLB shootdowns: taking a user mapping away on every CPU that may still
 * translate it, before its frame changes hands.
 *
 * Who may hold a space's entries: vm_space.cpumask, one bit per CPU whose
 * CR3 holds the space's root.  A CPU sets its bit before it loads the
 * root and clears it after it has loaded another (tlb_activate, under the
 * kernel lock); there are no PCIDs, so loading CR3 drops every user entry
 * of the old space.  Kernel threads and the idle loop keep the last space
 * loaded (lazily), and its bit with it; kernel code never uses a user
 * address, so while a CPU is lazy its user translations are unused: a
 * shootdown marks it stale instead of sending it an IPI (a halted CPU is
 * not woken for nothing), and it flushes everything before it runs a
 * thread of that space again (as Linux skips lazy CPUs).  Lazy and stale
 * are written under the kernel lock, by the CPU and by the sender.
 *
 * An unmap, in batches (a take-back of all pages of one grant, one
 * page-out or write-back run, up to TLB_BATCH_MAX pages of an unmapped
 * region; a batch may span several spaces: an object page mapped in
 * several processes):
 *   1. the caller, holding the kernel lock, clears each PTE atomically
 *      (vm_unmap_page(): the old value carries the dirty bit another CPU's
 *      walker may have set a moment ago) and adds the page;
 *   2. tlb_batch_flush() invalidates the pages here whose space this CPU
 *      has loaded, then posts one request (the pages and their spaces, or
 *      "all of this one space" past TLB_BATCH_MAX pages of it) and sends
 *      one IPI to each other CPU in any of the spaces' masks;
 *   3. each of them invalidates the pages of the space its CR3 holds and
 *      acknowledges (clears its bit of the request's pending mask), from
 *      the IPI or from whatever spin loop it is in (smp_poll);
 *   4. the sender waits until all have acknowledged; only then does the
 *      caller free, lend, copy out or map the frames elsewhere.
 * A batch that fills up with pages of several spaces is flushed there and
 * goes on empty (flushing early is always safe).  One request is out at a
 * time: only the kernel lock's holder sends.  Mapping a page (non-present
 * to present) needs no shootdown: x86 caches no translation for a
 * non-present entry.  Clearing the accessed bit for the page-out clock is
 * a hint and invalidates only locally (as Linux's ptep_clear_flush_young
 * does on x86).
 *
 * When a space dies (its last thread gone), tlb_retire() makes every CPU
 * that still has it loaded switch to the kernel's tables first, so its
 * page tables can be freed.
 *
 * `shootdown=off` on the command line (tests only) skips the IPIs of step
 * 2: the tests that must catch a stale translation fail with it.
 */
#ifndef TLB_H
#define TLB_H

#include <stdbool.h>
#include <stdint.h>

#include "../arch/arch.h"

#define TLB_BATCH_MAX	32	/* GRANT_MAX_PAGES: one grant is one batch */
#define TLB_NO_MODE	(-1)	/* counted in the totals only */

struct vm_space;

struct tlb_batch {
	int mode;			/* enum fill_mode the counters go to, or TLB_NO_MODE */
	int n;				/* entries below */
	bool all;			/* past TLB_BATCH_MAX pages of vs[0]: all of it */
	uint64_t pages;			/* pages added, for the counters */
	struct vm_space *vs[TLB_BATCH_MAX];
	vaddr_t va[TLB_BATCH_MAX];
};

struct tlb_totals {
	uint64_t shootdowns;		/* batches that had other CPUs to ask */
	uint64_t lazy_skipped;		/* CPUs marked stale instead of an IPI */
	uint64_t ipis;			/* one per CPU per batch */
	uint64_t remote_pages;		/* pages those CPUs invalidated, summed */
	uint64_t retires;		/* dying spaces other CPUs had to leave */
	uint64_t wait_cycles;		/* the senders' spinning for acknowledgements */
};

void tlb_init(void);
void tlb_batch_init(struct tlb_batch *b, int mode);
/* => the page's PTE is already cleared (vm_unmap_page, or the grant window's). */
void tlb_batch_add(struct tlb_batch *b, struct vm_space *vs, vaddr_t va);
/* => kernel lock held.  Returns when no CPU can use the pages; empties b. */
void tlb_batch_flush(struct tlb_batch *b);
/* Only here, if vs is loaded here: the accessed-bit clock's hint. */
void tlb_flush_hint(struct vm_space *vs, vaddr_t va);
/* This CPU loads vs's page tables (NULL: the kernel's) to run a thread of
 * vs, flushing first if a shootdown skipped it.  => kernel lock held. */
void tlb_activate(struct vm_space *vs);
/* This CPU runs a kernel or idle thread, the last space still loaded. */
void tlb_lazy(void);
/* No CPU has vs loaded on return.  => kernel lock held. */
void tlb_retire(struct vm_space *vs);
/* Answers a pending request for this CPU, if there is one (IPI, smp_poll). */
void tlb_serve(void);
void tlb_get_totals(struct tlb_totals *out);
/* CPUs that have not acknowledged the request out, if one is (kdb check). */
uint64_t tlb_pending(void);

#endif
