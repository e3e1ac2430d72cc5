// SPDX-License-Identifier: MIT
/*
 * Memory objects; the model is in memobj.h.
 *
 * An object's page entry is one 64-bit word, read and written only here:
 *
 *   0              absent
 *   bit 0          RESIDENT: bits 12..51 the frame, 52..63 the PTEs mapping it,
 *   bit 2          DIRTY (resident): written, not yet written back
 *   bit 1          INFLIGHT: bits 3..34 the page request's handle
 *
 * The entries live in the object's radix tree (memobj_tree.h), freed with
 * the object.
 */
#include "memobj.h"

#include <ferry/abi.h>
#include <ferry/err.h>
#include <string.h>

#include "../handle.h"
#include "../ipc/port.h"
#include "../log.h"
#include "../panic.h"
#include "../proc/proc.h"
#include "objpager.h"
#include "pmm.h"
#include "pte.h"
#include "request.h"
#include "tlb.h"
#include "vm.h"

#define ENT_RESIDENT	(1ULL << 0)
#define ENT_INFLIGHT	(1ULL << 1)
#define ENT_DIRTY	(1ULL << 2)
#define ENT_REQ_SHIFT	3
#define ENT_REQ_MASK	0xFFFFFFFFULL
#define ENT_FRAME_MASK	0x000FFFFFFFFFF000ULL
#define ENT_MAPS_SHIFT	52
#define ENT_MAPS_MAX	0xFFFu

#define WRITEBACK_CLUSTER	8	/* dirty pages one write-back takes */
/* Pages of an object nothing refers to that its pager refused in a row
 * (ERR_IO, ERR_NOENT, ERR_RANGE, ERR_PERM: its verdict, not its absence) before they
 * are given up: four whole write-backs. */
#define REFUSALS_MAX		(4 * WRITEBACK_CLUSTER)

_Static_assert(ENT_MAPS_MAX >= PROC_MAX * 8, "a frame mapped by every process, several times");

static struct memobj objs[MEMOBJ_MAX];
static struct memobj_totals totals;

/* --- entries --- */

static uint64_t ent_resident(paddr_t frame, uint32_t maps, bool dirty)
{
	return ENT_RESIDENT | (frame & ENT_FRAME_MASK) | ((uint64_t)maps << ENT_MAPS_SHIFT) |
	       (dirty ? ENT_DIRTY : 0);
}

static uint64_t ent_inflight(uint64_t request)
{
	return ENT_INFLIGHT | ((request & ENT_REQ_MASK) << ENT_REQ_SHIFT);
}

static void ent_decode(uint64_t e, struct memobj_page *out)
{
	*out = (struct memobj_page){ .state = MEMOBJ_ABSENT };
	if (e & ENT_RESIDENT) {
		out->state = MEMOBJ_RESIDENT;
		out->frame = e & ENT_FRAME_MASK;
		out->maps = (uint32_t)(e >> ENT_MAPS_SHIFT);
		out->dirty = e & ENT_DIRTY;
	} else if (e & ENT_INFLIGHT) {
		out->state = MEMOBJ_INFLIGHT;
		out->request = (e >> ENT_REQ_SHIFT) & ENT_REQ_MASK;
	}
}

/* Page pg's entry; with create, the tree grows to hold it (NULL: no memory). */
static uint64_t *entry_of(struct memobj *o, uint64_t pg, bool create)
{
	return memobj_tree_slot(&o->tree, pg, create);
}

/* --- objects --- */

void memobj_init(void)
{
	for (int i = 0; i < MEMOBJ_MAX; i++)
		objs[i].gen = 1;
	memset(&totals, 0, sizeof(totals));
}

uint64_t memobj_id(const struct memobj *o)
{
	return handle_make((uint32_t)(o - objs), o->gen);
}

struct memobj *memobj_find(uint64_t port, uint64_t object)
{
	uint32_t index = objpager_of_port(port);

