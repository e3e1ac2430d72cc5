/* SPDX-License-Identifier: MIT */
/* kernel/mm/frame_table.c: allocation, contiguous runs, counters, misuse. */
#include "htest.h"

#include "../../kernel/mm/frame_table.c"

#define N 256

static struct frame frames[N];

static void setup(struct frame_table *ft)
{
	frame_table_init(ft, frames, N);
	frame_table_set(ft, 16, N - 16, FRAME_FREE);	/* 0..15 stay reserved */
}

static size_t total(const struct frame_table *ft)
{
	size_t sum = 0;

	for (int u = 0; u < FRAME_NUSES; u++)
		sum += ft->count[u];
	return sum;
}

HTEST(alloc_skips_reserved_and_counts)
{
	struct frame_table ft;
	long a, b;

	setup(&ft);
	HCHECK_EQ(ft.count[FRAME_FREE], N - 16);
	a = frame_table_alloc(&ft, FRAME_USER);
	b = frame_table_alloc(&ft, FRAME_HEAP);
	HCHECK_EQ(a, 16);
	HCHECK_EQ(b, 17);
	HCHECK_EQ(ft.count[FRAME_USER], 1);
	HCHECK_EQ(ft.count[FRAME_HEAP], 1);
	HCHECK_EQ(ft.count[FRAME_FREE], N - 18);
	HCHECK_EQ(total(&ft), N);
}

HTEST(free_makes_frame_reusable)
{
	struct frame_table ft;
	long a;

	setup(&ft);
	a = frame_table_alloc(&ft, FRAME_USER);
	frame_table_alloc(&ft, FRAME_USER);
	HCHECK_EQ(frame_table_free(&ft, (size_t)a), 0);
	HCHECK_EQ(frame_table_alloc(&ft, FRAME_USER), a);	/* lowest first */
}

HTEST(double_free_and_reserved_free_refused)
{
	struct frame_table ft;
	long a;

	setup(&ft);
	a = frame_table_alloc(&ft, FRAME_USER);
	HCHECK_EQ(frame_table_free(&ft, (size_t)a), 0);
	HCHECK_EQ(frame_table_free(&ft, (size_t)a), -1);
	HCHECK_EQ(frame_table_free(&ft, 3), -1);
	HCHECK_EQ(frame_table_free(&ft, N + 10), -1);
	HCHECK_EQ(total(&ft), N);
}

HTEST(exhaustion_returns_minus_one)
{
	struct frame_table ft;

	setup(&ft);
	for (int i = 0; i < N - 16; i++)
		HCHECK(frame_table_alloc(&ft, FRAME_USER) >= 0);
	HCHECK_EQ(frame_table_alloc(&ft, FRAME_USER), -1);
	HCHECK_EQ(ft.count[FRAME_FREE], 0);
}

HTEST(contig_respects_alignment_holes_and_limit)
{
	struct frame_table ft;
	long run;

	setup(&ft);
	frame_table_set(&ft, 40, 1, FRAME_KERNEL);	/* a hole at 40 */
	run = frame_table_alloc_contig(&ft, 16, 16, N, FRAME_DMA);
	HCHECK_EQ(run, 16);
	run = frame_table_alloc_contig(&ft, 16, 16, N, FRAME_DMA);
	HCHECK_EQ(run, 48);				/* 32..47 holds the hole */
	HCHECK_EQ(frame_table_alloc_contig(&ft, 8, 1, 70, FRAME_DMA), 32);
	HCHECK_EQ(frame_table_alloc_contig(&ft, 8, 1, 70, FRAME_DMA), -1);
	HCHECK_EQ(frame_table_alloc_contig(&ft, 4, 3, N, FRAME_DMA), -1);	/* not a power of 2 */
	HCHECK_EQ(frame_table_alloc_contig(&ft, 0, 1, N, FRAME_DMA), -1);
	HCHECK_EQ(ft.count[FRAME_DMA], 40);
	HCHECK_EQ(total(&ft), N);
}

HTEST(change_use_checks_the_old_use)
{
	struct frame_table ft;
	long a;

	setup(&ft);
	a = frame_table_alloc(&ft, FRAME_ZEROED);
	HCHECK_EQ(frame_table_change_use(&ft, (size_t)a, FRAME_USER, FRAME_GRANT), -1);
	HCHECK_EQ(frame_table_change_use(&ft, (size_t)a, FRAME_ZEROED, FRAME_GRANT), 0);
	HCHECK_EQ(ft.count[FRAME_GRANT], 1);
	HCHECK_EQ(ft.count[FRAME_ZEROED], 0);
}
