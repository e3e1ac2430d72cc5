/* SPDX-License-Identifier: MIT */
/*
 * Handles (pids, ports, reply tokens, grant ids) are a table index plus a
 * generation that the slot bumps every time it is freed, so a stale or
 * forged handle never aliases the slot's next occupant (MINIX GRANT_ID,
 * Hubris task generations).  Generations start at 1, so no handle is 0.
 */
#ifndef HANDLE_H
#define HANDLE_H

#include <stdint.h>

#define HANDLE_INDEX_BITS	12
#define HANDLE_INDEX_MASK	((1u << HANDLE_INDEX_BITS) - 1)
#define HANDLE_GEN_MASK		0x7FFFFu	/* keeps handles positive as longs */

static inline uint64_t handle_make(uint32_t index, uint32_t gen)
{
	return ((uint64_t)(gen & HANDLE_GEN_MASK) << HANDLE_INDEX_BITS) | index;
}

static inline uint32_t handle_index(uint64_t h)
{
	return (uint32_t)(h & HANDLE_INDEX_MASK);
}

static inline uint32_t handle_gen(uint64_t h)
{
	return (uint32_t)(h >> HANDLE_INDEX_BITS);
}

/* Next generation for a slot being freed: never 0, wraps within the mask. */
static inline uint32_t handle_next_gen(uint32_t gen)
{
	gen = (gen + 1) & HANDLE_GEN_MASK;
	return gen ? gen : 1;
}

#endif
