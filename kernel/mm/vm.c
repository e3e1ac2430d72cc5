// SPDX-License-Identifier: MIT
#include "vm.h"

#include <ferry/abi.h>
#include <ferry/err.h>
#include <string.h>

#include "../clock.h"
#include "../grant/grant.h"
#include "../lock.h"
#include "../log.h"
#include "../panic.h"
#include "heap.h"
#include "memobj.h"
#include "pmm.h"
#include "pte.h"
#include "swap.h"
#include "tlb.h"
#include "zeropool.h"

#define DMA_LIMIT	(4UL << 30)

static uint64_t next_region_id = 1;

unsigned vm_prot_flags(uint32_t prot)
{
	unsigned f = VM_USER | VM_READ;

	if (prot & PROT_WRITE)
		f |= VM_WRITE;
	if (prot & PROT_EXEC)
		f |= VM_EXEC;
	return f;
}

int vm_space_init(struct vm_space *vs, bool pinned)
{
	vs->root = arch_pt_create();
	vs->cpumask = 0;
	vs->regions = NULL;
	vs->hint = NULL;
	vs->resident_pages = 0;
	vs->pinned = pinned;
	vs->window_ptes = NULL;
	vs->window_slots_used = 0;
	vs->dma_ring = 0;
	vs->dma_ring_entries = 0;
	return vs->root ? 0 : ERR_NOMEM;
}

struct vm_region *vm_find(struct vm_space *vs, uint64_t addr)
{
	struct vm_region *h = vs->hint;

	if (h && h->start <= addr && addr < h->end)
		return h;
	for (struct vm_region *r = vs->regions; r && r->start <= addr; r = r->next)
		if (addr < r->end)
			return vs->hint = r;
	return NULL;
}

struct vm_region *vm_find_id(struct vm_space *vs, uint64_t id)
{
	if (vs->hint && vs->hint->id == id)
		return vs->hint;
	for (struct vm_region *r = vs->regions; r; r = r->next)
		if (r->id == id)
			return vs->hint = r;
	return NULL;
}

pte_t vm_unmap_page(struct tlb_batch *b, struct vm_space *vs, uint64_t va, pte_t *pte,
		    uint64_t payload)
{
	pte_t old;

	KASSERT(kernel_lock_held());
	old = arch_pte_exchange(pte, arch_pte_absent(payload));
	KASSERT(arch_pte_present(old));
	tlb_batch_add(b, vs, va);
	vs->resident_pages--;
	return old;
}

static bool range_free(struct vm_space *vs, uint64_t start, uint64_t end)
{
	for (struct vm_region *r = vs->regions; r; r = r->next)
		if (start < r->end && r->start < end)
			return false;
	return true;
}

/* First gap of `len` bytes at or above USER_MMAP_BASE. */
static uint64_t find_gap(struct vm_space *vs, size_t len)
{
	uint64_t at = USER_MMAP_BASE;

	for (struct vm_region *r = vs->regions; r; r = r->next) {
		if (r->end <= at)
			continue;
		if (r->start >= at + len)
			break;
		at = r->end;
	}
	return at + len <= GRANT_WINDOW_BASE ? at : 0;
}

static void insert_region(struct vm_space *vs, struct vm_region *nr)
{
	struct vm_region **pp = &vs->regions;

	while (*pp && (*pp)->start < nr->start)
		pp = &(*pp)->next;
	nr->vs = vs;
	nr->next = *pp;
	*pp = nr;
}

/* Frames unmapped in a batch go back once no CPU can reach them. */
struct release {
	struct tlb_batch tlb;
	paddr_t frames[TLB_BATCH_MAX];
	int nframes;
};

static void release_flush(struct release *rel)
{
	tlb_batch_flush(&rel->tlb);
	while (rel->nframes)
		pmm_free(rel->frames[--rel->nframes]);
}

/*
 * Forgets every page of [start, end): present frames are freed after the
 * shootdown of each batch of them (an object's frames stay with their
 * object, one mapping fewer), swap slots released.  An in-flight page is
 * only cleared: its request owns the frame and the slot, and frees them
 * when it finds the PTE changed.
 */
