// SPDX-License-Identifier: MIT
/*
 * user/fs/bcache.c against a model: a RAM disk, and a random mix of gets
 * (fresh or read), writes, puts, invalidations, drops and flushes on a
 * cache much smaller than the disk.  After every step the cache's own
 * bookkeeping must agree with its buffers (each valid buffer on exactly
 * the chain of its chunk, no invalid one on any, the dirty count the
 * dirty buffers), every get must return the bytes last written there, and
 * a flush must leave the disk equal to the model.
 */
#include "htest.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ferry/err.h>

#include "../../user/fs/bcache.c"

#define CHUNKS		40	/* on the disk */
#define BUFS		7	/* in the cache */
#define SECTORS		(CHUNKS * 8 - 3)	/* the last chunk is short */

static uint8_t disk[SECTORS * 512];
static uint8_t model[SECTORS * 512];	/* what a reader must see */
static int reads, writes, flushes;

static long ram_read(struct blockdev *d, uint64_t sector, uint32_t count, void *buf)
{
	(void)d;
	reads++;
	memcpy(buf, disk + sector * 512, (size_t)count * 512);
	return 0;
}

static long ram_write(struct blockdev *d, uint64_t sector, uint32_t count, const void *buf)
{
	(void)d;
	writes++;
	memcpy(disk + sector * 512, buf, (size_t)count * 512);
	return 0;
}

static long ram_flush(struct blockdev *d)
{
	(void)d;
	flushes++;
	return 0;
}

static struct blockdev dev = { .nsectors = SECTORS, .read = ram_read, .write = ram_write,
			       .flush = ram_flush };
static struct bcache bc;
static struct bcache_buf bufs[BUFS];
static uint8_t data[BUFS * BCACHE_CHUNK];

/* The cache's chains and counts against its buffers. */
static void check_books(void)
{
	int on_chains = 0, valid = 0, dirty = 0;

	for (int h = 0; h < BCACHE_HASH; h++)
		for (int i = bc.hash[h]; i >= 0; i = bufs[i].hash_next) {
			HCHECK(i < BUFS);
			HCHECK(bufs[i].valid);
			HCHECK_EQ(bufs[i].chunk % BCACHE_HASH, (uint64_t)h);
			if (++on_chains > BUFS)
				return;		/* a loop */
		}
	for (int i = 0; i < BUFS; i++) {
		valid += bufs[i].valid;
		dirty += bufs[i].valid && bufs[i].dirty;
		HCHECK(bufs[i].valid || !bufs[i].dirty);
	}
	HCHECK_EQ(on_chains, valid);
	HCHECK_EQ(bc.ndirty, dirty);
}

static void setup(void)
{
	for (size_t i = 0; i < sizeof(disk); i++)
		disk[i] = model[i] = (uint8_t)(i * 7 + (i >> 12));
	reads = writes = flushes = 0;
	bcache_init(&bc, &dev, bufs, BUFS, data);
	check_books();
}

HTEST(random_operations_against_a_model)
{
	srand(20);
	setup();
	for (int step = 0; step < 20000; step++) {
		uint64_t c = (uint64_t)(rand() % CHUNKS), off = c * BCACHE_CHUNK;
		int op = rand() % 10;
		struct bcache_buf *b;
		uint8_t *p;
		uint32_t len = c == CHUNKS - 1 ? 5 * 512 : BCACHE_CHUNK;

		if (op < 6) {		/* read, maybe write part of it */
			HCHECK_EQ(bcache_get(&bc, off, len, false, &b, &p), 0);
			HCHECK(memcmp(p, model + off, len) == 0);
			if (op < 3) {
				uint32_t at = (uint32_t)(rand() % (int)len);

				p[at] ^= 0x5A;
				model[off + at] ^= 0x5A;
				bcache_dirty(b);
			}
			bcache_put(b);
		} else if (op == 6 && len == BCACHE_CHUNK) {	/* overwritten whole */
			HCHECK_EQ(bcache_get(&bc, off, len, true, &b, &p), 0);
			memset(p, step & 0xFF, len);
			memset(model + off, step & 0xFF, len);
			bcache_dirty(b);
			bcache_put(b);
		} else if (op == 7) {	/* the disk changed behind the cache (a grant) */
			HCHECK_EQ(bcache_flush(&bc), 0);
			memset(disk + off, ~step & 0xFF, len);
			memset(model + off, ~step & 0xFF, len);
			bcache_invalidate(&bc, off, len);
		} else if (op == 8) {
			HCHECK_EQ(bcache_flush(&bc), 0);
			HCHECK_EQ(bc.ndirty, 0);
			HCHECK(memcmp(disk, model, sizeof(disk)) == 0);
		} else if (op == 9 && rand() % 20 == 0) {
			HCHECK_EQ(bcache_flush(&bc), 0);
			bcache_drop_all(&bc);
		}
		check_books();
	}
	HCHECK_EQ(bcache_flush(&bc), 0);
	HCHECK(memcmp(disk, model, sizeof(disk)) == 0);
	HCHECK(bc.hits > 0 && bc.misses > 0);
}

/* With nothing dirty a flush touches no buffer and writes nothing. */
HTEST(flush_with_nothing_dirty_writes_nothing)
{
	struct bcache_buf *b;
	uint8_t *p;

	setup();
	HCHECK_EQ(bcache_get(&bc, 0, 512, false, &b, &p), 0);
	bcache_put(b);
	HCHECK_EQ(bcache_flush(&bc), 0);
	HCHECK_EQ(writes, 0);
	HCHECK_EQ(flushes, 0);
	HCHECK_EQ(bcache_get(&bc, 8192, 512, false, &b, &p), 0);
	bcache_dirty(b);
	bcache_dirty(b);	/* twice: still one dirty buffer */
	bcache_put(b);
	HCHECK_EQ(bc.ndirty, 1);
	HCHECK_EQ(bcache_flush(&bc), 0);
	HCHECK_EQ(writes, 1);
	HCHECK_EQ(flushes, 1);
	HCHECK_EQ(bc.ndirty, 0);
	check_books();
}
