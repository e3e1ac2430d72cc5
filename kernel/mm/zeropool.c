// SPDX-License-Identifier: MIT
#include "zeropool.h"

#include <string.h>

#include "pmm.h"

static paddr_t pool[ZEROPOOL_TARGET];
static size_t count;
static uint64_t misses;

paddr_t zeropool_take(void)
{
	paddr_t pa;

	if (count) {
		pa = pool[--count];
		pmm_set_use(pa, FRAME_ZEROED, FRAME_USER);
		return pa;
	}
	misses++;
	return pmm_alloc_zeroed(FRAME_USER);
}

bool zeropool_refill_one(void)
{
	paddr_t pa;

	if (count == ZEROPOOL_TARGET || pmm_free_frames() < PMM_RESERVE_FRAMES * 2)
		return false;
	pa = pmm_alloc_zeroed(FRAME_ZEROED);
	if (!pa)
		return false;
	pool[count++] = pa;
	return true;
}

void zeropool_drain(size_t keep)
{
	while (count > keep)
		pmm_free(pool[--count]);
}

size_t zeropool_size(void)
{
	return count;
}

uint64_t zeropool_misses(void)
{
	return misses;
}
