/* SPDX-License-Identifier: MIT */
/*
 * General-purpose allocator engine behind both the kernel heap and user
 * malloc.  The owner supplies page-granular memory through morecore; the
 * engine never gives memory back.
 */
#ifndef FERRY_LIB_ALLOC_H
#define FERRY_LIB_ALLOC_H

#include <stddef.h>

#define ALLOC_NCLASSES 7	/* blocks of 32, 64, ... 2048 bytes */

struct alloc_block;

struct alloc_stats {
	size_t bytes_in_use;	/* usable bytes of live blocks */
	size_t bytes_from_core;
	size_t allocs;
	size_t frees;
};

struct alloc_arena {
	/*
	 * Returns a page-aligned region of exactly bytes (always a multiple
	 * of 4096), or NULL when out of memory.
	 */
	void *(*morecore)(struct alloc_arena *a, size_t bytes);
	/*
	 * Called on a double free, a foreign pointer or a damaged header;
	 * NULL ignores it.  If it returns, the offending call does nothing
	 * (free) or fails (malloc, realloc).
	 */
	void (*on_corrupt)(struct alloc_arena *a, const char *what, void *p);

	/* Private to alloc.c. */
	struct alloc_block *small[ALLOC_NCLASSES];
	size_t small_free[ALLOC_NCLASSES];	/* blocks on each list */
	size_t small_carved[ALLOC_NCLASSES];	/* blocks ever carved */
	struct alloc_block *large;		/* free, sorted by address */
	size_t large_bytes;			/* owned by large blocks */
	struct alloc_stats stats;
};

/* Clears the arena; set on_corrupt afterwards if wanted. */
void alloc_init(struct alloc_arena *a,
		void *(*morecore)(struct alloc_arena *, size_t));
/* 16-byte aligned; NULL on failure or when n is 0. */
void *alloc_malloc(struct alloc_arena *a, size_t n);
void *alloc_calloc(struct alloc_arena *a, size_t nmemb, size_t size);
/* realloc(p, 0) frees p and returns NULL. */
void *alloc_realloc(struct alloc_arena *a, void *p, size_t n);
void alloc_free(struct alloc_arena *a, void *p);
void alloc_get_stats(const struct alloc_arena *a, struct alloc_stats *out);
/* Returns 0 when the free lists and counters agree, -1 otherwise. */
int alloc_check(const struct alloc_arena *a);

#endif
