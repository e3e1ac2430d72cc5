/* SPDX-License-Identifier: MIT */
/*
 * Memory objects: one per pager object (a file) that something maps,
 * caching the object's resident pages so that every mapping of it shares
 * one frame per page.  Mach's VM objects and Zircon's VMOs are the models.
 *
 * Objects.  A memobj is named by its pager (an object pager's index, which
 * outlives a restart of fs, objpager.h; else the pager's port) and the
 * pager's object id (fs: the file's handle).  memobj_get() finds it or
 * makes it.  It lives while anything refers to it: each region mapping it,
 * each page request in flight for its pages, a spawn reading its headers.
 * With the last reference its pages are freed and its id (index +
 * generation) dies with it: nothing is cached for an object nobody maps.
 * Unless some are dirty: a region going folds its PTEs' dirty bits into
 * the object, and a process killed (not exiting, which writes back first)
 * leaves its writes there: the page-out daemon's next tick sends every
 * dirty page no PTE maps to its pager (memobj_write_back_unmapped(); an
 * object pager that is away is waited for, objpager.h).  If that was the
 * last reference, the object is *kept*, with none, until then, and goes
 * with the last write-back's end.  Its
 * dirty pages are lost only when its pager can take them no more (gone, or
 * refusing them REFUSALS_MAX times in a row), with a log line.
 *
 * Pages.  Each page of the object, by page index, is an entry word in a
 * radix tree (memobj_tree.h; the word encoded like a PTE in memobj.c):
 *
 *   absent    with the pager: never read, or dropped
 *   in flight a page request owns it (request.h): being read in, or
 *             being written back
 *   resident  a frame (FRAME_OBJECT), how many PTEs map it, dirty or not
 *
 *   absent ──fault──> in flight (page-in) ──ok──> resident ──clean, evicted──> absent
 *             ^             │ failed                 │ dirty, evicted
 *             └─────────────┘                        v
 *   absent <──ok── in flight (write-back) <──────────┘
 *                     └── failed: resident again, dirty
 *
 * Mappings.  A pager region (vm.h) names its object, and the object keeps
 * the list of its regions: from a page to every PTE that maps it is a walk
 * of that list.  A shared region maps the object's frames with its own
 * protection, so a write through it dirties that PTE; a page is dirty when
 * its entry says so or any PTE mapping it does.  A private region maps
 * them read-only: the first write copies the page into a frame of the
 * process's own (copy-on-write), anonymous memory from then on (to swap,
 * never to the file).  A region's pages past its file part are its own
 * too: the page holding a data segment's end is copied with its tail
 * zeroed (the bss), the pages after it are demand-zero.
 *
 * A page no PTE maps (read ahead for nobody, left behind by a copy or by
 * its last mapping going) is found by the page-out daemon here, not in
 * any page table: memobj_reclaim().
 *
 * While a request is in flight for an object page, the PTEs waiting for it
 * (faults) or unmapped for it (a write-back) say INFLIGHT(request), as
 * process pages do (pte.h), and the request's end maps them (page-in, or a
 * write-back that failed: nothing is lost) or leaves them PAGER.
 *
 * Every unmap of an object page from a PTE goes through vm_unmap_page()
 * (vm.h): a page must be invalidated on every CPU before its frame changes
 * hands.
 *
 * Programs.  A program spawned from a file maps its segments from the
 * file's object (VMR_IMAGE regions).  While it has any, the object is
 * busy: its pager learns it when it asks (memobj_busy(): fs refuses
 * writes, truncation and removal of a running program's file), and a
 * shared writable mapping of the object is refused, as is spawning from
 * an object that has one: what runs is what the file held.
 *
 * Concurrency: one CPU, kernel not preemptible (thread.h): no locks.
 */
#ifndef MEMOBJ_H
#define MEMOBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../arch/arch.h"
#include "memobj_tree.h"

#define MEMOBJ_MAX		128
#define MEMOBJ_MAX_PAGES	MEMOBJ_TREE_MAX_PAGES	/* 4 TiB of object */

struct proc;
struct vm_region;
struct vm_space;

struct memobj {
	uint32_t gen;
	bool used;
	/* the key: pager (index, or port when the pager names no store) and object */
	uint32_t pager_index;		/* objpager.h, or OBJPAGER_NONE */
	uint64_t port;			/* the pager's port when pager_index is NONE */
	uint64_t object;
	uint64_t size;			/* bytes, as its pager last said; 0: unknown */
	struct memobj_tree tree;	/* page index -> entry word (memobj.c) */
	uint32_t refs;
	struct vm_region *mappings;	/* linked by vm_region.obj_next */
	uint32_t nmappings;
	uint32_t image_maps;		/* of them, a program's segments (VMR_IMAGE) */
	uint32_t shared_writable;	/* of them, shared and writable */
	uint64_t pages;			/* resident */
	bool kept;			/* refs 0: kept for its dirty pages */
	bool unmapped_dirty;		/* a mapping went with a dirty page: the tick looks */
	uint32_t refusals;		/* pages its pager refused to take back, in a row */
	/* what happened to it, for kdb `objects` */
	uint64_t page_ins, hits, cows, drops, writebacks;
};

enum memobj_page_state { MEMOBJ_ABSENT, MEMOBJ_INFLIGHT, MEMOBJ_RESIDENT };

/* One page of an object, decoded. */
struct memobj_page {
	enum memobj_page_state state;
	paddr_t frame;			/* resident */
	uint32_t maps;			/* resident: PTEs mapping the frame */
	bool dirty;			/* resident: its own bit (PTEs may say more) */
	uint64_t request;		/* in flight */
};