	for (int i = 0; i < MEMOBJ_MAX; i++) {
		struct memobj *o = &objs[i];

		if (o->used && o->object == object && o->pager_index == index &&
		    (index != OBJPAGER_NONE || o->port == port))
			return o;
	}
	return NULL;
}

struct memobj *memobj_get(uint64_t port, uint64_t object)
{
	struct memobj *o = memobj_find(port, object);

	if (o) {
		if (o->refs == 0)
			o->kept = false;	/* mapped again before its write-back */
		o->refs++;
		return o;
	}
	for (int i = 0; i < MEMOBJ_MAX; i++) {
		uint32_t gen = objs[i].gen;

		if (objs[i].used)
			continue;
		o = &objs[i];
		memset(o, 0, sizeof(*o));
		o->gen = gen;
		o->used = true;
		o->pager_index = objpager_of_port(port);
		o->port = o->pager_index == OBJPAGER_NONE ? port : 0;
		o->object = object;
		o->refs = 1;
		totals.live++;
		return o;
	}
	return NULL;
}

/* refs may be 0: a write-back of an object kept for its dirty pages. */
void memobj_hold(struct memobj *o)
{
	KASSERT(o->used);
	o->refs++;
}

/* The last reference is gone: no PTE maps a page, no request owns one. */
static void free_page(uint64_t pg, uint64_t *e, void *ctx)
{
	struct memobj_page page;

	(void)ctx;
	ent_decode(*e, &page);
	if (page.state == MEMOBJ_INFLIGHT || page.maps)
		panic("memobj_put: page %lu still %s", (unsigned long)pg,
		      page.maps ? "mapped" : "in flight");
	if (page.state == MEMOBJ_RESIDENT)
		pmm_free(page.frame);
	*e = 0;
}

static void free_object(struct memobj *o)
{
	KASSERT(o->used && o->refs == 0 && !o->mappings);
	memobj_tree_walk(&o->tree, free_page, NULL);
	memobj_tree_free(&o->tree);
	totals.pages -= o->pages;
	totals.live--;
	o->used = false;
	o->gen = handle_next_gen(o->gen);
}

static void count_dirty(uint64_t pg, uint64_t *e, void *ctx)
{
	(void)pg;
	if ((*e & ENT_RESIDENT) && (*e & ENT_DIRTY))
		(*(uint64_t *)ctx)++;
}

/* With no mapping left, the entries' dirty bits are all there is. */
static uint64_t dirty_pages(struct memobj *o)
{
	uint64_t n = 0;

	memobj_tree_walk(&o->tree, count_dirty, &n);
	return n;
}

/* Can its pager still take pages: a store kept for a successor, or a live port? */
static bool pager_reachable(const struct memobj *o)
{
	if (o->pager_index != OBJPAGER_NONE)
		return objpager_kept(o->pager_index);
	return port_owner(o->port) != NULL;
}

/*
 * Nothing refers to o.  Its dirty pages hold writes nobody saw written
 * back (a process killed, or its pager away when the last one exited): o
 * stays for them, memobj_write_back_unmapped() sends them, and o goes
 * with the last put after that.  Only a pager that cannot take them any
 * more (gone, or refusing them) loses them, with a log line.
 */
static void unreferenced(struct memobj *o)
{
	uint64_t dirty = dirty_pages(o);
	const char *why;

	if (dirty && pager_reachable(o) && o->refusals < REFUSALS_MAX) {
		if (!o->kept)
			log_info("memobj: object %#lx (object %#lx): nothing maps it, %lu dirty"
				 " pages go back to its pager%s", (unsigned long)memobj_id(o),
				 (unsigned long)o->object, (unsigned long)dirty,
				 memobj_port(o) ? "" : " when it comes back");
		o->kept = true;
		return;
	}
	if (dirty) {
		why = o->refusals >= REFUSALS_MAX ? "its pager refused them" : "its pager is gone";
		log_err("memobj: object %#lx (object %#lx): %lu dirty pages lost: %s",
			(unsigned long)memobj_id(o), (unsigned long)o->object,
			(unsigned long)dirty, why);
	}
	free_object(o);
}

