/* SPDX-License-Identifier: MIT */
/*
 * Small requests (up to 2048 bytes with the header) use power-of-two size
 * classes carved from 4 KiB chunks, one LIFO free list per class.  Larger
 * requests get whole pages.  Freed page blocks go on an address-sorted list
 * where neighbours coalesce, and are reused best-fit, split at page
 * granularity; small chunks come from that list too before morecore is
 * asked, so memory freed by big blocks is not stranded.
 *
 * Every block starts with a 16-byte header carrying a magic value, so free
 * can tell a live block from a freed one or from a pointer we never gave
 * out.  The header is 16 bytes so payloads keep the block's alignment.
 */
#include "include/alloc.h"

#include <stdint.h>
#include <string.h>

#define ALLOC_PAGE	4096
#define ALLOC_ALIGN	16
#define CLASS_MIN	32
#define CLASS_LARGE	0xffu
#define MAGIC_USED	0xa110c8edu
#define MAGIC_FREE	0xf4eeb10cu

struct alloc_block {
	uint32_t magic;
	uint32_t class;			/* size class, or CLASS_LARGE */
	size_t size;			/* whole block, header included */
	struct alloc_block *next;	/* free blocks only: overlays payload */
};

#define HDR offsetof(struct alloc_block, next)
_Static_assert(HDR == ALLOC_ALIGN, "payloads must stay 16-byte aligned");

static size_t class_size(unsigned int c)
{
	return (size_t)CLASS_MIN << c;
}

static void alloc_corrupt(struct alloc_arena *a, const char *what, void *p)
{
	if (a->on_corrupt)
		a->on_corrupt(a, what, p);
}

/*
 * Small blocks sit at multiples of their size inside page-aligned chunks
 * and page blocks are page-aligned, so a header whose fields disagree with
 * its address is not one of ours.
 */
static int header_ok(const struct alloc_block *b)
{
	if (b->class == CLASS_LARGE)
		return b->size >= ALLOC_PAGE && b->size % ALLOC_PAGE == 0 &&
		       (uintptr_t)b % ALLOC_PAGE == 0;
	return b->class < ALLOC_NCLASSES && b->size == class_size(b->class) &&
	       (uintptr_t)b % b->size == 0;
}

/* Best fit; a larger block gives up its tail so the list links stay put. */
static void *take_free_pages(struct alloc_arena *a, size_t bytes)
{
	struct alloc_block **best = NULL, **pp, *b;

	for (pp = &a->large; *pp; pp = &(*pp)->next) {
		if ((*pp)->size >= bytes && (!best || (*pp)->size < (*best)->size))
			best = pp;
	}
	if (!best)
		return NULL;
	b = *best;
	if (b->size == bytes) {
		*best = b->next;
		return b;
	}
	b->size -= bytes;
	return (char *)b + b->size;
}

/* Returns bytes (a page multiple) that no longer count as page blocks. */
static void *get_pages(struct alloc_arena *a, size_t bytes)
{
	void *p = take_free_pages(a, bytes);

	if (p) {
		a->large_bytes -= bytes;
		return p;
	}
	p = a->morecore ? a->morecore(a, bytes) : NULL;
	if (p)
		a->stats.bytes_from_core += bytes;
	return p;
}

static void large_insert(struct alloc_arena *a, struct alloc_block *b)
{
	struct alloc_block **pp = &a->large, *prev = NULL;

	while (*pp && (uintptr_t)*pp < (uintptr_t)b) {
		prev = *pp;
		pp = &prev->next;
	}
	b->next = *pp;
	*pp = b;
	if (b->next && (char *)b + b->size == (char *)b->next) {
		b->size += b->next->size;
		b->next = b->next->next;
	}
	if (prev && (char *)prev + prev->size == (char *)b) {
		prev->size += b->size;
		prev->next = b->next;
	}
}

static int refill(struct alloc_arena *a, unsigned int c)
{
	size_t size = class_size(c), off;
	char *chunk = get_pages(a, ALLOC_PAGE);

	if (!chunk)
		return -1;
	for (off = 0; off < ALLOC_PAGE; off += size) {
		struct alloc_block *b = (struct alloc_block *)(chunk + off);

		b->magic = MAGIC_FREE;
		b->class = c;
		b->size = size;
		b->next = a->small[c];
		a->small[c] = b;
	}
	a->small_free[c] += ALLOC_PAGE / size;
	a->small_carved[c] += ALLOC_PAGE / size;
	return 0;
}

static struct alloc_block *small_alloc(struct alloc_arena *a, size_t n)
{
	unsigned int c = 0;
	struct alloc_block *b;

	while (class_size(c) < n + HDR)
		c++;
	if (!a->small[c] && refill(a, c))
		return NULL;
	b = a->small[c];
	/*
	 * A write through a stale pointer lands on the link first.  Checking
	 * the next link's alignment before trusting it catches most of those
	 * without dereferencing garbage.
	 */
	if (b->magic != MAGIC_FREE || b->class != c ||
	    (uintptr_t)b->next % class_size(c)) {
		alloc_corrupt(a, "free list damaged", b);
		return NULL;
	}
	a->small[c] = b->next;
	a->small_free[c]--;
	return b;
}

static struct alloc_block *large_alloc(struct alloc_arena *a, size_t n)
{
	size_t bytes = (n + HDR + ALLOC_PAGE - 1) & ~(size_t)(ALLOC_PAGE - 1);
	struct alloc_block *b = get_pages(a, bytes);

