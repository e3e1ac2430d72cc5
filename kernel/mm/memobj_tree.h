/* SPDX-License-Identifier: MIT */
/*
 * A memory object's page table (memobj.h): a radix tree of 64-way nodes
 * from page index to one 64-bit entry word, whose meaning memobj.c gives
 * (0 is "no page").  The tree starts empty and grows at the top as pages
 * further into the object are asked for, up to MEMOBJ_TREE_MAX_PAGES (five
 * levels); a node is a kzalloc'd 512 bytes, freed with the tree.  Pure
 * bookkeeping over the heap: host-tested.
 */
#ifndef MEMOBJ_TREE_H
#define MEMOBJ_TREE_H

#include <stdbool.h>
#include <stdint.h>

#define MEMOBJ_TREE_SHIFT	6
#define MEMOBJ_TREE_SLOTS	(1u << MEMOBJ_TREE_SHIFT)
#define MEMOBJ_TREE_LEVELS	5
#define MEMOBJ_TREE_MAX_PAGES	(1ULL << (MEMOBJ_TREE_LEVELS * MEMOBJ_TREE_SHIFT))

struct memobj_tree_node;

struct memobj_tree {
	struct memobj_tree_node *root;
	int height;		/* the root covers 64^height pages; 0: empty */
};

/*
 * Page pg's entry word.  With create, the nodes on the way are made.
 * => NULL when pg is past MEMOBJ_TREE_MAX_PAGES, or without create when
 *    no node holds it, or with create when the heap is out of memory
 *    (nothing is undone: the nodes made stay, empty, for the next try).
 */
uint64_t *memobj_tree_slot(struct memobj_tree *t, uint64_t pg, bool create);
/* fn for every non-zero entry, in page order; fn may change the entry. */
void memobj_tree_walk(const struct memobj_tree *t,
		      void (*fn)(uint64_t pg, uint64_t *entry, void *ctx), void *ctx);
/* Frees every node; the entries are the caller's to have settled first. */
void memobj_tree_free(struct memobj_tree *t);

#endif
