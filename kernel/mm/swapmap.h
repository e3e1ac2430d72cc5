/* SPDX-License-Identifier: MIT */
/*
 * A swap provider's slot map: one bit per 4 KiB slot (1 = in use or bad),
 * with runs of contiguous slots for clustered page-out, so that a cluster
 * becomes one disk transfer.  Bad slots (a failed write) stay allocated
 * forever and are counted apart.  Pure bookkeeping: host-tested.
 */
#ifndef SWAPMAP_H
#define SWAPMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct swapmap {
	uint64_t *bits;
	uint64_t nslots;
	uint64_t used;		/* including bad */
	uint64_t bad;
	uint64_t hint;		/* where the next search starts */
};

size_t swapmap_words(uint64_t nslots);
void swapmap_init(struct swapmap *m, uint64_t *bits, uint64_t nslots);
/* n contiguous free slots; => 0 with *first set, or -1. */
int swapmap_alloc(struct swapmap *m, unsigned n, uint64_t *first);
/* => 0, or -1 when the slot is out of range or not in use. */
int swapmap_free(struct swapmap *m, uint64_t slot);
int swapmap_mark_bad(struct swapmap *m, uint64_t slot);
bool swapmap_in_use(const struct swapmap *m, uint64_t slot);

#endif