	if (!b)
		return NULL;
	a->large_bytes += bytes;
	b->class = CLASS_LARGE;
	b->size = bytes;
	return b;
}

void alloc_init(struct alloc_arena *a,
		void *(*morecore)(struct alloc_arena *, size_t))
{
	memset(a, 0, sizeof(*a));
	a->morecore = morecore;
}

void *alloc_malloc(struct alloc_arena *a, size_t n)
{
	struct alloc_block *b;

	/* The cap keeps the header and page rounding from overflowing. */
	if (n == 0 || n > SIZE_MAX / 2)
		return NULL;
	if (n + HDR <= class_size(ALLOC_NCLASSES - 1))
		b = small_alloc(a, n);
	else
		b = large_alloc(a, n);
	if (!b)
		return NULL;
	b->magic = MAGIC_USED;
	a->stats.allocs++;
	a->stats.bytes_in_use += b->size - HDR;
	return (char *)b + HDR;
}

void *alloc_calloc(struct alloc_arena *a, size_t nmemb, size_t size)
{
	void *p;

	if (size && nmemb > SIZE_MAX / size)
		return NULL;
	p = alloc_malloc(a, nmemb * size);
	if (p)
		memset(p, 0, nmemb * size);
	return p;
}

/* Finds the live block behind p, or reports why it is not one. */
static struct alloc_block *block_of(struct alloc_arena *a, void *p)
{
	struct alloc_block *b = (struct alloc_block *)((char *)p - HDR);

	if ((uintptr_t)p % ALLOC_ALIGN) {
		alloc_corrupt(a, "misaligned pointer", p);
		return NULL;
	}
	if (b->magic == MAGIC_FREE) {
		alloc_corrupt(a, "double free", p);
		return NULL;
	}
	if (b->magic != MAGIC_USED || !header_ok(b)) {
		alloc_corrupt(a, "bad pointer", p);
		return NULL;
	}
	return b;
}

void alloc_free(struct alloc_arena *a, void *p)
{
	struct alloc_block *b;

	if (!p)
		return;
	b = block_of(a, p);
	if (!b)
		return;
	a->stats.frees++;
	a->stats.bytes_in_use -= b->size - HDR;
	b->magic = MAGIC_FREE;
	if (b->class == CLASS_LARGE) {
		large_insert(a, b);
		return;
	}
	b->next = a->small[b->class];
	a->small[b->class] = b;
	a->small_free[b->class]++;
}

/* Shrinking keeps the block: it is cheap and callers often grow again. */
void *alloc_realloc(struct alloc_arena *a, void *p, size_t n)
{
	struct alloc_block *b;
	void *q;

	if (!p)
		return alloc_malloc(a, n);
	if (n == 0) {
		alloc_free(a, p);
		return NULL;
	}
	b = block_of(a, p);
	if (!b)
		return NULL;
	if (n <= b->size - HDR)
		return p;
	q = alloc_malloc(a, n);
	if (q) {
		memcpy(q, p, b->size - HDR);
		alloc_free(a, p);
	}
	return q;
}

void alloc_get_stats(const struct alloc_arena *a, struct alloc_stats *out)
{
	*out = a->stats;
}

/* The free count bounds the walk, so a cycle cannot hang the check. */
static int check_small_list(const struct alloc_arena *a, unsigned int c)
{
	const struct alloc_block *b;
	size_t n = 0;

	if (a->small_free[c] > a->small_carved[c])
		return -1;
	for (b = a->small[c]; b; b = b->next) {
		if (++n > a->small_free[c] || (uintptr_t)b % class_size(c) ||
		    b->magic != MAGIC_FREE || b->class != c || !header_ok(b))
			return -1;
	}
	return n == a->small_free[c] ? 0 : -1;
}

/* Strictly ascending and never touching, or coalescing has failed. */
static int check_large_list(const struct alloc_arena *a, size_t *free_bytes)
{
	const struct alloc_block *b;
	uintptr_t end = 0;

	*free_bytes = 0;
	for (b = a->large; b; b = b->next) {
		if ((uintptr_t)b <= end || (uintptr_t)b % ALLOC_PAGE ||
		    b->magic != MAGIC_FREE || !header_ok(b) ||
		    b->class != CLASS_LARGE)
			return -1;
		*free_bytes += b->size;
		if (*free_bytes > a->large_bytes)
			return -1;
		end = (uintptr_t)b + b->size;
	}
	return 0;
}

/*
 * Live blocks are not linked anywhere, so they are checked through the
 * counters: everything taken from core is either a carved chunk or a page
 * block, and the live blocks must add up to bytes_in_use.
 */
int alloc_check(const struct alloc_arena *a)
{
	size_t chunk_bytes = 0, small_live = 0, small_bytes = 0;
	size_t live, large_live, large_free;
	unsigned int c;

	for (c = 0; c < ALLOC_NCLASSES; c++) {
		size_t used = a->small_carved[c] - a->small_free[c];

		if (check_small_list(a, c))
			return -1;
		chunk_bytes += a->small_carved[c] * class_size(c);
		small_live += used;
		small_bytes += used * (class_size(c) - HDR);
	}
	if (check_large_list(a, &large_free))
		return -1;
	live = a->stats.allocs - a->stats.frees;
	if (a->stats.frees > a->stats.allocs || live < small_live)
		return -1;
	large_live = live - small_live;
	if (chunk_bytes + a->large_bytes != a->stats.bytes_from_core)
		return -1;
	if (small_bytes + (a->large_bytes - large_free) - large_live * HDR !=
	    a->stats.bytes_in_use)
		return -1;
	return 0;
}
