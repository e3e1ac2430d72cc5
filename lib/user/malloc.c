// SPDX-License-Identifier: MIT
/*
 * malloc and friends: one lib/alloc.c arena per process, fed whole pages by
 * sys_mem_map.  The arena is set up on first use, so programs that never
 * allocate never map anything.
 */
#include <alloc.h>
#include <ferry/sys.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static struct alloc_arena heap_arena;
static bool heap_ready;

static void *heap_morecore(struct alloc_arena *a, size_t bytes)
{
	long addr = sys_mem_map(NULL, (long)bytes, PROT_READ | PROT_WRITE);

	(void)a;
	return addr < 0 ? NULL : (void *)addr;
}

/* A damaged heap cannot be trusted for another allocation: stop here. */
static void heap_corrupt(struct alloc_arena *a, const char *what, void *p)
{
	(void)a;
	printf("malloc: %s at %p\n", what, p);
	abort();
}

static struct alloc_arena *heap(void)
{
	if (!heap_ready) {
		alloc_init(&heap_arena, heap_morecore);
		heap_arena.on_corrupt = heap_corrupt;
		heap_ready = true;
	}
	return &heap_arena;
}

void *malloc(size_t n)
{
	return alloc_malloc(heap(), n);
}

void *calloc(size_t nmemb, size_t size)
{
	return alloc_calloc(heap(), nmemb, size);
}

void *realloc(void *p, size_t n)
{
	return alloc_realloc(heap(), p, n);
}

void free(void *p)
{
	alloc_free(heap(), p);
}