static void release_pages(struct vm_space *vs, struct vm_region *r)
{
	struct release rel = { .nframes = 0 };

	tlb_batch_init(&rel.tlb, TLB_NO_MODE);
	for (uint64_t va = r->start; va < r->end; va += PAGE_SIZE) {
		pte_t *pte = arch_pt_leaf(vs->root, va, false);
		uint64_t sw;

		if (!pte || !*pte)
			continue;
		if (r->flags & (VMR_GRANT | VMR_MMIO)) {
			/* a lent frame belongs to its request; device memory to nobody */
			if (arch_pte_present(arch_pte_exchange(pte, 0)))
				tlb_batch_add(&rel.tlb, vs, va);
			continue;
		}
		if (arch_pte_present(*pte)) {
			pte_t old = vm_unmap_page(&rel.tlb, vs, va, pte, 0);
			paddr_t pa = arch_pte_frame(old);

			if (r->obj && memobj_frame(pa))
				memobj_unmapped(r, va, old);
			else
				rel.frames[rel.nframes++] = pa;
			if (rel.nframes == TLB_BATCH_MAX)
				release_flush(&rel);
			continue;
		}
		sw = arch_pte_payload(*pte);
		if (pte_is_swapped(sw))
			swap_free_slot(pte_swap_provider(sw), pte_swap_slot(sw));
		*pte = 0;
	}
	release_flush(&rel);
}

int vm_install(struct vm_space *vs, const struct vm_region *r, uint64_t va, paddr_t pa)
{
	pte_t *pte = arch_pt_leaf(vs->root, va, true);

	if (!pte)
		return ERR_NOMEM;
	KASSERT(!arch_pte_present(*pte));
	*pte = arch_pte_make(pa, vm_prot_flags(r->prot));
	vs->resident_pages++;
	return 0;
}

static int populate(struct vm_space *vs, struct vm_region *r)
{
	for (uint64_t va = r->start; va < r->end; va += PAGE_SIZE) {
		paddr_t pa = zeropool_take();

		if (!pa)
			return ERR_NOMEM;
		if (vm_install(vs, r, va, pa)) {
			pmm_free(pa);
			return ERR_NOMEM;
		}
	}
	return 0;
}

static struct vm_region *new_region(uint64_t start, size_t len, uint32_t prot, uint32_t flags)
{
	struct vm_region *r = kzalloc(sizeof(*r));

	if (r)
		*r = (struct vm_region){ .start = start, .end = start + len, .prot = prot,
					 .flags = flags, .id = next_region_id++ };
	return r;
}

static int check_new_range(struct vm_space *vs, uint64_t *addr, size_t *len, uint32_t prot)
{
	if (*len == 0 || *len > USER_LIMIT || (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)))
		return ERR_INVAL;
	if ((prot & PROT_WRITE) && (prot & PROT_EXEC))
		return ERR_PERM;	/* W^X, as for program images */
	*len = PAGE_ALIGN_UP(*len);
	if (*addr == 0)
		*addr = find_gap(vs, *len);
	if (*addr == 0)
		return ERR_NOMEM;
	if ((*addr & ~PAGE_MASK) || !vm_range_ok(*addr, *len))
		return ERR_INVAL;
	if (!range_free(vs, *addr, *addr + *len))
		return ERR_EXIST;
	return 0;
}

int vm_map_anon(struct vm_space *vs, uint64_t addr, size_t len, uint32_t prot, uint32_t flags,
		uint64_t *out)
{
	struct vm_region *r;
	int err = check_new_range(vs, &addr, &len, prot);

	if (err)
		return err;
	if (vs->pinned)
		flags |= VMR_PINNED;
	r = new_region(addr, len, prot, flags);
	if (!r)
		return ERR_NOMEM;
	insert_region(vs, r);
	/* Pinned memory must never fault; images and stacks are filled now anyway. */
	if (flags & (VMR_PINNED | VMR_IMAGE | VMR_STACK)) {
		err = populate(vs, r);
		if (err) {
			vm_unmap(vs, addr, len);
			return err;
		}
	}
	*out = addr;
	return 0;
}

/*
 * A region of object o at [addr, addr + len) from object offset `offset`,
 * its file part ending at va file_end.  Takes one reference of o's for the
 * region (the caller keeps its own).
 */
static int map_object(struct vm_space *vs, struct memobj *o, uint64_t addr, size_t len,
		      uint64_t offset, uint64_t file_end, uint32_t prot, uint32_t flags)
{
	struct vm_region *r;
	int err;

	if (vs->pinned)
		return ERR_PERM;	/* a pinned process must not depend on a pager */
	if ((offset & ~PAGE_MASK) || offset / PAGE_SIZE + len / PAGE_SIZE > MEMOBJ_MAX_PAGES)
		return ERR_INVAL;
	r = new_region(addr, len, prot, VMR_PAGER | flags);
	if (!r)
		return ERR_NOMEM;
	r->pager_object = o->object;
	r->pager_offset = offset;
	r->zero_from = file_end < r->end ? file_end : r->end;
	r->obj_end = r->zero_from == r->end ? r->end : PAGE_ALIGN_DOWN(r->zero_from);
	err = memobj_attach(o, r);
	if (err) {
		kfree(r);
		return err;
	}
	memobj_hold(o);
	insert_region(vs, r);
	return 0;
}

