/* SPDX-License-Identifier: MIT */
/*
 * The page-out daemon.  When free frames fall below the low watermark it
 * runs a second-chance clock over the resident, unpinned user pages of
 * every process: a page used since the last pass (accessed bit) gets
 * another chance; one that was not is a victim.  Anonymous victims go to
 * a swap provider in runs of contiguous slots; clean pager-backed pages are
 * dropped (the pager can provide them again); dirty ones are written back
 * to their pager.  Outstanding page-outs per provider are bounded
 * (SWAP_OUTSTANDING_MAX): a slow provider is never drowned.
 *
 * Every tick (100 ms) it also fails page requests that overran their
 * overtime, and sends the dirty pages of memory objects that no PTE maps
 * any more (a process killed while it had written to a shared file
 * mapping) to their pager (memobj_write_back_unmapped).
 */
#ifndef PAGEOUT_H
#define PAGEOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct proc;

void pageout_init(void);
void pageout_check_pressure(void);
/* Sleeps a moment while the daemon frees memory; false if it cannot. */
bool pageout_wait_for_memory(void);
void pageout_memory_freed(void);
/* Pages out every resident page of [addr, addr+len) of p now and waits:
 * => pages that left memory (written out or dropped), or an error. */
long pageout_evict_range(struct proc *p, uint64_t addr, size_t len);
/* Writes back the dirty object pages of [addr, addr+len) of p and waits;
 * clean pages stay mapped (exit, munmap).  => as pageout_evict_range. */
long pageout_write_back_range(struct proc *p, uint64_t addr, size_t len);

#endif