void memobj_put(struct memobj *o)
{
	KASSERT(o->used && o->refs > 0);
	if (--o->refs > 0)
		return;
	KASSERT(!o->mappings);
	unreferenced(o);
}

uint64_t memobj_port(const struct memobj *o)
{
	return o->pager_index == OBJPAGER_NONE ? o->port : objpager_port(o->pager_index);
}

bool memobj_pager_kept(const struct memobj *o)
{
	return o->pager_index != OBJPAGER_NONE && objpager_kept(o->pager_index);
}

bool memobj_wait_pager(const struct memobj *o)
{
	return o->pager_index != OBJPAGER_NONE && objpager_kept(o->pager_index) &&
	       objpager_wait_live(o->pager_index) == 0;
}

void memobj_set_size(struct memobj *o, uint64_t size)
{
	if (size)
		o->size = size;
}

bool memobj_busy(const struct memobj *o)
{
	return o->image_maps > 0;
}

static bool shared_writable(const struct vm_region *r)
{
	return !(r->flags & VMR_PRIVATE) && (r->prot & PROT_WRITE);
}

int memobj_attach(struct memobj *o, struct vm_region *r)
{
	bool image = r->flags & VMR_IMAGE;

	if ((image && o->shared_writable) || (shared_writable(r) && o->image_maps))
		return ERR_BUSY;
	r->obj = o;
	r->obj_next = o->mappings;
	o->mappings = r;
	o->nmappings++;
	o->image_maps += image;
	o->shared_writable += shared_writable(r);
	return 0;
}

void memobj_detach(struct memobj *o, struct vm_region *r)
{
	struct vm_region **pp = &o->mappings;

	while (*pp != r) {
		KASSERT(*pp);
		pp = &(*pp)->obj_next;
	}
	*pp = r->obj_next;
	r->obj_next = NULL;
	o->nmappings--;
	o->image_maps -= (r->flags & VMR_IMAGE) != 0;
	o->shared_writable -= shared_writable(r);
}

uint64_t memobj_page_of(const struct vm_region *r, uint64_t va)
{
	return (r->pager_offset + (va - r->start)) >> PAGE_SHIFT;
}

/* The PTE through which m maps object page pg (*va: where), or NULL. */
static pte_t *mapping_pte(const struct vm_region *m, uint64_t pg, uint64_t *va)
{
	uint64_t off = pg << PAGE_SHIFT;

	if (off < m->pager_offset || off - m->pager_offset >= m->obj_end - m->start)
		return NULL;
	*va = m->start + (off - m->pager_offset);
	return arch_pt_leaf(m->vs->root, *va, false);
}

/* --- pages --- */

bool memobj_lookup(struct memobj *o, uint64_t pg, struct memobj_page *out)
{
	uint64_t *e = entry_of(o, pg, false);

	ent_decode(e ? *e : 0, out);
	return out->state == MEMOBJ_RESIDENT;
}

int memobj_absent_run(struct memobj *o, uint64_t pg, int max)
{
	int n = 0;

	while (n < max) {
		uint64_t *e = entry_of(o, pg + (uint64_t)n, false);

		if (e && *e)
			break;
		n++;
	}
	return n;
}

bool memobj_frame(paddr_t pa)
{
	struct frame *f = pmm_frame(pa);

	return f && f->use == FRAME_OBJECT;
}

static uint64_t *resident_entry(struct memobj *o, uint64_t pg)
{
	uint64_t *e = entry_of(o, pg, false);

	if (!e || !(*e & ENT_RESIDENT))
		panic("memobj: object %#lx page %lu is not resident", (unsigned long)memobj_id(o),
		      (unsigned long)pg);
	return e;
}

