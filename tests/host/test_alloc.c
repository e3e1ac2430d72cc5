/* SPDX-License-Identifier: MIT */
#include "htest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/alloc.c"

#define PAGE 4096
#define MAX_REGIONS 4096

/*
 * The arena comes first so morecore can get back to its core.  A core is
 * either "tracked" (one aligned_alloc per call, never adjacent) or a fixed
 * contiguous pool, which is what lets page blocks coalesce.
 */
struct test_core {
	struct alloc_arena arena;
	void *regions[MAX_REGIONS];
	size_t nregions;
	char *pool;
	size_t pool_size, pool_used;
	int corrupt_calls;
	const char *corrupt_what;
	void *corrupt_ptr;
};

static void *tracked_morecore(struct alloc_arena *a, size_t bytes)
{
	struct test_core *c = (struct test_core *)a;
	void *p;

	HCHECK(bytes > 0 && bytes % PAGE == 0);
	if (c->nregions == MAX_REGIONS)
		return NULL;
	p = aligned_alloc(PAGE, bytes);
	if (p)
		c->regions[c->nregions++] = p;
	return p;
}

static void *pool_morecore(struct alloc_arena *a, size_t bytes)
{
	struct test_core *c = (struct test_core *)a;
	void *p;

	HCHECK(bytes > 0 && bytes % PAGE == 0);
	if (bytes > c->pool_size - c->pool_used)
		return NULL;
	p = c->pool + c->pool_used;
	c->pool_used += bytes;
	return p;
}

static void record_corrupt(struct alloc_arena *a, const char *what, void *p)
{
	struct test_core *c = (struct test_core *)a;

	c->corrupt_calls++;
	c->corrupt_what = what;
	c->corrupt_ptr = p;
}

static struct test_core *core_new(size_t pool_size)
{
	struct test_core *c = calloc(1, sizeof(*c));

	if (pool_size) {
		c->pool = aligned_alloc(PAGE, pool_size);
		c->pool_size = pool_size;
		alloc_init(&c->arena, pool_morecore);
	} else {
		alloc_init(&c->arena, tracked_morecore);
	}
	c->arena.on_corrupt = record_corrupt;
	return c;
}

static void core_free(struct test_core *c)
{
	for (size_t i = 0; i < c->nregions; i++)
		free(c->regions[i]);
	free(c->pool);
	free(c);
}

static struct alloc_stats stats_of(struct test_core *c)
{
	struct alloc_stats s;

	alloc_get_stats(&c->arena, &s);
	return s;
}

/* A deterministic xorshift, so a failing run can be replayed. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void pattern_fill(void *p, size_t n, unsigned int tag)
{
	unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(tag * 31 + i);
}

static int pattern_ok(const void *p, size_t n, unsigned int tag)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		if (b[i] != (unsigned char)(tag * 31 + i))
			return 0;
	}
	return 1;
}

HTEST(alignment_and_sizes)
{
	struct test_core *c = core_new(0);
	void *ptrs[300];
	size_t n = 0;

	for (size_t size = 1; size < 12000; size = size * 5 / 4 + 1) {
		void *p = alloc_malloc(&c->arena, size);

		HCHECK(p != NULL);
		HCHECK((uintptr_t)p % 16 == 0);
		pattern_fill(p, size, (unsigned int)size);
		ptrs[n++] = p;
	}
	/* Boundary sizes around the small/large split and page edges. */
	static const size_t edges[] = { 2016, 2032, 2033, 2048, 4080, 4081, 8176 };
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		void *p = alloc_malloc(&c->arena, edges[i]);

		HCHECK(p != NULL && (uintptr_t)p % 16 == 0);
		memset(p, 0x5a, edges[i]);
		ptrs[n++] = p;
	}
	HCHECK_EQ(alloc_check(&c->arena), 0);
	for (size_t i = 0; i < n; i++)
		alloc_free(&c->arena, ptrs[i]);
	HCHECK_EQ(stats_of(c).bytes_in_use, 0);
	HCHECK_EQ(stats_of(c).allocs, n);
	HCHECK_EQ(stats_of(c).frees, n);
	HCHECK_EQ(alloc_check(&c->arena), 0);
	HCHECK_EQ(c->corrupt_calls, 0);
	core_free(c);
}

