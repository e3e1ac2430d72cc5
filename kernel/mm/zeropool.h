/* SPDX-License-Identifier: MIT */
/*
 * Frames zeroed ahead of time.  A frame lent to a pager must never show it
 * another process's old data, and zeroing is a hidden 4 KiB write: the
 * idle thread does it when there is nothing else to do, so grants and
 * demand-zero faults usually take a frame that is already clean.
 */
#ifndef ZEROPOOL_H
#define ZEROPOOL_H

#include <stdbool.h>
#include <stddef.h>

#include "../arch/arch.h"

#define ZEROPOOL_TARGET	64

/* A zeroed frame tagged FRAME_USER, from the pool or zeroed now; 0 if none. */
paddr_t zeropool_take(void);
/*
 * Idle work, in three steps so the 4 KiB write runs without the kernel
 * lock (another CPU may need it meanwhile): a frame to clear (0: the pool
 * is full or memory short), clearing it (no lock), adding it (lock held;
 * a pool that filled meanwhile frees it instead).
 */
paddr_t zeropool_refill_begin(void);
void zeropool_clear(paddr_t pa);
void zeropool_refill_end(paddr_t pa);
/* Gives pool frames back when memory is short. */
void zeropool_drain(size_t keep);
size_t zeropool_size(void);
uint64_t zeropool_misses(void);	/* frames zeroed on demand */

#endif