int vm_map_pager(struct vm_space *vs, uint64_t port, uint64_t object, uint64_t offset,
		 size_t len, uint32_t prot, uint64_t *out)
{
	struct memobj *o;
	uint64_t addr = 0;
	bool private = prot & MAP_PRIVATE;
	int err;

	prot &= ~MAP_PRIVATE;
	err = check_new_range(vs, &addr, &len, prot);
	if (err)
		return err;
	if (vs->pinned)
		return ERR_PERM;
	o = memobj_get(port, object);
	if (!o)
		return ERR_NOMEM;
	err = map_object(vs, o, addr, len, offset, addr + len, prot, private ? VMR_PRIVATE : 0);
	memobj_put(o);
	if (!err)
		*out = addr;
	return err;
}

int vm_map_image(struct vm_space *vs, struct memobj *o, uint64_t start, uint64_t end,
		 uint64_t offset, uint64_t file_end, uint32_t prot)
{
	uint64_t addr = start;
	size_t len = end - start;
	int err = check_new_range(vs, &addr, &len, prot);

	if (err)
		return err;
	return map_object(vs, o, start, len, offset, file_end, prot,
			  VMR_IMAGE | ((prot & PROT_WRITE) ? VMR_PRIVATE : 0));
}

int vm_map_dma(struct vm_space *vs, size_t len, uint64_t *va_out, paddr_t *pa_out)
{
	size_t pages = PAGE_ALIGN_UP(len) >> PAGE_SHIFT;
	struct vm_region *r;
	uint64_t va;
	paddr_t pa;

	if (len == 0 || pages > 256)
		return ERR_INVAL;
	va = find_gap(vs, pages * PAGE_SIZE);
	pa = pmm_alloc_contig(pages, FRAME_DMA, DMA_LIMIT);
	if (!va || !pa || !(r = new_region(va, pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
					    VMR_DMA | VMR_PINNED))) {
		if (pa)
			pmm_free_contig(pa, pages);
		return ERR_NOMEM;
	}
	memset(phys_to_virt(pa), 0, pages * PAGE_SIZE);
	insert_region(vs, r);
	for (size_t i = 0; i < pages; i++) {
		if (vm_install(vs, r, va + i * PAGE_SIZE, pa + i * PAGE_SIZE)) {
			vm_unmap(vs, va, pages * PAGE_SIZE);	/* frees what was mapped */
			pmm_free_contig(pa + i * PAGE_SIZE, pages - i);
			return ERR_NOMEM;
		}
	}
	*va_out = va;
	*pa_out = pa;
	return 0;
}

static bool in_hole(uint64_t off, const struct vm_hole *holes, int n)
{
	for (int i = 0; i < n; i++)
		if (off + PAGE_SIZE > holes[i].off && off < holes[i].off + holes[i].len)
			return true;
	return false;
}

int vm_map_mmio(struct vm_space *vs, paddr_t pa, size_t len, const struct vm_hole *holes,
		int nholes, uint64_t *out)
{
	unsigned flags = VM_USER | VM_READ | VM_WRITE | VM_UNCACHED;
	struct vm_region *r;
	uint64_t va;

	KASSERT(len && !(len & ~PAGE_MASK) && !(pa & ~PAGE_MASK));
	va = find_gap(vs, len);
	if (!va || !(r = new_region(va, len, PROT_READ | PROT_WRITE, VMR_MMIO | VMR_PINNED)))
		return ERR_NOMEM;
	r->mmio_base = pa;
	insert_region(vs, r);
	for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
		pte_t *pte;

		if (in_hole(off, holes, nholes))
			continue;
		pte = arch_pt_leaf(vs->root, va + off, true);
		if (!pte) {
			vm_unmap(vs, va, len);
			return ERR_NOMEM;
		}
		*pte = arch_pte_make(pa + off, flags);	/* not resident: no frame */
	}
	*out = va;
	return 0;
}

_Static_assert(GRANT_WINDOW_SIZE == 512 * PAGE_SIZE && GRANT_WINDOW_BASE % (512 * PAGE_SIZE) == 0,
	       "the grant window is exactly one aligned leaf page table");

