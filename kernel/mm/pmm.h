/* SPDX-License-Identifier: MIT */
/*
 * Physical memory: page frames handed out one at a time or as contiguous,
 * aligned runs (DMA buffers), each tagged with its use.  Counters per use
 * are kept exactly, so a leak check is a comparison of two snapshots.
 */
#ifndef PMM_H
#define PMM_H

#include "../arch/arch.h"
#include "../bootinfo.h"
#include "frame_table.h"

struct pmm_stats {
	size_t total;			/* frames the table covers */
	size_t count[FRAME_NUSES];
};

void pmm_init(const struct boot_info *bi, paddr_t kernel_start, paddr_t kernel_end);
/* Returns a frame's physical address, or 0 when memory is exhausted. */
paddr_t pmm_alloc(enum frame_use use);
paddr_t pmm_alloc_zeroed(enum frame_use use);
paddr_t pmm_alloc_contig(size_t nframes, enum frame_use use, paddr_t below);
/* Freeing a frame that is not allocated is a kernel bug: it panics. */
void pmm_free(paddr_t pa);
void pmm_free_contig(paddr_t pa, size_t nframes);
struct frame *pmm_frame(paddr_t pa);	/* NULL outside RAM */
void pmm_get_stats(struct pmm_stats *out);
size_t pmm_free_frames(void);
/* Takes an allocated frame out of use for good (a device may still DMA
 * into it); counted as FRAME_QUARANTINE, never reused. */
void pmm_quarantine(paddr_t pa);
/* Frees a frame a device may have been writing into (a DMA request given
 * up on): poisoned first, the poison checked when the frame is allocated
 * again and by kdb `check`, so a transfer landing after the free is
 * reported (and counted), never silent. */
void pmm_free_watched(paddr_t pa);
/* Poisons and watches a frame kept out of use (a test's negative control). */
void pmm_watch(paddr_t pa);
bool pmm_is_watched(paddr_t pa);		/* watched since freed or kept out */
bool pmm_watched_intact(paddr_t pa);
uint64_t pmm_late_writes(void);
/* Retags an allocated frame; panics if its use is not `from`. */
void pmm_set_use(paddr_t pa, enum frame_use from, enum frame_use to);

/* Frames kept back for the kernel: user allocations wait below this. */
#define PMM_RESERVE_FRAMES	64

#endif