static void add_maps(uint64_t *e, int delta)
{
	uint32_t maps = (uint32_t)(*e >> ENT_MAPS_SHIFT);

	KASSERT(delta > 0 ? maps < ENT_MAPS_MAX : maps > 0);
	*e = ent_resident(*e, (uint32_t)((int)maps + delta), *e & ENT_DIRTY);
}

void memobj_map(struct memobj *o, uint64_t pg, struct vm_region *r, uint64_t va, pte_t *pte)
{
	uint64_t *e = resident_entry(o, pg);
	uint32_t prot = r->prot;

	KASSERT(r->obj == o && !arch_pte_present(*pte));
	KASSERT(va < r->obj_end && memobj_page_of(r, va) == pg);
	if (r->flags & VMR_PRIVATE)
		prot &= ~(uint32_t)PROT_WRITE;	/* a write copies first */
	*pte = arch_pte_make(*e & ENT_FRAME_MASK, vm_prot_flags(prot));
	r->vs->resident_pages++;
	add_maps(e, 1);
}

void memobj_unmapped(struct vm_region *r, uint64_t va, pte_t old)
{
	uint64_t *e = resident_entry(r->obj, memobj_page_of(r, va));

	KASSERT((*e & ENT_FRAME_MASK) == arch_pte_frame(old));
	add_maps(e, -1);
	if (arch_pte_dirty(old)) {
		*e |= ENT_DIRTY;	/* the write survives its mapping */
		r->obj->unmapped_dirty = true;	/* and goes back at the next tick */
	}
}

void memobj_count_hit(struct memobj *o)
{
	o->hits++;
	totals.hits++;
}

void memobj_count_copy(struct memobj *o, bool zero_tail)
{
	o->cows += !zero_tail;
	totals.cows += !zero_tail;
	totals.zero_tails += zero_tail;
}

/*
 * Unmaps resident page pg from every PTE that maps it, leaving `payload`
 * there; the pages join batch b, which the caller flushes before the frame
 * changes hands.  => whether any of them had written to it.
 */
static bool unmap_everywhere(struct tlb_batch *b, struct memobj *o, uint64_t pg,
			     uint64_t payload)
{
	uint64_t *e = resident_entry(o, pg);
	paddr_t frame = *e & ENT_FRAME_MASK;
	bool dirty = false;

	for (struct vm_region *m = o->mappings; m; m = m->obj_next) {
		uint64_t va;
		pte_t *pte = mapping_pte(m, pg, &va);

		if (!pte || !arch_pte_present(*pte) || arch_pte_frame(*pte) != frame)
			continue;
		dirty |= arch_pte_dirty(vm_unmap_page(b, m->vs, va, pte, payload));
		add_maps(e, -1);
	}
	KASSERT((*e >> ENT_MAPS_SHIFT) == 0);
	return dirty;
}

/* The PTEs that waited on (or were unmapped for) request: mapped, or PAGER. */
static void settle_waiters(struct memobj *o, uint64_t pg, uint64_t request, bool map)
{
	for (struct vm_region *m = o->mappings; m; m = m->obj_next) {
		uint64_t va;
		pte_t *pte = mapping_pte(m, pg, &va);

		if (!pte || arch_pte_present(*pte) ||
		    arch_pte_payload(*pte) != pte_inflight_make(request))
			continue;
		if (map)
			memobj_map(o, pg, m, va, pte);
		else
			*pte = arch_pte_absent(pte_pager_make());
	}
}

/* --- page requests --- */