int vm_grant_window(struct vm_space *vs)
{
	struct vm_region *r;

	if (vs->window_ptes)
		return 0;
	r = new_region(GRANT_WINDOW_BASE, GRANT_WINDOW_SIZE, PROT_READ | PROT_WRITE,
		       VMR_GRANT | VMR_PINNED);
	if (!r)
		return ERR_NOMEM;
	vs->window_ptes = arch_pt_leaf(vs->root, GRANT_WINDOW_BASE, true);
	if (!vs->window_ptes) {
		kfree(r);
		return ERR_NOMEM;
	}
	insert_region(vs, r);
	return 0;
}

int vm_unmap(struct vm_space *vs, uint64_t addr, size_t len)
{
	struct vm_region **pp = &vs->regions, *r;

	while ((r = *pp) && r->start != addr)
		pp = &r->next;
	if (!r || r->end - r->start != PAGE_ALIGN_UP(len))
		return ERR_INVAL;
	*pp = r->next;
	if (vs->hint == r)
		vs->hint = NULL;
	release_pages(vs, r);
	if (r->obj) {
		memobj_detach(r->obj, r);
		memobj_put(r->obj);
	}
	kfree(r);
	return 0;
}

int vm_pin(struct vm_space *vs, uint64_t addr, size_t len)
{
	uint64_t end = addr + len;

	if (!vm_range_ok(addr, len))
		return ERR_INVAL;
	/* Check the whole range first, then commit: no half-pinned ranges. */
	for (uint64_t a = PAGE_ALIGN_DOWN(addr); a < end; a += PAGE_SIZE) {
		struct vm_region *r = vm_find(vs, a);
		pte_t *pte;

		if (!r || (r->flags & (VMR_PAGER | VMR_GRANT)))
			return ERR_FAULT;
		pte = arch_pt_leaf(vs->root, a, false);
		if (!pte || !arch_pte_present(*pte))
			return ERR_AGAIN;	/* touch it first: pinning does not page in */
	}
	for (struct vm_region *r = vs->regions; r; r = r->next)
		if (r->start < end && addr < r->end)
			r->flags |= VMR_PINNED;
	return 0;
}

int vm_set_dma_ring(struct vm_space *vs, uint64_t va, uint64_t entries)
{
	struct vm_region *r = vm_find(vs, va);

	if (!r || !(r->flags & VMR_DMA) || (va & 63) || entries < 2 || entries > 4096 ||
	    va + entries * 64 > r->end)
		return ERR_INVAL;
	vs->dma_ring = va;
	vs->dma_ring_entries = (uint32_t)entries;
	return 0;
}

int vm_dma_read(struct vm_space *vs, paddr_t pa, void *out, size_t len)
{
	if ((pa & ~PAGE_MASK) + len > PAGE_SIZE)
		return ERR_FAULT;
	for (struct vm_region *r = vs->regions; r; r = r->next) {
		paddr_t frame;

		if (!(r->flags & VMR_DMA))
			continue;
		for (uint64_t va = r->start; va < r->end; va += PAGE_SIZE) {
			if (arch_pt_query(vs->root, va, &frame, NULL) && frame == PAGE_ALIGN_DOWN(pa)) {
				memcpy(out, phys_to_virt(pa), len);
				return 0;
			}
		}
	}
	return ERR_FAULT;
}

int vm_copy_in(struct vm_space *vs, uint64_t va, const void *src, size_t n)
{
	const uint8_t *s = src;

	while (n) {
		size_t chunk = PAGE_SIZE - (va & ~PAGE_MASK);
		paddr_t pa;

		if (chunk > n)
			chunk = n;
		if (!arch_pt_query(vs->root, PAGE_ALIGN_DOWN(va), &pa, NULL))
			return ERR_FAULT;
		memcpy((uint8_t *)phys_to_virt(pa) + (va & ~PAGE_MASK), s, chunk);
		va += chunk;
		s += chunk;
		n -= chunk;
	}
	return 0;
}

int vm_copy_out(struct vm_space *vs, uint64_t va, void *dst, size_t n)
{
	uint8_t *d = dst;

	while (n) {
		size_t chunk = PAGE_SIZE - (va & ~PAGE_MASK);
		struct vm_region *r = vm_find(vs, va);
		paddr_t pa;

		if (chunk > n)
			chunk = n;
		if (!r || (r->flags & VMR_MMIO) || !arch_pt_query(vs->root, PAGE_ALIGN_DOWN(va), &pa, NULL))
			return ERR_FAULT;
		memcpy(d, (uint8_t *)phys_to_virt(pa) + (va & ~PAGE_MASK), chunk);
		va += chunk;
		d += chunk;
		n -= chunk;
	}
	return 0;
}

/* vm_user_frame() when the leaf alone does not allow the access: the region
 * says whether it is an error or a page still to bring in.  Out of line,
 * so the common case pays no frame for it. */
