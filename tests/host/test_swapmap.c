/* SPDX-License-Identifier: MIT */
/* kernel/mm/swapmap.c and kernel/mm/pte.h: slot runs, misuse, PTE encoding. */
#include "htest.h"

#include "../../kernel/mm/pte.h"
#include "../../kernel/mm/swapmap.c"

static uint64_t bits[4];

HTEST(allocates_runs_and_counts)
{
	struct swapmap m;
	uint64_t a, b;

	swapmap_init(&m, bits, 200);
	HCHECK_EQ(swapmap_words(200), 4);
	HCHECK_EQ(swapmap_alloc(&m, 8, &a), 0);
	HCHECK_EQ(swapmap_alloc(&m, 32, &b), 0);
	HCHECK_EQ(a, 0);
	HCHECK_EQ(b, 8);
	HCHECK_EQ(m.used, 40);
	for (uint64_t s = 0; s < 40; s++)
		HCHECK(swapmap_in_use(&m, s));
	HCHECK(!swapmap_in_use(&m, 40));
}

HTEST(runs_skip_holes_and_wrap_to_start)
{
	struct swapmap m;
	uint64_t s;

	swapmap_init(&m, bits, 64);
	HCHECK_EQ(swapmap_alloc(&m, 60, &s), 0);
	HCHECK_EQ(swapmap_free(&m, 10), 0);
	HCHECK_EQ(swapmap_free(&m, 11), 0);
	HCHECK_EQ(swapmap_alloc(&m, 4, &s), 0);	/* 60..63 */
	HCHECK_EQ(s, 60);
	HCHECK_EQ(swapmap_alloc(&m, 2, &s), 0);	/* wraps to the hole */
	HCHECK_EQ(s, 10);
	HCHECK_EQ(swapmap_alloc(&m, 1, &s), -1);	/* full */
}

HTEST(no_run_long_enough)
{
	struct swapmap m;
	uint64_t s;

	swapmap_init(&m, bits, 16);
	HCHECK_EQ(swapmap_alloc(&m, 16, &s), 0);
	for (uint64_t i = 0; i < 16; i += 2)
		swapmap_free(&m, i);
	HCHECK_EQ(swapmap_alloc(&m, 2, &s), -1);	/* 8 free, none adjacent */
	HCHECK_EQ(swapmap_alloc(&m, 1, &s), 0);
	HCHECK_EQ(swapmap_alloc(&m, 0, &s), -1);
}

HTEST(double_free_and_range_refused)
{
	struct swapmap m;
	uint64_t s;

	swapmap_init(&m, bits, 16);
	HCHECK_EQ(swapmap_alloc(&m, 1, &s), 0);
	HCHECK_EQ(swapmap_free(&m, s), 0);
	HCHECK_EQ(swapmap_free(&m, s), -1);
	HCHECK_EQ(swapmap_free(&m, 99), -1);
	HCHECK_EQ(m.used, 0);
}

HTEST(bad_slots_stay_used)
{
	struct swapmap m;
	uint64_t s;

	swapmap_init(&m, bits, 4);
	HCHECK_EQ(swapmap_alloc(&m, 1, &s), 0);
	HCHECK_EQ(swapmap_mark_bad(&m, s), 0);
	HCHECK_EQ(m.bad, 1);
	HCHECK(swapmap_in_use(&m, s));
	HCHECK_EQ(swapmap_mark_bad(&m, 3), -1);	/* not in use */
}

HTEST(pte_encoding_round_trips)
{
	uint64_t sw = pte_swap_make(63, SWAP_SLOT_MAX);

	HCHECK(pte_is_swapped(sw));
	HCHECK(!pte_is_inflight(sw) && !pte_is_pager(sw));
	HCHECK_EQ(pte_swap_provider(sw), 63);
	HCHECK(pte_swap_slot(sw) == SWAP_SLOT_MAX);
	HCHECK(sw < (1ULL << 62));	/* fits the arch payload */
	sw = pte_swap_make(5, 12345);
	HCHECK_EQ(pte_swap_provider(sw), 5);
	HCHECK_EQ(pte_swap_slot(sw), 12345);
	sw = pte_inflight_make(0xFFFFFFFFULL);
	HCHECK(pte_is_inflight(sw) && !pte_is_swapped(sw));
	HCHECK(pte_inflight_request(sw) == 0xFFFFFFFFULL);
	HCHECK(pte_is_pager(pte_pager_make()));
}
