// SPDX-License-Identifier: MIT
/* A memory object's page table; the model is in memobj_tree.h. */
#include "memobj_tree.h"

#include <stddef.h>

#include "heap.h"

#define SLOT_MASK	((uint64_t)MEMOBJ_TREE_SLOTS - 1)

struct memobj_tree_node {
	uint64_t slot[MEMOBJ_TREE_SLOTS];	/* leaves: entries; above: child nodes */
};

_Static_assert(sizeof(struct memobj_tree_node) == 512, "a node is 64 words");

uint64_t *memobj_tree_slot(struct memobj_tree *t, uint64_t pg, bool create)
{
	struct memobj_tree_node *n;

	if (pg >= MEMOBJ_TREE_MAX_PAGES)
		return NULL;
	if (!t->root) {
		if (!create || !(t->root = kzalloc(sizeof(*t->root))))
			return NULL;
		t->height = 1;
	}
	while (pg >> (MEMOBJ_TREE_SHIFT * t->height)) {
		if (!create || !(n = kzalloc(sizeof(*n))))
			return NULL;
		n->slot[0] = (uint64_t)t->root;	/* the old root covers the lowest pages */
		t->root = n;
		t->height++;
	}
	n = t->root;
	for (int h = t->height - 1; h > 0; h--) {
		uint64_t *s = &n->slot[(pg >> (MEMOBJ_TREE_SHIFT * h)) & SLOT_MASK];

		if (!*s) {
			struct memobj_tree_node *c;

			if (!create || !(c = kzalloc(sizeof(*c))))
				return NULL;
			*s = (uint64_t)c;
		}
		n = (struct memobj_tree_node *)*s;
	}
	return &n->slot[pg & SLOT_MASK];
}

static void walk(const struct memobj_tree_node *n, int h, uint64_t base,
		 void (*fn)(uint64_t pg, uint64_t *entry, void *ctx), void *ctx)
{
	for (uint64_t i = 0; i < MEMOBJ_TREE_SLOTS; i++) {
		if (!n->slot[i])
			continue;
		if (h == 1)
			fn(base + i, (uint64_t *)&n->slot[i], ctx);
		else
			walk((const struct memobj_tree_node *)n->slot[i], h - 1,
			     base + (i << (MEMOBJ_TREE_SHIFT * (h - 1))), fn, ctx);
	}
}

void memobj_tree_walk(const struct memobj_tree *t,
		      void (*fn)(uint64_t pg, uint64_t *entry, void *ctx), void *ctx)
{
	if (t->root)
		walk(t->root, t->height, 0, fn, ctx);
}

static void free_nodes(struct memobj_tree_node *n, int h)
{
	for (unsigned i = 0; h > 1 && i < MEMOBJ_TREE_SLOTS; i++)
		if (n->slot[i])
			free_nodes((struct memobj_tree_node *)n->slot[i], h - 1);
	kfree(n);
}

void memobj_tree_free(struct memobj_tree *t)
{
	if (t->root)
		free_nodes(t->root, t->height);
	t->root = NULL;
	t->height = 0;
}
