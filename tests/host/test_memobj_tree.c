/* SPDX-License-Identifier: MIT */
/* kernel/mm/memobj_tree.c: a memory object's page table over the heap. */
#include "htest.h"

#include <stdlib.h>

#include "../../kernel/mm/memobj_tree.c"

static int nodes_live, fail_after = -1;

void *kzalloc(size_t n)
{
	if (fail_after == 0)
		return NULL;
	if (fail_after > 0)
		fail_after--;
	nodes_live++;
	return calloc(1, n);
}

void kfree(void *p)
{
	nodes_live -= p != NULL;
	free(p);
}

struct seen {
	uint64_t pg[16];
	int n;
};

static void record(uint64_t pg, uint64_t *e, void *ctx)
{
	struct seen *s = ctx;

	HCHECK_EQ(*e, pg + 1);	/* each entry was set to its page + 1 */
	if (s->n < 16)
		s->pg[s->n] = pg;
	s->n++;
}

HTEST(empty_then_sparse_pages_in_order)
{
	static const uint64_t pages[] = { 0, 63, 64, 4095, 4096, 1ULL << 29,
					  MEMOBJ_TREE_MAX_PAGES - 1 };
	struct memobj_tree t = { 0 };
	struct seen s = { .n = 0 };

	HCHECK(memobj_tree_slot(&t, 0, false) == NULL);	/* nothing yet, nothing made */
	HCHECK_EQ(nodes_live, 0);
	for (int i = (int)(sizeof(pages) / sizeof(pages[0])) - 1; i >= 0; i--) {
		uint64_t *e = memobj_tree_slot(&t, pages[i], true);

		HCHECK(e != NULL && *e == 0);
		*e = pages[i] + 1;
	}
	HCHECK_EQ(t.height, MEMOBJ_TREE_LEVELS);
	for (unsigned i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		HCHECK_EQ(*memobj_tree_slot(&t, pages[i], false), pages[i] + 1);
	HCHECK(memobj_tree_slot(&t, 65, false) != NULL);	/* a slot of a node that exists */
	HCHECK(memobj_tree_slot(&t, 1ULL << 20, false) == NULL);	/* no node there */
	memobj_tree_walk(&t, record, &s);
	HCHECK_EQ(s.n, (int)(sizeof(pages) / sizeof(pages[0])));
	for (int i = 0; i < s.n; i++)
		HCHECK_EQ(s.pg[i], pages[i]);
	memobj_tree_free(&t);
	HCHECK_EQ(nodes_live, 0);
	HCHECK(t.root == NULL && t.height == 0);
}

HTEST(grows_at_the_top_keeping_low_pages)
{
	struct memobj_tree t = { 0 };

	*memobj_tree_slot(&t, 5, true) = 6;
	HCHECK_EQ(t.height, 1);
	*memobj_tree_slot(&t, 64 * 64, true) = 64 * 64 + 1;	/* needs three levels */
	HCHECK_EQ(t.height, 3);
	HCHECK_EQ(*memobj_tree_slot(&t, 5, false), 6);
	memobj_tree_free(&t);
	HCHECK_EQ(nodes_live, 0);
}

HTEST(past_the_end_refused)
{
	struct memobj_tree t = { 0 };

	HCHECK(memobj_tree_slot(&t, MEMOBJ_TREE_MAX_PAGES, true) == NULL);
	HCHECK(memobj_tree_slot(&t, UINT64_MAX, true) == NULL);
	HCHECK_EQ(nodes_live, 0);
}

HTEST(out_of_memory_leaves_a_sound_tree)
{
	struct memobj_tree t = { 0 };
	struct seen s = { .n = 0 };

	*memobj_tree_slot(&t, 1, true) = 2;
	fail_after = 1;		/* one node more, then none */
	HCHECK(memobj_tree_slot(&t, 64 * 64 * 64, true) == NULL);
	fail_after = -1;
	HCHECK_EQ(*memobj_tree_slot(&t, 1, false), 2);
	*memobj_tree_slot(&t, 64 * 64 * 64, true) = 64 * 64 * 64 + 1;	/* the next try */
	memobj_tree_walk(&t, record, &s);
	HCHECK_EQ(s.n, 2);
	memobj_tree_free(&t);
	HCHECK_EQ(nodes_live, 0);
}