static __attribute__((noinline)) int user_frame_slow(struct vm_space *vs, uint64_t va, bool write,
						     paddr_t *pa)
{
	struct vm_region *r = vm_find(vs, va);
	pte_t *pte;

	/* Device registers are not memory: the kernel never copies through them. */
	if (!r || (r->flags & VMR_MMIO) || (write && !(r->prot & PROT_WRITE)))
		return ERR_FAULT;
	pte = arch_pt_leaf(vs->root, va, false);
	if (!pte || !arch_pte_present(*pte))
		return (r->flags & VMR_GRANT) ? ERR_FAULT : ERR_AGAIN;
	if (write && !(arch_pte_vm_flags(*pte) & VM_WRITE))
		/* a private copy still to make (memobj.h), or a read-only page-out grant */
		return (r->flags & VMR_PRIVATE) && memobj_frame(arch_pte_frame(*pte)) ? ERR_AGAIN
										    : ERR_FAULT;
	*pa = arch_pte_frame(*pte) + (va & ~PAGE_MASK);
	return 0;
}

int vm_user_frame(struct vm_space *vs, uint64_t va, bool write, paddr_t *pa)
{
	if (!vm_range_ok(va, 1))
		return ERR_FAULT;
	/* The common case in one walk, no region lookup: a leaf never allows
	 * more than its region's prot (vm_prot_flags(), memobj_map(), grant
	 * windows), and the only uncached user leaves are device registers
	 * (vm_map_mmio()). */
	if (arch_pt_user_frame(vs->root, va, write, pa)) {
		*pa += va & ~PAGE_MASK;
		return 0;
	}
	return user_frame_slow(vs, va, write, pa);
}

void vm_region_census(struct vm_space *vs, const struct vm_region *r, struct vm_census *out)
{
	*out = (struct vm_census){ 0 };
	for (uint64_t va = r->start; va < r->end; va += PAGE_SIZE) {
		pte_t *pte = arch_pt_leaf(vs->root, va, false);
		struct memobj_page page;
		uint64_t sw;

		if (!pte || !*pte)
			continue;
		if (!arch_pte_present(*pte)) {
			sw = arch_pte_payload(*pte);
			out->swapped += pte_is_swapped(sw);
			out->inflight += pte_is_inflight(sw);
			continue;
		}
		if (r->flags & VMR_MMIO)
			continue;	/* device memory: no frame */
		out->resident++;
		if (!r->obj || !memobj_frame(arch_pte_frame(*pte))) {
			out->private_pages += !(r->flags & VMR_GRANT);
			continue;
		}
		out->shared++;
		memobj_lookup(r->obj, memobj_page_of(r, va), &page);
		out->shared_others += page.maps > 1;
	}
}

const char *vm_region_kind(const struct vm_region *r)
{
	if (r->flags & VMR_GRANT)
		return "grant-window";
	if (r->flags & VMR_DMA)
		return "dma";
	if (r->flags & VMR_MMIO)
		return "mmio";
	if (r->flags & VMR_PAGER)
		return (r->flags & VMR_IMAGE) ? "program" : "file";
	if (r->flags & VMR_IMAGE)
		return "image";
	if (r->flags & VMR_STACK)
		return "stack";
	return "anon";
}

/* => vs is not the active address space (the caller switched away); its
 * threads are gone, but a CPU may still hold its translations lazily: the
 * cleared PTEs are shot down before the frames are handed on. */
size_t vm_take_dma_frames(struct vm_space *vs, paddr_t *out, size_t max)
{
	struct tlb_batch b;
	size_t n = 0;

	tlb_batch_init(&b, TLB_NO_MODE);
	for (struct vm_region *r = vs->regions; r; r = r->next) {
		for (uint64_t va = r->start; (r->flags & VMR_DMA) && va < r->end && n < max;
		     va += PAGE_SIZE) {
			pte_t *pte = arch_pt_leaf(vs->root, va, false);

			if (!pte || !arch_pte_present(*pte))
				continue;
			out[n++] = arch_pte_frame(vm_unmap_page(&b, vs, va, pte, 0));
		}
	}
	tlb_batch_flush(&b);
	return n;
}

/* => no CPU has vs loaded (tlb_retire). */
void vm_space_destroy(struct vm_space *vs)
{
	KASSERT(vs->cpumask == 0);
	while (vs->regions)
		vm_unmap(vs, vs->regions->start, vs->regions->end - vs->regions->start);
	KASSERT(vs->resident_pages == 0);
	arch_pt_destroy(vs->root);
	vs->root = 0;
	vs->window_ptes = NULL;
}