long memobj_start_in(struct memobj *o, uint64_t pg, int n, uint64_t request,
		     struct vm_region *r, uint64_t va)
{
	for (int i = 0; i < n; i++) {	/* the nodes first: marking cannot fail half-way */
		uint64_t *e = entry_of(o, pg + (uint64_t)i, true);

		if (!e)
			return ERR_NOMEM;
		KASSERT(*e == 0);
	}
	for (int i = 0; i < n; i++) {
		uint64_t a = va + (uint64_t)i * PAGE_SIZE;
		pte_t *pte = r ? arch_pt_leaf(r->vs->root, a, false) : NULL;

		*entry_of(o, pg + (uint64_t)i, false) = ent_inflight(request);
		if (pte && !arch_pte_present(*pte) && a < r->obj_end &&
		    (*pte == 0 || pte_is_pager(arch_pte_payload(*pte))))
			*pte = arch_pte_absent(pte_inflight_make(request));
	}
	return 0;
}

static uint64_t *inflight_entry(struct memobj *o, uint64_t pg, uint64_t request)
{
	uint64_t *e = entry_of(o, pg, false);

	if (!e || *e != ent_inflight(request))
		panic("memobj: object %#lx page %lu is not in flight on request %#lx",
		      (unsigned long)memobj_id(o), (unsigned long)pg, (unsigned long)request);
	return e;
}

void memobj_end_in(struct memobj *o, uint64_t pg, uint64_t request, paddr_t frame, bool ok,
		   bool quarantine)
{
	uint64_t *e = inflight_entry(o, pg, request);

	if (!ok) {
		*e = 0;
		if (quarantine)
			pmm_quarantine(frame);	/* a device may still be writing into it */
		else if (frame)	/* 0: the caller disposed of it */
			pmm_free(frame);
		settle_waiters(o, pg, request, false);
		return;
	}
	pmm_set_use(frame, FRAME_USER, FRAME_OBJECT);
	*e = ent_resident(frame, 0, false);
	o->pages++;
	o->page_ins++;
	totals.pages++;
	settle_waiters(o, pg, request, true);
}

/* One shootdown for the whole run, over every space that maps it. */
void memobj_start_out(struct memobj *o, uint64_t pg, int n, uint64_t request, paddr_t *frames,
		      int mode)
{
	struct tlb_batch b;

	tlb_batch_init(&b, mode);
	for (int i = 0; i < n; i++) {
		uint64_t *e = resident_entry(o, pg + (uint64_t)i);

		frames[i] = *e & ENT_FRAME_MASK;
		unmap_everywhere(&b, o, pg + (uint64_t)i, pte_inflight_make(request));
		/* The request's now, lendable like a process's page on its way out. */
		pmm_set_use(frames[i], FRAME_OBJECT, FRAME_USER);
		*e = ent_inflight(request);
		o->pages--;
		totals.pages--;
	}
	tlb_batch_flush(&b);
}

void memobj_end_out(struct memobj *o, uint64_t pg, uint64_t request, paddr_t frame,
		    long result)
{
	uint64_t *e = inflight_entry(o, pg, request);
	bool verdict = result == ERR_IO || result == ERR_NOENT || result == ERR_RANGE ||
		       result == ERR_PERM;

	if (result == 0) {
		*e = 0;
		pmm_free(frame);
		o->writebacks++;
		o->refusals = 0;
		totals.writebacks++;
		settle_waiters(o, pg, request, false);
		return;
	}
	/* Not stored: nothing is lost, the page stays, still to be written. */
	o->refusals += verdict;
	pmm_set_use(frame, FRAME_USER, FRAME_OBJECT);
	*e = ent_resident(frame, 0, true);
	o->pages++;
	totals.pages++;
	settle_waiters(o, pg, request, true);
	/* Its pager was away, not against it: the tick asks again (a refusal waits
	 * for the next page-out, or for the next tick if nothing refers to o). */
	if (!verdict && !(*e >> ENT_MAPS_SHIFT))
		o->unmapped_dirty = true;
}

/* --- page-out --- */

/* Any mapping used it since the last look?  Clears what it saw. */
static bool referenced(struct memobj *o, uint64_t pg, paddr_t frame)
{
	bool seen = false;

	for (struct vm_region *m = o->mappings; m; m = m->obj_next) {
		uint64_t va;
		pte_t *pte = mapping_pte(m, pg, &va);

		if (!pte || !arch_pte_present(*pte) || arch_pte_frame(*pte) != frame ||
		    !arch_pte_accessed(*pte))
			continue;
		arch_pte_clear_accessed_atomic(pte);
		tlb_flush_hint(m->vs, va);
		seen = true;
	}
	return seen;
}