HTEST(zero_huge_and_calloc)
{
	struct test_core *c = core_new(0);
	unsigned char *p;

	HCHECK(alloc_malloc(&c->arena, 0) == NULL);
	HCHECK(alloc_malloc(&c->arena, SIZE_MAX) == NULL);
	HCHECK(alloc_malloc(&c->arena, SIZE_MAX - 8) == NULL);
	HCHECK(alloc_calloc(&c->arena, SIZE_MAX / 2, 3) == NULL);
	HCHECK(alloc_calloc(&c->arena, 3, SIZE_MAX / 2) == NULL);
	HCHECK(alloc_calloc(&c->arena, (size_t)1 << 33, (size_t)1 << 33) == NULL);

	/* Dirty a block, free it, and make sure calloc hands it back zeroed. */
	p = alloc_malloc(&c->arena, 100);
	memset(p, 0xff, 100);
	alloc_free(&c->arena, p);
	p = alloc_calloc(&c->arena, 10, 10);
	HCHECK(p != NULL);
	for (int i = 0; i < 100; i++)
		HCHECK_EQ(p[i], 0);
	alloc_free(&c->arena, p);
	p = alloc_calloc(&c->arena, 1000, 10);
	HCHECK(p != NULL);
	for (int i = 0; i < 10000; i++)
		HCHECK_EQ(p[i], 0);
	alloc_free(&c->arena, p);
	HCHECK_EQ(stats_of(c).bytes_in_use, 0);
	HCHECK_EQ(alloc_check(&c->arena), 0);
	core_free(c);
}

HTEST(realloc_keeps_contents)
{
	struct test_core *c = core_new(0);
	char *p = alloc_realloc(&c->arena, NULL, 10), *q;

	HCHECK(p != NULL);
	pattern_fill(p, 10, 1);
	HCHECK(alloc_realloc(&c->arena, p, 5) == p);
	HCHECK(pattern_ok(p, 5, 1));
	for (size_t n = 10; n < 40000; n *= 3) {
		q = alloc_realloc(&c->arena, p, n * 3);
		HCHECK(q != NULL);
		HCHECK(pattern_ok(q, n, 1));
		pattern_fill(q, n * 3, 1);
		p = q;
	}
	HCHECK(alloc_realloc(&c->arena, p, 0) == NULL);
	HCHECK_EQ(stats_of(c).bytes_in_use, 0);
	HCHECK_EQ(alloc_check(&c->arena), 0);
	HCHECK_EQ(c->corrupt_calls, 0);
	core_free(c);
}

HTEST(double_free_and_foreign_pointers)
{
	struct test_core *c = core_new(0);
	_Alignas(16) unsigned char fake[64];
	void *small = alloc_malloc(&c->arena, 24);
	void *large = alloc_malloc(&c->arena, 9000);
	struct alloc_stats before;

	alloc_free(&c->arena, small);
	alloc_free(&c->arena, large);
	before = stats_of(c);

	alloc_free(&c->arena, small);
	HCHECK_EQ(c->corrupt_calls, 1);
	HCHECK(c->corrupt_what && strcmp(c->corrupt_what, "double free") == 0);
	HCHECK(c->corrupt_ptr == small);
	alloc_free(&c->arena, large);
	HCHECK_EQ(c->corrupt_calls, 2);
	HCHECK(strcmp(c->corrupt_what, "double free") == 0);

	memset(fake, 0x3c, sizeof(fake));
	alloc_free(&c->arena, fake + 16);
	HCHECK_EQ(c->corrupt_calls, 3);
	HCHECK(strcmp(c->corrupt_what, "bad pointer") == 0);
	HCHECK(alloc_realloc(&c->arena, fake + 32, 100) == NULL);
	HCHECK_EQ(c->corrupt_calls, 4);

	alloc_free(&c->arena, fake + 17);
	HCHECK_EQ(c->corrupt_calls, 5);
	HCHECK(strcmp(c->corrupt_what, "misaligned pointer") == 0);

	alloc_free(&c->arena, NULL);
	HCHECK_EQ(c->corrupt_calls, 5);
	/* Rejected frees must leave the arena exactly as it was. */
	HCHECK_EQ(stats_of(c).frees, before.frees);
	HCHECK_EQ(stats_of(c).bytes_in_use, before.bytes_in_use);
	HCHECK_EQ(alloc_check(&c->arena), 0);
	core_free(c);
}

HTEST(damage_is_detected)
{
	struct test_core *c = core_new(0);
	uint64_t *p = alloc_malloc(&c->arena, 40), *q;

	q = alloc_malloc(&c->arena, 40);
	alloc_free(&c->arena, q);
	alloc_free(&c->arena, p);
	HCHECK_EQ(alloc_check(&c->arena), 0);
	/* A use after free scribbles over the free-list link. */
	p[0] = 0x4141414141414141;
	HCHECK_EQ(alloc_check(&c->arena), -1);
	HCHECK(alloc_malloc(&c->arena, 40) == NULL);
	HCHECK_EQ(c->corrupt_calls, 1);
	HCHECK(strcmp(c->corrupt_what, "free list damaged") == 0);
	core_free(c);
}

