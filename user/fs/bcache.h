/* SPDX-License-Identifier: MIT */
/*
 * bcache: a bounded write-back cache of the partition in 4 KiB chunks.
 *
 * The unit is a 4 KiB-aligned chunk of the partition, whatever the file
 * system's block size: a 1, 2 or 4 KiB block always lies inside one
 * chunk, and a chunk is what the disk driver moves in one copy-mode
 * transfer.  The cache has a fixed number of chunk buffers, given at init
 * time (the bound on memory); the least recently used one that nobody
 * holds is recycled.
 *
 * A caller gets a buffer (bcache_get), reads or changes the bytes, marks
 * it dirty if it changed them (bcache_dirty) and puts it back
 * (bcache_put).  Dirty chunks go to the disk on bcache_flush, which the
 * server calls at the end of every request, so between requests the disk
 * holds everything: a pager may then move file pages to and from the disk
 * directly (grants), and drops the chunks it wrote behind our back with
 * bcache_invalidate.  Single-threaded: no locks.
 *
 * A chunk is found through a hash of its number (chains of buffer
 * indices), and the dirty ones are counted, so a hit and the flush that
 * ends a request with nothing dirty cost a few instructions, whatever the
 * cache's size: a page-in asks for the inode and its block map several
 * times.
 */
#ifndef FS_BCACHE_H
#define FS_BCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blockdev.h"

#define BCACHE_CHUNK	4096
#define BCACHE_HASH	256	/* chains: about two buffers per chain at most */

struct bcache;

struct bcache_buf {
	uint64_t chunk;		/* partition byte offset / BCACHE_CHUNK */
	uint32_t len;		/* bytes valid: less only for the partition's last chunk */
	bool valid, dirty;
	int refs;
	uint64_t last_use;
	int hash_next;		/* the next valid buffer in its chain, -1: none */
	struct bcache *cache;	/* the cache it belongs to */
	uint8_t *data;
};

struct bcache {
	struct blockdev *dev;
	struct bcache_buf *bufs;
	int nbufs;
	uint64_t clock;
	int hash[BCACHE_HASH];	/* chain heads: buffer indices, -1: empty */
	int ndirty;		/* valid and dirty buffers */
	uint64_t hits, misses, writes;
};

/* bufs[n] and data (n * BCACHE_CHUNK bytes) belong to the cache from now on. */
void bcache_init(struct bcache *bc, struct blockdev *dev, struct bcache_buf *bufs, int n,
		 uint8_t *data);

/*
 * Holds the bytes [off, off + len), which must lie in one chunk and inside
 * the partition; *p points at off.  `fresh`: the caller overwrites all of
 * the chunk, so it is not read from disk.
 * => 0; ERR_RANGE (outside the partition or across chunks), ERR_IO, or
 *    ERR_BUSY when every buffer is held (a bug: callers hold a few).
 */
long bcache_get(struct bcache *bc, uint64_t off, uint32_t len, bool fresh,
		struct bcache_buf **b, uint8_t **p);
void bcache_dirty(struct bcache_buf *b);
void bcache_put(struct bcache_buf *b);
/* Writes every dirty chunk, then flushes the drive.  => 0 or the first error
 * (the chunk stays dirty). */
long bcache_flush(struct bcache *bc);
/* Forgets clean chunks overlapping [off, off + len): the disk changed under them. */
void bcache_invalidate(struct bcache *bc, uint64_t off, uint64_t len);
/* Forgets everything (after a failed flush, to resynchronise with the disk). */
void bcache_drop_all(struct bcache *bc);

#endif
