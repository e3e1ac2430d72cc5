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
/* Idle work: zero one free frame into the pool; => false if nothing to do. */
bool zeropool_refill_one(void);
/* Gives pool frames back when memory is short. */
void zeropool_drain(size_t keep);
size_t zeropool_size(void);
uint64_t zeropool_misses(void);	/* frames zeroed on demand */

#endif
