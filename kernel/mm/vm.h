/* SPDX-License-Identifier: MIT */
/*
 * Address spaces.  A vm_space is a page-table root plus a sorted list of
 * regions; every user mapping belongs to exactly one region, which says
 * where its pages come from:
 *
 *   anonymous     demand-zero on first touch; evicted pages go to swap
 *   pager-backed  pages come from a pager port (object id, byte offset =
 *                 address - region start); clean ones are dropped under
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
#define VMR_PAGER	0x10	/* pages come from pager_port */
#define VMR_GRANT	0x20	/* the grant window */
#define VMR_PRIVATE	0x40	/* pager region whose written pages stay private */
#define VMR_MMIO	0x80	/* device registers; mmio_base is their bus address */

struct vm_region {
	uint64_t start, end;	/* page aligned, end exclusive */
	uint32_t prot;		/* PROT_* */
	uint32_t flags;		/* VMR_* */
	uint64_t id;
	uint64_t pager_port, pager_object, pager_offset;
	/* The object pager (objpager.h) behind pager_port when the region was
	 * mapped, or OBJPAGER_NONE: requests then go to its port of the moment. */
	uint32_t pager_index;
	uint64_t mmio_base;	/* VMR_MMIO: the device address at start */
	struct vm_region *next;
};

struct vm_space {
	paddr_t root;
	struct vm_region *regions;	/* sorted by start, never overlapping */
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
int vm_map_pager(struct vm_space *vs, uint64_t port, uint64_t object, uint64_t offset,
		 size_t len, uint32_t prot, uint64_t *out);
/*
 * Where a pager region's page requests go now: its object pager's port (0
 * while that pager is away, objpager.h), or the port it was mapped with.
 */
uint64_t vm_pager_port(struct vm_region *r);
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
/* Reads len bytes at device address dev, if they are in one page of vs's
 * DMA memory (no IOMMU: a device address is the frame's). => 0, ERR_FAULT. */
int vm_dma_read(struct vm_space *vs, uint64_t dev, void *out, size_t len);
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
bool vm_range_ok(uint64_t addr, size_t len);
/* Invalidates va's TLB entry if vs is the live address space; => whether it did. */
bool vm_flush_page(struct vm_space *vs, uint64_t va);
/* Maps a frame at va in a region (the fault path, demand zero). */
int vm_install(struct vm_space *vs, const struct vm_region *r, uint64_t va, paddr_t pa);

#endif
