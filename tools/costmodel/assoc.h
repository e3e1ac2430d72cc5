/* SPDX-License-Identifier: MIT */
/*
 * The cost model's caches and TLB (ferrycost.c): set-associative, LRU,
 * keyed by line or page number.  Each belongs to one vCPU; only a DMA
 * announcement on another vCPU also drops lines from it, with no lock:
 * exact under icount (every vCPU on one thread), and under multi-threaded
 * TCG at worst a line dropped late (never a memory error).
 */
#ifndef FERRYCOST_ASSOC_H
#define FERRYCOST_ASSOC_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A set-associative cache or TLB with LRU replacement: tags[set][way]. */
struct assoc {
	unsigned sets, ways;
	uint64_t *tags;		/* key + 1; 0 is an empty way */
	uint32_t *age;		/* last use, by a per-structure clock */
	uint32_t clock;
};

static inline int assoc_init(struct assoc *a, unsigned entries, unsigned ways)
{
	if (ways == 0 || entries < ways || entries % ways)
		return -1;
	a->ways = ways;
	a->sets = entries / ways;
	a->tags = calloc(entries, sizeof(*a->tags));
	a->age = calloc(entries, sizeof(*a->age));
	return a->tags && a->age ? 0 : -1;
}

/* Looks key up; on a miss it replaces the least recently used way. => hit? */
static inline int assoc_access(struct assoc *a, uint64_t key)
{
	unsigned set = (unsigned)(key % a->sets), victim = 0;
	uint64_t *tags = &a->tags[set * a->ways];
	uint32_t *age = &a->age[set * a->ways];

	a->clock++;
	for (unsigned w = 0; w < a->ways; w++) {
		if (tags[w] == key + 1) {
			age[w] = a->clock;
			return 1;
		}
		if (tags[w] == 0 || (tags[victim] != 0 && age[w] < age[victim]))
			victim = w;
	}
	tags[victim] = key + 1;
	age[victim] = a->clock;
	return 0;
}

static inline void assoc_drop(struct assoc *a, uint64_t key)
{
	uint64_t *tags = &a->tags[(key % a->sets) * a->ways];

	for (unsigned w = 0; w < a->ways; w++)
		if (tags[w] == key + 1)
			tags[w] = 0;
}

static inline void assoc_flush(struct assoc *a)
{
	memset(a->tags, 0, (size_t)a->sets * a->ways * sizeof(*a->tags));
}

#endif
