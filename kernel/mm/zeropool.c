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

paddr_t zeropool_refill_begin(void)
{
	if (count == ZEROPOOL_TARGET || pmm_free_frames() < PMM_RESERVE_FRAMES * 2)
		return 0;
	return pmm_alloc(FRAME_ZEROED);
}

void zeropool_clear(paddr_t pa)
{
	memset(phys_to_virt(pa), 0, PAGE_SIZE);
}

void zeropool_refill_end(paddr_t pa)
{
	if (count == ZEROPOOL_TARGET)
		pmm_free(pa);
	else
		pool[count++] = pa;
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
