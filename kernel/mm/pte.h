/* SPDX-License-Identifier: MIT */
/*
 * What a non-present page-table entry remembers (the seed's idea: "the
 * block number is stored in the page table entry").  The arch layer gives
 * a non-present PTE 62 bits of software payload; this file alone decides
 * their meaning, and nothing else shifts or masks them.
 *
 *   payload bit   0      SWAPPED   the page lives in a swap slot
 *                 1      PAGER     the page lives with the region's pager
 *                                  (a clean file page that was dropped)
 *                 2      INFLIGHT  a page request (in or out) is outstanding
 *   SWAPPED:      3..8   provider index  (6 bits: 64 swap providers)
 *                 9..48  slot            (40 bits: 2^40 x 4 KiB = 4 PiB each)
 *   INFLIGHT:     3..34  request handle  (index + generation, handle.h)
 *
 * A payload of 0 is "never touched": demand-zero in an anonymous region,
 * "ask the pager" in a pager-backed one.
 */
#ifndef PTE_H
#define PTE_H

#include <stdbool.h>
#include <stdint.h>

#define PTE_SW_SWAPPED		(1ULL << 0)
#define PTE_SW_PAGER		(1ULL << 1)
#define PTE_SW_INFLIGHT		(1ULL << 2)
#define PTE_SW_PROVIDER_SHIFT	3
#define PTE_SW_PROVIDER_BITS	6
#define PTE_SW_SLOT_SHIFT	9
#define PTE_SW_SLOT_BITS	40
#define PTE_SW_REQ_SHIFT	3
#define PTE_SW_REQ_BITS		32

#define SWAP_PROVIDERS_MAX	(1u << PTE_SW_PROVIDER_BITS)
#define SWAP_SLOT_MAX		((1ULL << PTE_SW_SLOT_BITS) - 1)

static inline uint64_t pte_sw_field(uint64_t v, unsigned shift, unsigned bits)
{
	return (v >> shift) & ((1ULL << bits) - 1);
}

static inline uint64_t pte_swap_make(unsigned provider, uint64_t slot)
{
	return PTE_SW_SWAPPED | ((uint64_t)provider << PTE_SW_PROVIDER_SHIFT) |
	       (slot << PTE_SW_SLOT_SHIFT);
}

static inline bool pte_is_swapped(uint64_t sw)
{
	return sw & PTE_SW_SWAPPED;
}

static inline unsigned pte_swap_provider(uint64_t sw)
{
	return (unsigned)pte_sw_field(sw, PTE_SW_PROVIDER_SHIFT, PTE_SW_PROVIDER_BITS);
}

static inline uint64_t pte_swap_slot(uint64_t sw)
{
	return pte_sw_field(sw, PTE_SW_SLOT_SHIFT, PTE_SW_SLOT_BITS);
}

static inline uint64_t pte_inflight_make(uint64_t request)
{
	return PTE_SW_INFLIGHT | (request << PTE_SW_REQ_SHIFT);
}

static inline bool pte_is_inflight(uint64_t sw)
{
	return sw & PTE_SW_INFLIGHT;
}

static inline uint64_t pte_inflight_request(uint64_t sw)
{
	return pte_sw_field(sw, PTE_SW_REQ_SHIFT, PTE_SW_REQ_BITS);
}

static inline uint64_t pte_pager_make(void)
{
	return PTE_SW_PAGER;
}

static inline bool pte_is_pager(uint64_t sw)
{
	return sw & PTE_SW_PAGER;
}

#endif
