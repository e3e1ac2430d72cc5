// SPDX-License-Identifier: MIT
/*
 * The consistency check: the frame table, the page tables, the grants, the
 * page requests and the swap maps must all tell the same story.  Run with
 * the world stopped (kdb, or just before shutdown), so nothing moves.
 *
 *   - the frame table's counters equal a recount of its entries;
 *   - every present user PTE maps a frame in RAM whose use is user or DMA,
 *     or grant, and then only in the holder's window at the grant's slot,
 *     or object, and then in a region of that object at that page, never
 *     writable in a private one; a PTE of an MMIO region maps its device
 *     address, never a RAM frame;
 *   - no frame but an object's is mapped twice, and none is free (or
 *     kernel) and mapped;
 *   - every object frame belongs to exactly one object page, which counts
 *     exactly the PTEs that map it; in-flight object pages name live
 *     requests; each object's resident count matches its pages;
 *   - every user frame is mapped once or held by a live page request;
 *   - every lent frame (FRAME_GRANT) belongs to a live grant, and every
 *     live grant's frames are lent;
 *   - each process's resident count equals its present PTEs;
 *   - INFLIGHT PTEs name live requests; SWAPPED PTEs name slots in use;
 *   - a free frame freed watched (a DMA request given up on) still holds
 *     its poison: no transfer landed after the free;
 *   - with an IOMMU, every entry of every device domain's page table maps
 *     either a DMA buffer frame, or a lent frame at its place in the
 *     window of the live grant that lends it, to the domain's own process,
 *     with the grant's direction (write-only page-in, read-only page-out);
 *     and every live grant with a window is mapped there, frame by frame.
 */
#include <ferry/abi.h>
#include <string.h>

#include "../arch/arch.h"
#include "../grant/grant.h"
#include "../iommu/iommu.h"
#include "../mm/memobj.h"
#include "../mm/pmm.h"
#include "../mm/pte.h"
#include "../mm/request.h"
#include "../mm/swap.h"
#include "../proc/proc.h"
#include "kdb.h"
#include "kdb_cmd.h"

#define HELD_BY_REQUEST	0x80	/* scratch bits in struct frame.flags */
#define IN_AN_OBJECT	0x40

static int violations;