static bool page_dirty(struct memobj *o, uint64_t pg)
{
	uint64_t *e = entry_of(o, pg, false);
	paddr_t frame;

	if (!e || !(*e & ENT_RESIDENT))
		return false;
	if (*e & ENT_DIRTY)
		return true;
	frame = *e & ENT_FRAME_MASK;
	for (struct vm_region *m = o->mappings; m; m = m->obj_next) {
		uint64_t va;
		pte_t *pte = mapping_pte(m, pg, &va);

		if (pte && arch_pte_present(*pte) && arch_pte_frame(*pte) == frame &&
		    arch_pte_dirty(*pte))
			return true;
	}
	return false;
}

/*
 * Drops a clean page from every mapping and frees it.  A thread on another
 * CPU may have written it since page_dirty() looked: the PTEs' old values
 * say so, and then the page stays, unmapped and dirty, for a write-back
 * (memobj_reclaim() or the tick finds it).  => whether it was dropped.
 */
static bool drop(struct memobj *o, uint64_t pg)
{
	uint64_t *e = resident_entry(o, pg);
	paddr_t frame = *e & ENT_FRAME_MASK;
	struct tlb_batch b;
	bool written;

	tlb_batch_init(&b, TLB_NO_MODE);
	written = unmap_everywhere(&b, o, pg, pte_pager_make());
	tlb_batch_flush(&b);
	if (written) {
		*e |= ENT_DIRTY;
		o->unmapped_dirty = true;	/* the tick writes it back */
		return false;
	}
	*e = 0;
	pmm_free(frame);
	o->pages--;
	o->drops++;
	totals.pages--;
	totals.drops++;
	return true;
}

/* A write-back of dirty page pg and the dirty ones after it.  => pages on their way. */
static long write_back_run(struct proc *p, struct memobj *o, uint64_t pg, uint64_t *handle)
{
	int n = 1;
	long err;

	while (n < WRITEBACK_CLUSTER && page_dirty(o, pg + (uint64_t)n))
		n++;
	err = request_object_out(p, o, pg, n, handle);
	return err ? err : n;
}

long memobj_evict(struct proc *p, struct vm_region *r, uint64_t va, bool second_chance,
		  uint64_t *handle)
{
	struct memobj *o = r->obj;
	uint64_t pg = memobj_page_of(r, va);
	uint64_t *e = resident_entry(o, pg);

	*handle = 0;
	if (second_chance && referenced(o, pg, *e & ENT_FRAME_MASK))
		return 0;
	if (!page_dirty(o, pg) && drop(o, pg))
		return 1;
	return write_back_run(p, o, pg, handle);
}

long memobj_write_back(struct proc *p, struct vm_region *r, uint64_t va, uint64_t *handle)
{
	uint64_t pg = memobj_page_of(r, va);

	*handle = 0;
	resident_entry(r->obj, pg);	/* the caller found it mapped: it must be */
	return page_dirty(r->obj, pg) ? write_back_run(p, r->obj, pg, handle) : 0;
}

/*
 * Pages no PTE maps: read ahead for nobody, or left behind by a private
 * copy or by the last mapping of a page going.  The clock over processes'
 * page tables never meets them, so the page-out daemon asks here first.
 */
struct reclaim_ctx {
	struct memobj *o;
	size_t want, got;
	bool busy;		/* no request slot for a write-back now */
};

