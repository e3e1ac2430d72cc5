/* SPDX-License-Identifier: MIT */
/*
 * The frame table: one struct frame per physical page frame, saying what
 * the frame is used for.  It is the allocator's free map and the source of
 * every "where did memory go" figure (the debug console, leak checks).
 *
 * This file is pure bookkeeping over an array, with no hardware access, so
 * it is host-tested as it is; pmm.c places the array in RAM at boot.
 */
#ifndef FRAME_TABLE_H
#define FRAME_TABLE_H

#include <stddef.h>
#include <stdint.h>

enum frame_use {
	FRAME_FREE,
	FRAME_RESERVED,		/* firmware, holes, the first MiB */
	FRAME_KERNEL,		/* kernel image, frame table, boot data */
	FRAME_MODULE,		/* boot modules (program images, symbols) */
	FRAME_PAGETABLE,
	FRAME_HEAP,		/* kernel heap */
	FRAME_STACK,		/* kernel stacks */
	FRAME_USER,		/* mapped in a user address space */
	FRAME_DMA,		/* pinned contiguous driver buffers */
	FRAME_GRANT,		/* lent to a holder by kernel/grant */
	FRAME_ZEROED,		/* pre-zeroed pool for grants */
	FRAME_QUARANTINE,	/* may still be a DMA target: never reused */
	FRAME_OBJECT,		/* a page a memory object caches (memobj.h), mapped 0..n times */
	FRAME_NUSES
};

struct frame {
	uint8_t use;		/* enum frame_use */
	uint8_t flags;		/* 0x20 pmm's watch; 0x40, 0x80 kdb check's scratch */
	uint16_t mapcount;	/* user mappings of this frame */
	uint32_t aux;		/* owner-specific: grant index, etc. */
};

struct frame_table {
	struct frame *frames;
	size_t nframes;
	size_t count[FRAME_NUSES];
	size_t hint;		/* lowest frame that may be free */
};

const char *frame_use_name(enum frame_use use);
void frame_table_init(struct frame_table *ft, struct frame *frames, size_t nframes);
/* Sets the use of [first, first + n) clipped to the table; recounts. */
void frame_table_set(struct frame_table *ft, size_t first, size_t n, enum frame_use use);
/* Returns a frame number, or -1 when none is free below max_frame. */
long frame_table_alloc(struct frame_table *ft, enum frame_use use);
long frame_table_alloc_contig(struct frame_table *ft, size_t n, size_t align,
			      size_t max_frame, enum frame_use use);
/* Returns 0, or -1 when the frame is out of range or not allocated. */
int frame_table_free(struct frame_table *ft, size_t pfn);
int frame_table_change_use(struct frame_table *ft, size_t pfn, enum frame_use from,
			   enum frame_use to);

#endif