__attribute__((format(printf, 1, 2))) static void violation(const char *fmt, ...)
{
	va_list ap;

	violations++;
	kdb_printf("violation: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kdb_printf("\n");
}

static void check_counters(struct pmm_stats *s)
{
	size_t recount[FRAME_NUSES] = { 0 };

	for (size_t pfn = 0; pfn < s->total; pfn++) {
		struct frame *f = pmm_frame(pfn << PAGE_SHIFT);

		if (f->use >= FRAME_NUSES)
			violation("frame %#lx has use %u", (unsigned long)(pfn << PAGE_SHIFT), f->use);
		else
			recount[f->use]++;
		f->mapcount = 0;
		f->flags &= (uint8_t)~(HELD_BY_REQUEST | IN_AN_OBJECT);
	}
	for (int u = 0; u < FRAME_NUSES; u++)
		if (recount[u] != s->count[u])
			violation("%s frames: counter %zu, table %zu",
				  frame_use_name((enum frame_use)u), s->count[u], recount[u]);
}

struct walk_ctx {
	struct proc *p;
	uint64_t present;
};

/* An object's frame: only in a region of that object, at its page. */
static void check_object_pte(struct walk_ctx *c, const struct vm_region *r, vaddr_t va, pte_t pte)
{
	struct memobj_page page;

	if (!r || !r->obj || va >= r->obj_end ||
	    !memobj_lookup(r->obj, memobj_page_of(r, va), &page) ||
	    page.frame != arch_pte_frame(pte))
		violation("pid %lu va %#lx maps object frame %#lx that is not its region's object's"
			  " page there", (unsigned long)c->p->pid, (unsigned long)va,
			  (unsigned long)arch_pte_frame(pte));
	else if ((r->flags & VMR_PRIVATE) && (arch_pte_vm_flags(pte) & VM_WRITE))
		violation("pid %lu va %#lx maps object frame %#lx writable in a private region",
			  (unsigned long)c->p->pid, (unsigned long)va,
			  (unsigned long)arch_pte_frame(pte));
}

static void check_present(struct walk_ctx *c, vaddr_t va, pte_t pte)
{
	paddr_t pa = arch_pte_frame(pte);
	struct frame *f = pmm_frame(pa);
	struct vm_region *r = vm_find(&c->p->vm, va);
	uint64_t holder, window;

	if (r && (r->flags & VMR_MMIO)) {
		/* Device registers: exactly where they were mapped, never a RAM frame. */
		if (pa != r->mmio_base + (va - r->start) || (f && f->use != FRAME_RESERVED))
			violation("pid %lu va %#lx: MMIO page maps %#lx (%s), not device address %#lx",
				  (unsigned long)c->p->pid, (unsigned long)va, (unsigned long)pa,
				  f ? frame_use_name((enum frame_use)f->use) : "outside RAM",
				  (unsigned long)(r->mmio_base + (va - r->start)));
		return;
	}
	if (!f) {
		violation("pid %lu va %#lx maps %#lx outside RAM", (unsigned long)c->p->pid,
			  (unsigned long)va, (unsigned long)pa);
		return;
	}
	if (!r)
		violation("pid %lu va %#lx mapped outside any region", (unsigned long)c->p->pid,
			  (unsigned long)va);
	if (++f->mapcount > 1 && f->use != FRAME_OBJECT)
		violation("frame %#lx mapped twice (again by pid %lu at %#lx)", (unsigned long)pa,
			  (unsigned long)c->p->pid, (unsigned long)va);
	if (f->use == FRAME_OBJECT)
		check_object_pte(c, r, va, pte);
	if (f->use == FRAME_GRANT) {
		if (!grant_frame_holder(pa, &holder, &window) || holder != c->p->pid ||
		    window != va)
			violation("lent frame %#lx reachable by pid %lu at %#lx, not its holder's "
				  "window", (unsigned long)pa, (unsigned long)c->p->pid,
				  (unsigned long)va);
		return;
	}
	if (f->use != FRAME_USER && f->use != FRAME_DMA && f->use != FRAME_OBJECT)
		violation("pid %lu va %#lx maps a %s frame %#lx", (unsigned long)c->p->pid,
			  (unsigned long)va, frame_use_name((enum frame_use)f->use),
			  (unsigned long)pa);
	if (!r || !(r->flags & VMR_GRANT))
		c->present++;
}

static void check_absent(struct walk_ctx *c, vaddr_t va, pte_t pte)
{
	uint64_t sw = arch_pte_payload(pte);

	if (pte_is_inflight(sw) && !request_get(pte_inflight_request(sw)))
		violation("pid %lu va %#lx in flight on dead request %#lx",
			  (unsigned long)c->p->pid, (unsigned long)va,
			  (unsigned long)pte_inflight_request(sw));
	if (pte_is_swapped(sw)) {
		const struct swap_provider *sp = swap_provider_view(pte_swap_provider(sw));

		if (sp && sp->map.bits && !swapmap_in_use(&sp->map, pte_swap_slot(sw)))
			violation("pid %lu va %#lx names free swap slot %u/%lu",
				  (unsigned long)c->p->pid, (unsigned long)va, pte_swap_provider(sw),
				  (unsigned long)pte_swap_slot(sw));
	}
}

static void check_pte(vaddr_t va, pte_t pte, void *ctx)
{
	if (arch_pte_present(pte))
		check_present(ctx, va, pte);
	else
		check_absent(ctx, va, pte);
}

static void check_processes(void)
{
	for (int i = 0; i < PROC_MAX; i++) {
		struct walk_ctx c = { .p = proc_slot(i) };

		if (!c.p || c.p->phase == PROC_ZOMBIE)
			continue;
		arch_pt_walk_user(c.p->vm.root, check_pte, &c);
		if (c.present != c.p->vm.resident_pages)
			violation("pid %lu resident count %lu, present PTEs %lu",
				  (unsigned long)c.p->pid, (unsigned long)c.p->vm.resident_pages,
				  (unsigned long)c.present);
	}
}

struct object_ctx {
	const struct memobj *o;
	uint64_t pages;
};

static void check_object_page(uint64_t pg, const struct memobj_page *page, void *ctx)
{
	struct object_ctx *c = ctx;
	struct frame *f;

	if (page->state == MEMOBJ_INFLIGHT) {
		if (!request_get(page->request))
			violation("object %#lx page %lu in flight on dead request %#lx",
				  (unsigned long)memobj_id(c->o), (unsigned long)pg,
				  (unsigned long)page->request);
		return;
	}
	c->pages++;
	f = pmm_frame(page->frame);
	if (!f || f->use != FRAME_OBJECT || (f->flags & IN_AN_OBJECT)) {
		violation("object %#lx page %lu: frame %#lx is %s", (unsigned long)memobj_id(c->o),
			  (unsigned long)pg, (unsigned long)page->frame,
			  !f ? "outside RAM" : f->use != FRAME_OBJECT ? frame_use_name(f->use)
								    : "another page's too");
		return;
	}
	f->flags |= IN_AN_OBJECT;
	if (f->mapcount != page->maps)
		violation("object %#lx page %lu: %u PTEs map frame %#lx, the object counts %u",
			  (unsigned long)memobj_id(c->o), (unsigned long)pg, f->mapcount,
			  (unsigned long)page->frame, page->maps);
}

static void check_objects(void)
{
	struct memobj_totals t;
	uint64_t live = 0, pages = 0;

	for (int i = 0; i < memobj_slots(); i++) {
		struct object_ctx c = { .o = memobj_view(i) };

		if (!c.o)
			continue;
		memobj_walk(c.o, check_object_page, &c);
		if (c.pages != c.o->pages)
			violation("object %#lx counts %lu resident pages, has %lu",
				  (unsigned long)memobj_id(c.o), (unsigned long)c.o->pages,
				  (unsigned long)c.pages);
		if (c.o->refs < c.o->nmappings)
			violation("object %#lx: %u references, %u mappings",
				  (unsigned long)memobj_id(c.o), c.o->refs, c.o->nmappings);
		live++;
		pages += c.pages;
	}
	memobj_get_totals(&t);
	if (t.live != live || t.pages != pages)
		violation("objects: counted %lu live with %lu pages, %lu with %lu found",
			  (unsigned long)t.live, (unsigned long)t.pages, (unsigned long)live,
			  (unsigned long)pages);
}

static void mark_requests(void)
{
	struct page_request r;

	for (int i = 0; request_view(i, &r); i++)
		for (int k = 0; k < r.npages; k++)
			if (r.frames[k] && pmm_frame(r.frames[k]))
				pmm_frame(r.frames[k])->flags |= HELD_BY_REQUEST;
}

static void check_frames(const struct pmm_stats *s)
{
	for (size_t pfn = 0; pfn < s->total; pfn++) {
		paddr_t pa = pfn << PAGE_SHIFT;
		struct frame *f = pmm_frame(pa);
		bool held = f->flags & HELD_BY_REQUEST;

		if (f->use == FRAME_USER && f->mapcount == 0 && !held)
			violation("user frame %#lx neither mapped nor held by a request (leak)",
				  (unsigned long)pa);
		if (f->use == FRAME_GRANT && !held)
			violation("lent frame %#lx belongs to no live request", (unsigned long)pa);
		if (f->use == FRAME_OBJECT && !(f->flags & IN_AN_OBJECT))
			violation("object frame %#lx belongs to no object page (leak)",
				  (unsigned long)pa);
		f->mapcount = 0;
		f->flags &= (uint8_t)~(HELD_BY_REQUEST | IN_AN_OBJECT);
	}
}

static void check_watched(const struct pmm_stats *s)
{
	for (size_t pfn = 0; pfn < s->total; pfn++) {
		paddr_t pa = (paddr_t)pfn << PAGE_SHIFT;

		if (pmm_is_watched(pa) && (pmm_frame(pa)->use == FRAME_FREE ||
					   pmm_frame(pa)->use == FRAME_QUARANTINE) &&
		    !pmm_watched_intact(pa))
			violation("free frame %#lx was written after it was freed: a DMA transfer"
				  " landed late", (unsigned long)pa);
	}
}

static void check_grants(void)
{
	struct grant_view v;
	int lent = 0;
	struct pmm_stats s;

	for (int i = 0; grant_view_live(i, &v); i++) {
		for (int k = 0; k < v.npages; k++) {
			struct frame *f = pmm_frame(v.frames[k]);

			if (!f || f->use != FRAME_GRANT)
				violation("grant %#lx frame %#lx is not marked lent",
					  (unsigned long)v.id, (unsigned long)v.frames[k]);
		}
		lent += v.npages;
	}
	pmm_get_stats(&s);
	if ((size_t)lent != s.count[FRAME_GRANT])
		violation("live grants lend %d frames, frame table says %zu", lent,
			  s.count[FRAME_GRANT]);
}

static bool live_grant(uint64_t id, struct grant_view *v)
{
	for (int i = 0; grant_view_live(i, v); i++)
		if (v->id == id)
			return true;
	return false;
}

/* One entry of a device domain's page table: the unit would translate it. */
static void check_device_entry(int did, const struct iommu_map_view *m, void *ctx)
{
	struct frame *f = pmm_frame(m->frame);
	struct iommu_domain_view d;
	struct grant_view g;
	uint64_t base;
	bool writes;
	int gd;

	(void)ctx;
	if (!f || !m->grant) {
		if (!f || f->use != FRAME_DMA || m->iova < IOMMU_DMA_BASE ||
		    m->iova >= IOMMU_DMA_BASE + IOMMU_DMA_SIZE)
			violation("domain %d maps %#lx -> frame %#lx (%s) outside any live grant", did,
				  (unsigned long)m->iova, (unsigned long)m->frame,
				  f ? frame_use_name((enum frame_use)f->use) : "not RAM");
		return;
	}
	iommu_domain_view(did - 1, &d);
	if (!live_grant(m->grant, &g) || !iommu_grant_view(m->grant, &gd, &base, &writes) ||
	    gd != did || m->iova - base >= (uint64_t)g.npages * PAGE_SIZE ||
	    g.frames[(m->iova - base) / PAGE_SIZE] != m->frame || f->use != FRAME_GRANT ||
	    g.holder_pid != d.pid) {
		violation("domain %d maps %#lx -> frame %#lx, not that page of live grant %#lx held"
			  " by its process", did, (unsigned long)m->iova, (unsigned long)m->frame,
			  (unsigned long)m->grant);
		return;
	}
	if (m->write != g.writable || m->read == g.writable)
		violation("domain %d maps %#lx %s%s for a %s grant", did, (unsigned long)m->iova,
			  m->read ? "r" : "-", m->write ? "w" : "-",
			  g.writable ? "page-in (write-only)" : "page-out (read-only)");
}

static void check_devices(void)
{
	struct grant_view g;

	iommu_walk(check_device_entry, NULL);
	for (int i = 0; grant_view_live(i, &g); i++) {
		paddr_t pa;
		bool r, w;

		for (int k = 0; g.iova && k < g.npages; k++)
			if (!iommu_device_frame(g.id, g.iova + (uint64_t)k * PAGE_SIZE, &pa, &r, &w) ||
			    pa != g.frames[k])
				violation("grant %#lx page %d: not mapped at %#lx in its holder's domain",
					  (unsigned long)g.id, k,
					  (unsigned long)(g.iova + (uint64_t)k * PAGE_SIZE));
	}
}

int kdb_check(void)
{
	struct pmm_stats s;

	violations = 0;
	pmm_get_stats(&s);
	check_counters(&s);
	check_processes();
	check_objects();
	mark_requests();
	check_frames(&s);
	check_watched(&s);
	check_grants();
	check_devices();
	return violations;
}
