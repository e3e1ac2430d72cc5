// SPDX-License-Identifier: MIT
/* Calls to the driver (<proto/block.h>), as any client makes them. */

#include <ipc.h>
#include <proc.h>
#include <string.h>

#include "blktest.h"

const char *blk_driver = BLOCK_PORT_NAME;
uint32_t blk_pio = BLOCK_F_PIO;

long blk_call(struct blk *b, const struct msg *req, struct msg *rep)
{
	struct msg m = *req;	/* the library names no partition: ours is in the request */

	return block_call(&b->c, &m, rep, true);
}

long blk_open(struct blk *b)
{
	long err = block_open(&b->c, "blktest", blk_driver, 20 * SEC_NS);

	b->c.forward_grants = false;	/* the cases forward by hand, to test ata's checks */
	return err;
}

long blk_info(struct blk *b, uint64_t part, struct msg *rep)
{
	struct msg req = { .op = BLOCK_INFO, .arg = { part } };

	memset(rep, 0, sizeof(*rep));
	return blk_call(b, &req, rep);
}

static long io_answer(long err, const struct msg *rep, uint32_t count)
{
	if (err)
		return err;
	return rep->arg[BLOCK_REPLY_COUNT] == count ? 0 : ERR_IO;	/* never partial */
}

long blk_read(struct blk *b, uint64_t part, uint64_t sector, uint32_t count, uint32_t flags,
	      uint32_t offset, void *buf)
{
	struct msg req = { .op = BLOCK_READ,
			   .arg = { part, sector, count, FILL_COPY | flags, 0, offset } };
	struct msg rep = { .page = buf, .flags = MSG_WITH_PAGES(GRANT_MAX_PAGES) };
	uint32_t pages = (offset + count * BLOCK_SECTOR_SIZE + MSG_PAGE_SIZE - 1) / MSG_PAGE_SIZE;
	long err = io_answer(blk_call(b, &req, &rep), &rep, count);

	if (!err && (!(rep.flags & MSG_PAGE) || MSG_NPAGES(rep.flags) != pages))
		return ERR_INVAL;	/* the data must come along, all of it */
	return err;
}

long blk_write(struct blk *b, uint64_t part, uint64_t sector, uint32_t count, uint32_t flags,
	       uint32_t offset, const void *data)
{
	uint32_t pages = (offset + count * BLOCK_SECTOR_SIZE + MSG_PAGE_SIZE - 1) / MSG_PAGE_SIZE;
	struct msg req = { .op = BLOCK_WRITE,
			   .arg = { part, sector, count, FILL_COPY | flags, 0, offset },
			   .page = (void *)data, .flags = MSG_WITH_PAGES(pages) };
	struct msg rep = { 0 };

	return io_answer(blk_call(b, &req, &rep), &rep, count);
}

long blk_grant(struct blk *b, uint32_t op, uint64_t part, uint64_t sector, uint32_t count,
	       uint32_t mode, uint64_t grant, uint32_t offset)
{
	struct msg req = { .op = op, .arg = { part, sector, count, mode, grant, offset } };
	struct msg rep = { 0 };

	return io_answer(blk_call(b, &req, &rep), &rep, count);
}

long blk_grant_runs(struct blk *b, uint32_t op, uint64_t part, uint32_t mode, uint64_t grant,
		    const struct block_run *runs, int n)
{
	static struct block_run page[MSG_PAGE_SIZE / sizeof(struct block_run)];
	struct msg req = { .op = op, .arg = { part, 0, (uint64_t)n, mode | BLOCK_F_RUNS, grant, 0 },
			   .page = page, .flags = MSG_WITH_PAGES(1) };
	struct msg rep = { 0 };
	uint32_t total = 0;

	memset(page, 0, sizeof(page));
	for (int i = 0; i < n; i++) {
		page[i] = runs[i];
		total += runs[i].br_count;
	}
	return io_answer(blk_call(b, &req, &rep), &rep, total);
}

uint64_t fnv64(const void *data, size_t n)
{
	const uint8_t *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* tests/cases/ata.py computes the same bytes. */
void pattern_fill(uint8_t *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)((i * 131 + seed * 7 + (i >> 9)) ^ seed);
}