/* With one contiguous pool, freed neighbours merge and are reused whole. */
HTEST(page_blocks_coalesce_and_feed_small_chunks)
{
	struct test_core *c = core_new(64 * PAGE);
	void *blk[6];
	size_t core;

	for (int i = 0; i < 6; i++)
		blk[i] = alloc_malloc(&c->arena, 3 * PAGE);	/* 4 pages each */
	core = stats_of(c).bytes_from_core;
	HCHECK_EQ(core, 24 * PAGE);
	for (int i = 0; i < 6; i += 2)
		alloc_free(&c->arena, blk[i]);
	HCHECK_EQ(alloc_check(&c->arena), 0);
	for (int i = 1; i < 6; i += 2)
		alloc_free(&c->arena, blk[i]);
	HCHECK_EQ(alloc_check(&c->arena), 0);
	HCHECK(c->arena.large && !c->arena.large->next);

	void *big = alloc_malloc(&c->arena, 23 * PAGE);
	HCHECK(big != NULL);
	HCHECK_EQ(stats_of(c).bytes_from_core, core);
	alloc_free(&c->arena, big);

	/* Small chunks are cut from the free pages before morecore is asked. */
	for (int i = 0; i < 100; i++)
		HCHECK(alloc_malloc(&c->arena, 200) != NULL);
	HCHECK_EQ(stats_of(c).bytes_from_core, core);
	HCHECK_EQ(alloc_check(&c->arena), 0);

	/* Running the pool dry fails cleanly. */
	HCHECK(alloc_malloc(&c->arena, 64 * PAGE) == NULL);
	HCHECK_EQ(alloc_check(&c->arena), 0);
	HCHECK_EQ(c->corrupt_calls, 0);
	core_free(c);
}

struct slot {
	unsigned char *p;
	size_t n;
	unsigned int tag;
};

static size_t random_size(uint64_t *rng)
{
	uint64_t r = rng_next(rng);

	switch (r % 8) {
	case 0: return 1 + (r >> 8) % 20000;	/* page blocks */
	case 1:
	case 2: return 1 + (r >> 8) % 2100;	/* around the split */
	default: return 1 + (r >> 8) % 128;
	}
}

static void stress(struct test_core *c, uint64_t seed, int ops)
{
	struct slot slots[512] = { 0 };
	uint64_t rng = seed;
	unsigned int tag = 0;

	for (int op = 0; op < ops; op++) {
		struct slot *s = &slots[rng_next(&rng) % 512];
		size_t n = random_size(&rng);
		unsigned char *q;

		if (s->p)
			HCHECK(pattern_ok(s->p, s->n, s->tag));
		if (s->p && rng_next(&rng) % 3 == 0) {
			q = alloc_realloc(&c->arena, s->p, n);
			HCHECK(q != NULL && (uintptr_t)q % 16 == 0);
			HCHECK(pattern_ok(q, s->n < n ? s->n : n, s->tag));
		} else {
			alloc_free(&c->arena, s->p);
			q = alloc_malloc(&c->arena, n);
			HCHECK(q != NULL && (uintptr_t)q % 16 == 0);
		}
		s->p = q;
		s->n = n;
		s->tag = ++tag;
		pattern_fill(q, n, s->tag);
		if (op % 64 == 0)
			HCHECK_EQ(alloc_check(&c->arena), 0);
	}
	for (int i = 0; i < 512; i++) {
		if (slots[i].p)
			HCHECK(pattern_ok(slots[i].p, slots[i].n, slots[i].tag));
		alloc_free(&c->arena, slots[i].p);
	}
}

HTEST(randomized_stress)
{
	for (uint64_t seed = 1; seed <= 3; seed++) {
		struct test_core *c = core_new(seed == 3 ? 16u << 20 : 0);

		stress(c, seed * 0x9e3779b97f4a7c15ull, 20000);
		HCHECK_EQ(alloc_check(&c->arena), 0);
		HCHECK_EQ(stats_of(c).bytes_in_use, 0);
		HCHECK_EQ(stats_of(c).allocs, stats_of(c).frees);
		HCHECK_EQ(c->corrupt_calls, 0);
		core_free(c);
	}
}