static void reclaim_page(uint64_t pg, uint64_t *e, void *ctx)
{
	struct reclaim_ctx *c = ctx;
	uint64_t handle;
	long err;

	if (c->got >= c->want || c->busy || !(*e & ENT_RESIDENT) || (*e >> ENT_MAPS_SHIFT))
		return;
	if (!(*e & ENT_DIRTY)) {
		c->got += drop(c->o, pg);
		return;
	}
	err = request_object_out(NULL, c->o, pg, 1, &handle);	/* the kernel's own write-back */
	if (err == ERR_BUSY || err == ERR_FULL)
		c->busy = true;
	else if (!err)
		c->got++;
}

size_t memobj_reclaim(size_t want)
{
	struct reclaim_ctx c = { .want = want };

	for (int i = 0; i < MEMOBJ_MAX && c.got < want && !c.busy; i++) {
		if (!objs[i].used || objs[i].pages == 0)
			continue;
		c.o = &objs[i];
		memobj_hold(c.o);	/* it may be one nothing else refers to */
		memobj_tree_walk(&c.o->tree, reclaim_page, &c);
		memobj_put(c.o);
	}
	return c.got;
}

/* Resident, dirty, and no PTE maps it: nobody will write it back but us. */
static bool dirty_unmapped(struct memobj *o, uint64_t pg)
{
	uint64_t *e = entry_of(o, pg, false);

	return e && (*e & ENT_RESIDENT) && (*e & ENT_DIRTY) && !(*e >> ENT_MAPS_SHIFT);
}

/* The dirty pages no PTE maps, in runs of them, as the pager can take them. */
static void write_back_page(uint64_t pg, uint64_t *e, void *ctx)
{
	struct reclaim_ctx *c = ctx;
	uint64_t handle;
	long err;
	int n = 1;

	(void)e;
	if (c->busy || !dirty_unmapped(c->o, pg))
		return;
	while (n < WRITEBACK_CLUSTER && dirty_unmapped(c->o, pg + (uint64_t)n))
		n++;
	err = request_object_out(NULL, c->o, pg, n, &handle);	/* marks them in flight */
	if (err) {
		c->busy = true;	/* no request slot, or its pager just went: next tick */
		c->o->unmapped_dirty = true;
	}
}

void memobj_write_back_unmapped(void)
{
	struct reclaim_ctx c = { 0 };

	for (int i = 0; i < MEMOBJ_MAX; i++) {
		struct memobj *o = &objs[i];

		if (!o->used || (o->refs > 0 && !o->unmapped_dirty))
			continue;
		if (o->refs == 0 && (!pager_reachable(o) || o->refusals >= REFUSALS_MAX)) {
			unreferenced(o);	/* says what is lost, and frees it */
			continue;
		}
		if (!memobj_port(o))
			continue;	/* its pager is away: its successor gets them */
		c.o = o;
		c.busy = false;
		o->unmapped_dirty = false;
		memobj_hold(o);	/* a write-back that cannot start puts its reference back */
		memobj_tree_walk(&o->tree, write_back_page, &c);
		memobj_put(o);
	}
}

/* --- inspection --- */

const struct memobj *memobj_view(int index)
{
	return index >= 0 && index < MEMOBJ_MAX && objs[index].used ? &objs[index] : NULL;
}

int memobj_slots(void)
{
	return MEMOBJ_MAX;
}

void memobj_get_totals(struct memobj_totals *out)
{
	*out = totals;
}

struct walk_ctx {
	void (*fn)(uint64_t pg, const struct memobj_page *page, void *ctx);
	void *ctx;
};

static void walk_one(uint64_t pg, uint64_t *e, void *ctx)
{
	struct walk_ctx *w = ctx;
	struct memobj_page page;

	ent_decode(*e, &page);
	if (page.state != MEMOBJ_ABSENT)
		w->fn(pg, &page, w->ctx);
}

void memobj_walk(const struct memobj *o, void (*fn)(uint64_t pg, const struct memobj_page *pg_,
						      void *ctx), void *ctx)
{
	struct walk_ctx w = { fn, ctx };

	memobj_tree_walk(&o->tree, walk_one, &w);
}
