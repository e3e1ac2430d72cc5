// SPDX-License-Identifier: MIT
#include "bcache.h"

#include <ferry/err.h>
#include <string.h>

#define SECTORS_PER_CHUNK	(BCACHE_CHUNK / BLOCKDEV_SECTOR)

void bcache_init(struct bcache *bc, struct blockdev *dev, struct bcache_buf *bufs, int n,
		 uint8_t *data)
{
	memset(bc, 0, sizeof(*bc));
	bc->dev = dev;
	bc->bufs = bufs;
	bc->nbufs = n;
	for (int h = 0; h < BCACHE_HASH; h++)
		bc->hash[h] = -1;
	for (int i = 0; i < n; i++)
		bufs[i] = (struct bcache_buf){ .data = data + (size_t)i * BCACHE_CHUNK,
					       .hash_next = -1, .cache = bc };
}

static int *chain(struct bcache *bc, uint64_t c)
{
	return &bc->hash[c % BCACHE_HASH];
}

/* b holds chunk b->chunk from now on: findable. */
static void hash_in(struct bcache *bc, struct bcache_buf *b)
{
	int *head = chain(bc, b->chunk);

	b->hash_next = *head;
	*head = (int)(b - bc->bufs);
	b->valid = true;
}

/* b holds nothing any more (clean, or its bytes given up). */
static void hash_out(struct bcache *bc, struct bcache_buf *b)
{
	int i = (int)(b - bc->bufs);

	if (!b->valid)
		return;
	for (int *link = chain(bc, b->chunk); *link >= 0; link = &bc->bufs[*link].hash_next) {
		if (*link == i) {
			*link = b->hash_next;
			break;
		}
	}
	if (b->dirty)
		bc->ndirty--;
	b->valid = b->dirty = false;
	b->hash_next = -1;
}

/* Bytes of chunk c inside the partition: BCACHE_CHUNK but for the last one. */
static uint32_t chunk_len(const struct bcache *bc, uint64_t c)
{
	uint64_t first = c * SECTORS_PER_CHUNK, n = bc->dev->nsectors - first;

	return (uint32_t)(n < SECTORS_PER_CHUNK ? n : SECTORS_PER_CHUNK) * BLOCKDEV_SECTOR;
}

static long write_chunk(struct bcache *bc, struct bcache_buf *b)
{
	long err = bc->dev->write(bc->dev, b->chunk * SECTORS_PER_CHUNK,
				  b->len / BLOCKDEV_SECTOR, b->data);

	if (err)
		return err;
	b->dirty = false;
	bc->ndirty--;
	bc->writes++;
	return 0;
}

static struct bcache_buf *find(struct bcache *bc, uint64_t c)
{
	for (int i = *chain(bc, c); i >= 0; i = bc->bufs[i].hash_next)
		if (bc->bufs[i].chunk == c)
			return &bc->bufs[i];
	return NULL;
}

/* An unheld buffer: an empty one, else the least recently used (written first if dirty). */
static long victim(struct bcache *bc, struct bcache_buf **out)
{
	struct bcache_buf *v = NULL;

	for (int i = 0; i < bc->nbufs; i++) {
		struct bcache_buf *b = &bc->bufs[i];

		if (b->refs)
			continue;
		if (!b->valid) {
			v = b;
			break;
		}
		if (!v || b->last_use < v->last_use)
			v = b;
	}
	if (!v)
		return ERR_BUSY;
	if (v->valid && v->dirty) {
		long err = write_chunk(bc, v);

		if (err)
			return err;
	}
	hash_out(bc, v);
	*out = v;
	return 0;
}

long bcache_get(struct bcache *bc, uint64_t off, uint32_t len, bool fresh,
		struct bcache_buf **bp, uint8_t **p)
{
	uint64_t c = off / BCACHE_CHUNK, in = off % BCACHE_CHUNK;
	struct bcache_buf *b;
	long err;

	if (len == 0 || in + len > BCACHE_CHUNK || c * SECTORS_PER_CHUNK >= bc->dev->nsectors ||
	    in + len > chunk_len(bc, c))
		return ERR_RANGE;
	b = find(bc, c);
	if (b) {
		bc->hits++;
	} else {
		err = victim(bc, &b);
		if (err)
			return err;
		b->chunk = c;
		b->len = chunk_len(bc, c);
		if (fresh && b->len == BCACHE_CHUNK) {
			memset(b->data, 0, BCACHE_CHUNK);
		} else {
			err = bc->dev->read(bc->dev, c * SECTORS_PER_CHUNK, b->len / BLOCKDEV_SECTOR,
					    b->data);
			if (err)
				return err;
		}
		hash_in(bc, b);
		bc->misses++;
	}
	b->refs++;
	b->last_use = ++bc->clock;
	*bp = b;
	*p = b->data + in;
	return 0;
}

void bcache_dirty(struct bcache_buf *b)
{
	if (!b->dirty)
		b->cache->ndirty++;
	b->dirty = true;
}

void bcache_put(struct bcache_buf *b)
{
	if (b && b->refs > 0)
		b->refs--;
}

long bcache_flush(struct bcache *bc)
{
	uint64_t writes = bc->writes;
	long first = 0;

	for (int i = 0; bc->ndirty && i < bc->nbufs; i++) {
		struct bcache_buf *b = &bc->bufs[i];
		long err;

		if (!b->valid || !b->dirty)
			continue;
		err = write_chunk(bc, b);
		if (err && !first)
			first = err;
	}
	if (!first && bc->writes != writes && bc->dev->flush)
		first = bc->dev->flush(bc->dev);
	return first;
}

void bcache_invalidate(struct bcache *bc, uint64_t off, uint64_t len)
{
	uint64_t c0 = off / BCACHE_CHUNK, c1 = (off + len + BCACHE_CHUNK - 1) / BCACHE_CHUNK;

	for (int i = 0; i < bc->nbufs; i++) {
		struct bcache_buf *b = &bc->bufs[i];

		if (b->valid && !b->dirty && !b->refs && b->chunk >= c0 && b->chunk < c1)
			hash_out(bc, b);
	}
}

void bcache_drop_all(struct bcache *bc)
{
	for (int i = 0; i < bc->nbufs; i++)
		if (!bc->bufs[i].refs)
			hash_out(bc, &bc->bufs[i]);
}
