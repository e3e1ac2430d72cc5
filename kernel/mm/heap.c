// SPDX-License-Identifier: MIT
#include "heap.h"

#include <alloc.h>
#include <string.h>

#include "../panic.h"
#include "pmm.h"

static struct alloc_arena kheap;

/* Heap chunks come from the direct map, so any frame in RAM will do. */
static void *heap_morecore(struct alloc_arena *a, size_t bytes)
{
	paddr_t pa = pmm_alloc_contig(PAGE_ALIGN_UP(bytes) >> PAGE_SHIFT, FRAME_HEAP,
				      ~(paddr_t)0);

	(void)a;
	return pa ? phys_to_virt(pa) : NULL;
}

static void heap_corrupt(struct alloc_arena *a, const char *what, void *p)
{
	(void)a;
	panic("kernel heap: %s at %p", what, p);
}

void heap_init(void)
{
	alloc_init(&kheap, heap_morecore);
	kheap.on_corrupt = heap_corrupt;
}

void *kmalloc(size_t n)
{
	unsigned long irq = arch_irq_save();
	void *p = alloc_malloc(&kheap, n);

	arch_irq_restore(irq);
	return p;
}

void *kzalloc(size_t n)
{
	void *p = kmalloc(n);

	if (p)
		memset(p, 0, n);
	return p;
}

void kfree(void *p)
{
	unsigned long irq = arch_irq_save();

	alloc_free(&kheap, p);
	arch_irq_restore(irq);
}

size_t heap_bytes_in_use(void)
{
	struct alloc_stats s;

	alloc_get_stats(&kheap, &s);
	return s.bytes_in_use;
}