/* System-wide counters (kdb `objects`, VM_CTL_MEMOBJ_STATS). */
struct memobj_totals {
	uint64_t live, pages;		/* objects and their resident pages now */
	uint64_t hits;			/* faults served from an object's cache, no I/O */
	uint64_t cows;			/* private copies made at a write */
	uint64_t zero_tails;		/* copies whose bytes past the file part were zeroed */
	uint64_t drops;			/* clean pages dropped from every mapping */
	uint64_t writebacks;		/* dirty pages written back to their pager */
};

void memobj_init(void);
/*
 * The object of `object` at the pager behind `port`, found or made; one
 * more reference.  => NULL when MEMOBJ_MAX objects are live.
 */
struct memobj *memobj_get(uint64_t port, uint64_t object);
/* The live object, without a reference; NULL if nobody maps it. */
struct memobj *memobj_find(uint64_t port, uint64_t object);
void memobj_hold(struct memobj *o);
void memobj_put(struct memobj *o);
uint64_t memobj_id(const struct memobj *o);
/* Where its page requests go now: 0 while its object pager is away. */
uint64_t memobj_port(const struct memobj *o);
/* Its pager is an object pager, live or away with a successor awaited (objpager.h). */
bool memobj_pager_kept(const struct memobj *o);
/* Waits for such a pager to be live.  => true when it is. */
bool memobj_wait_pager(const struct memobj *o);
/* The object's size as its pager said in a page-in answer (0: it did not). */
void memobj_set_size(struct memobj *o, uint64_t size);
/* Whether a program runs from it (fs asks before it changes a file). */
bool memobj_busy(const struct memobj *o);

/* Regions: attach (one more reference taken by the caller) and detach.
 * => ERR_BUSY when a program runs from o and r would map it shared and
 * writable, or the reverse. */
int memobj_attach(struct memobj *o, struct vm_region *r);
void memobj_detach(struct memobj *o, struct vm_region *r);
/* The object page region r maps at va. */
uint64_t memobj_page_of(const struct vm_region *r, uint64_t va);

/* Pages, for the fault path. */
bool memobj_lookup(struct memobj *o, uint64_t pg, struct memobj_page *out);
/* Absent pages from pg on, at most max. */
int memobj_absent_run(struct memobj *o, uint64_t pg, int max);
/* Maps resident page pg at va of r (read-only if r is private). */
void memobj_map(struct memobj *o, uint64_t pg, struct vm_region *r, uint64_t va, pte_t *pte);
/* The PTE old (present, an object frame of region r at va) was cleared. */
void memobj_unmapped(struct vm_region *r, uint64_t va, pte_t old);
/* Whether pa is a frame some object caches. */
bool memobj_frame(paddr_t pa);
void memobj_count_hit(struct memobj *o);
void memobj_count_copy(struct memobj *o, bool zero_tail);

/*
 * Page requests (request.c): pages [pg, pg + n) of o.  A page-in needs them
 * absent; it marks them in flight, and the PTEs of r (may be NULL) from va
 * on that are empty or PAGER too.  => 0, or ERR_NOMEM for the page tree.
 * A write-back unmaps them from every mapping and lends their frames.
 * The ends take each page back with the request's outcome (a failed
 * page-in's frame is freed, or quarantined; 0: the caller disposed of it).
 */
long memobj_start_in(struct memobj *o, uint64_t pg, int n, uint64_t request,
		     struct vm_region *r, uint64_t va);
void memobj_end_in(struct memobj *o, uint64_t pg, uint64_t request, paddr_t frame, bool ok,
		   bool quarantine);
void memobj_start_out(struct memobj *o, uint64_t pg, int n, uint64_t request, paddr_t *frames);
void memobj_end_out(struct memobj *o, uint64_t pg, uint64_t request, paddr_t frame,
		    long result);

/*
 * Page-out of the object page p maps at va of region r: with
 * second_chance, a page any mapping used lately has its accessed bits
 * cleared and stays; a clean page is dropped from every mapping; a dirty
 * one (and the dirty pages after it) goes back to its pager, once.
 * => pages freed or on their way (*handle: the write-back), 0 for a
 *    second chance, or an error (ERR_BUSY: no request slot now, ERR_DEAD:
 *    its pager is away).
 */
long memobj_evict(struct proc *p, struct vm_region *r, uint64_t va, bool second_chance,
		  uint64_t *handle);

/*
 * Write-back of the page p maps at va of shared region r, with the dirty
 * pages after it, if it is dirty; a clean page stays where it is mapped
 * (exit and munmap: the other mappings keep using it).
 * => pages on their way (*handle), 0 for a clean page, or an error as
 *    memobj_evict's.
 */
long memobj_write_back(struct proc *p, struct vm_region *r, uint64_t va, uint64_t *handle);

/*
 * Page-out of pages no PTE maps (read ahead for nobody, left behind by a
 * copy or an unmapping): clean ones dropped, dirty ones written back.
 * => pages freed or on their way, at most `want`.
 */
size_t memobj_reclaim(size_t want);

/*
 * The page-out daemon's tick: dirty pages no PTE maps any more (their
 * mapping went: a process killed, or the last one exited while its pager
 * was away) go back to their pager, or wait while it is away; an object
 * kept only for them goes once they are written back.
 */
void memobj_write_back_unmapped(void);

/* Inspection: slot i if live (NULL past the end or free), totals, pages in order. */
const struct memobj *memobj_view(int index);
int memobj_slots(void);
void memobj_get_totals(struct memobj_totals *out);
void memobj_walk(const struct memobj *o, void (*fn)(uint64_t pg, const struct memobj_page *pg_,
						      void *ctx), void *ctx);

#endif
