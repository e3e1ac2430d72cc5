/* SPDX-License-Identifier: MIT */
/*
 * Address spaces.  A vm_space is a page-table root plus a sorted list of
 * regions; every user mapping belongs to exactly one region, which says
 * where its pages come from:
 *
 *   anonymous     demand-zero on first touch; evicted pages go to swap
 *   pager-backed  pages come from a memory object (memobj.h): a pager's
 *                 object cached once for every mapping of it; shared, or
 *                 private (copy-on-write); clean pages are dropped under
 *                 pressure and asked for again, dirty ones written back
 *   DMA           physically contiguous, pinned, below 4 GiB
 *   grant window  where kernel/grant maps lent frames; never faulted in
 *   MMIO          a device's registers (kernel/pci.h), uncached, pinned; no
 *                 frames behind it: never copied through, never counted
 *                 resident; pages the kernel holds back stay unmapped
 *
 * A region (or the whole space, for drivers and pagers: `pinned`) can be
 * pinned: its pages are present from the start and never paged out, since
 * whatever the fault path depends on must not fault itself.
 *
 * Every region has an id that is never reused, so a page request that
 * waited can tell "the same region" from "unmapped and mapped again".
 */
#ifndef VM_H
#define VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../arch/arch.h"

#define USER_MIN	0x10000UL		/* page 0..15 never mapped: NULL traps */
#define USER_LIMIT	(USER_TOP - PAGE_SIZE)	/* sysret needs a canonical next rip */
#define USER_STACK_TOP	(USER_LIMIT - PAGE_SIZE)	/* one guard page above */
#define USER_STACK_SIZE	(64UL * 1024)
#define USER_MMAP_BASE	0x100000000000UL

#define VMR_PINNED	0x01
#define VMR_DMA		0x02	/* physically contiguous; frames are FRAME_DMA */
#define VMR_STACK	0x04
#define VMR_IMAGE	0x08
#define VMR_PAGER	0x10	/* pages come from a memory object (obj) */
#define VMR_GRANT	0x20	/* the grant window */
#define VMR_PRIVATE	0x40	/* pager region whose written pages stay private */
#define VMR_MMIO	0x80	/* device registers; mmio_base is their bus address */

struct memobj;
struct tlb_batch;

struct vm_region {
	uint64_t start, end;	/* page aligned, end exclusive */
	uint32_t prot;		/* PROT_* */
	uint32_t flags;		/* VMR_* */
	uint64_t id;
	struct vm_space *vs;	/* the space it belongs to */
	/*
	 * Pager regions: the object (memobj.h) whose bytes from pager_offset
	 * on it maps.  [start, obj_end) maps the object's pages; the page at
	 * obj_end, if zero_from is inside it, is a copy whose bytes from
	 * zero_from on are zero (a data segment's end); the rest up to end is
	 * demand-zero.  A plain file mapping has obj_end = zero_from = end.
	 */
	struct memobj *obj;
	uint64_t pager_object, pager_offset;
	uint64_t obj_end, zero_from;
	struct vm_region *obj_next;	/* the object's list of its mappings */
	uint64_t mmio_base;	/* VMR_MMIO: the device address at start */
	struct vm_region *next;
};

struct vm_space {
	paddr_t root;
	uint64_t cpumask;		/* CPUs whose CR3 holds root (mm/tlb.h), atomic */
	struct vm_region *regions;	/* sorted by start, never overlapping */
	/* The region last found (vm_find, vm_find_id), or NULL: a fault
	 * asks for its region several times.  Regions never change their
	 * range; vm_unmap forgets it when it frees it. */
	struct vm_region *hint;
	uint64_t resident_pages;
	bool pinned;			/* every region pinned: drivers, pagers */
	/* The grant window is one leaf page table (grant.h sizes it so): kept
	 * at hand, lending and taking back a frame is one PTE write each. */
	pte_t *window_ptes;
	uint32_t window_slots_used;	/* bit per grant slot of the window */
	/* A driver's NVMe submission ring, inside a DMA region (VM_CTL_DMA_RING):
	 * only the debug console reads it. */
	uint64_t dma_ring;
	uint32_t dma_ring_entries;
};

int vm_space_init(struct vm_space *vs, bool pinned);
void vm_space_destroy(struct vm_space *vs);
/*
 * Maps anonymous memory (zero-filled: on first touch, or at once if
 * pinned).  addr 0 lets the kernel choose; otherwise [addr, addr+len)
 * must be free, page aligned and inside the user range.
 * => 0 with *out set, ERR_INVAL, ERR_NOMEM, ERR_PERM or ERR_EXIST.
 */
int vm_map_anon(struct vm_space *vs, uint64_t addr, size_t len, uint32_t prot, uint32_t flags,
		uint64_t *out);
/* A file mapping: [offset, offset + len) of object `object` at pager `port`. */
int vm_map_pager(struct vm_space *vs, uint64_t port, uint64_t object, uint64_t offset,
		 size_t len, uint32_t prot, uint64_t *out);
/*
 * A program segment from memory object o (spawn): [start, end) at object
 * offset `offset`, bytes from file_end on zero (see struct vm_region);
 * private if writable.  => 0, ERR_NOMEM, ERR_EXIST or ERR_BUSY.
 */
int vm_map_image(struct vm_space *vs, struct memobj *o, uint64_t start, uint64_t end,
		 uint64_t offset, uint64_t file_end, uint32_t prot);
/* Physically contiguous, pinned, below 4 GiB, for device DMA. */
int vm_map_dma(struct vm_space *vs, size_t len, uint64_t *va, paddr_t *pa);
/* A byte range of an MMIO mapping kept unmapped. */
struct vm_hole {
	uint64_t off, len;
};
/*
 * Maps device memory [pa, pa + len) (page aligned) uncached, read-write,
 * leaving the pages that touch any of `holes` unmapped.  The caller has
 * checked that the range is device memory and nothing else.
 * => 0 with *out set, ERR_NOMEM.
 */
int vm_map_mmio(struct vm_space *vs, paddr_t pa, size_t len, const struct vm_hole *holes,
		int nholes, uint64_t *out);
/* Takes the frames of vs's DMA regions out of it (PTEs cleared, not freed):
 * the caller disposes of them.  => frames taken, at most max. */
size_t vm_take_dma_frames(struct vm_space *vs, paddr_t *out, size_t max);
/* Removes whole regions only: [addr, addr+len) must be exactly one region. */
int vm_unmap(struct vm_space *vs, uint64_t addr, size_t len);
int vm_pin(struct vm_space *vs, uint64_t addr, size_t len);
struct vm_region *vm_find(struct vm_space *vs, uint64_t addr);
struct vm_region *vm_find_id(struct vm_space *vs, uint64_t id);
/* The grant window region, created on first use. */
int vm_grant_window(struct vm_space *vs);
/* Names a submission ring of `entries` 64-byte commands at va, which must
 * lie in one DMA region.  => 0, ERR_INVAL. */
int vm_set_dma_ring(struct vm_space *vs, uint64_t va, uint64_t entries);
/* Reads len bytes at physical address pa, if they are in one page of vs's
 * DMA memory (the debug console).  => 0, ERR_FAULT. */
int vm_dma_read(struct vm_space *vs, paddr_t pa, void *out, size_t len);
/* Writes into mapped pages whatever their protection (loading images). */
int vm_copy_in(struct vm_space *vs, uint64_t va, const void *src, size_t n);
/* Reads mapped pages (the debug console).  => 0, ERR_FAULT (not all present). */
int vm_copy_out(struct vm_space *vs, uint64_t va, void *dst, size_t n);
/*
 * The frame behind a user address, if present with the needed access.
 * => 0, ERR_FAULT (no such mapping or access), ERR_AGAIN (valid but not
 * resident: vm_fault_in() brings it).
 */
int vm_user_frame(struct vm_space *vs, uint64_t va, bool write, paddr_t *pa);
/* Whether [addr, addr+len) is a sane user range (no wrap, inside USER_MIN..USER_LIMIT). */
static inline bool vm_range_ok(uint64_t addr, size_t len)
{
	return len > 0 && addr >= USER_MIN && addr + len > addr && addr + len <= USER_LIMIT;
}
/*
 * Unmaps the present page at va (pte is its entry): the PTE becomes absent
 * with `payload` (pte.h) in one atomic swap (the old value carries the
 * dirty bit another CPU's walker may have set a moment ago), the page joins
 * the shootdown batch b (mm/tlb.h) and stops counting as resident.  A page
 * must be invalidated on every CPU, tlb_batch_flush(b), before its frame
 * changes hands (freed, copied from for good, lent), so every unmap of a
 * present user page goes through here.  => the old PTE (its dirty and
 * accessed bits).
 */
pte_t vm_unmap_page(struct tlb_batch *b, struct vm_space *vs, uint64_t va, pte_t *pte,
		    uint64_t payload);
/* What a region's pages are now (kdb `as`, sys_mem_info). */
struct vm_census {
	uint32_t resident;		/* present PTEs */
	uint32_t shared;		/* of them, a memory object's frames */
	uint32_t shared_others;		/* of those, frames some other PTE maps too */
	uint32_t private_pages;		/* of them, the process's own frames */
	uint32_t swapped, inflight;
};
void vm_region_census(struct vm_space *vs, const struct vm_region *r, struct vm_census *out);
/* "anon", "stack", "image", "file", "program", "dma", "mmio", "grant-window" */
const char *vm_region_kind(const struct vm_region *r);
/* The page-table flags (VM_*) of a PROT_* protection. */
unsigned vm_prot_flags(uint32_t prot);
/* Maps a frame at va in a region (the fault path, demand zero). */
int vm_install(struct vm_space *vs, const struct vm_region *r, uint64_t va, paddr_t pa);

#endif
