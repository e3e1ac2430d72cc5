// SPDX-License-Identifier: MIT
/*
 * The disk, as ata serves it (<proto/block.h>).  fs's own reads and writes
 * (the block cache's chunks) go in copy mode through a bounce buffer; page
 * requests that came with a grant go to ata with the grant, as runs of
 * sectors at offsets into it, so ata fills or drains the faulting
 * process's frames itself.
 */
#include <ferry/sys.h>
#include <ipc.h>
#include <part.h>
#include <proc.h>
#include <proto/block.h>
#include <stdio.h>
#include <string.h>

#include "fs.h"

#define ATA_WAIT_NS	(10 * SEC_NS)

static uint8_t bounce[BLOCK_MAX_SECTORS * BLOCK_SECTOR_SIZE];
static struct block_run run_page[MSG_PAGE_SIZE / sizeof(struct block_run)];

/* One call to ata on our partition, under the library's retry policy. */
static long ata_call(struct fs_server *s, struct msg *req, struct msg *rep)
{
	s->ata.part = s->part;
	return block_call(&s->ata, req, rep, false);
}

static long ata_read(struct blockdev *dev, uint64_t sector, uint32_t count, void *buf)
{
	struct fs_server *s = dev->ctx;

	while (count) {
		uint32_t n = count < BLOCK_MAX_SECTORS ? count : BLOCK_MAX_SECTORS;
		uint32_t pages = (n * BLOCK_SECTOR_SIZE + MSG_PAGE_SIZE - 1) / MSG_PAGE_SIZE;
		struct msg req = { .op = BLOCK_READ }, rep = { 0 };
		long err;

		req.arg[BLOCK_ARG_SECTOR] = sector;
		req.arg[BLOCK_ARG_COUNT] = n;
		req.arg[BLOCK_ARG_MODE] = FILL_COPY;
		rep.page = bounce;
		rep.flags = MSG_WITH_PAGES(pages);
		err = ata_call(s, &req, &rep);
		if (!err && (!(rep.flags & MSG_PAGE) || MSG_NPAGES(rep.flags) < pages))
			err = ERR_IO;
		if (err) {
			printf("fs: reading sectors %llu+%u: %s\n", (unsigned long long)sector, n,
			       err_str(err));
			return err;
		}
		memcpy(buf, bounce, (size_t)n * BLOCK_SECTOR_SIZE);
		buf = (uint8_t *)buf + (size_t)n * BLOCK_SECTOR_SIZE;
		sector += n;
		count -= n;
	}
	return 0;
}

static long ata_write(struct blockdev *dev, uint64_t sector, uint32_t count, const void *buf)
{
	struct fs_server *s = dev->ctx;

	while (count) {
		uint32_t n = count < BLOCK_MAX_SECTORS ? count : BLOCK_MAX_SECTORS;
		uint32_t pages = (n * BLOCK_SECTOR_SIZE + MSG_PAGE_SIZE - 1) / MSG_PAGE_SIZE;
		struct msg req = { .op = BLOCK_WRITE }, rep = { 0 };
		long err;

		memcpy(bounce, buf, (size_t)n * BLOCK_SECTOR_SIZE);
		req.arg[BLOCK_ARG_SECTOR] = sector;
		req.arg[BLOCK_ARG_COUNT] = n;
		req.arg[BLOCK_ARG_MODE] = FILL_COPY;
		req.page = bounce;
		req.flags = MSG_WITH_PAGES(pages);
		err = ata_call(s, &req, &rep);
		if (err) {
			printf("fs: writing sectors %llu+%u: %s\n", (unsigned long long)sector, n,
			       err_str(err));
			return err;
		}
		buf = (const uint8_t *)buf + (size_t)n * BLOCK_SECTOR_SIZE;
		sector += n;
		count -= n;
	}
	return 0;
}

static long ata_flush(struct blockdev *dev)
{
	struct msg req = { .op = BLOCK_FLUSH }, rep = { 0 };
	long err = ata_call(dev->ctx, &req, &rep);

	if (err)
		printf("fs: flushing the drive's cache: %s\n", err_str(err));
	return err;
}

/*
 * The disk driver and partition: whichever driver (nvme, ata) gives us the
 * partition asked for, else one holding an ext2 file system, else the
 * first it gives us at all (its arguments gave it: the mount decides).
 */
long fs_ata_attach(struct fs_server *s, int want_part)
{
	struct msg rep = { 0 };
	unsigned n;

	if (block_find(&s->ata, "fs", PART_EXT2, (unsigned)want_part, &n, &rep, ATA_WAIT_NS)) {
		printf("fs: no disk driver gives us a partition on disk 0 (none holds an ext2 file"
		       " system, and no driver's arguments name one for fs)\n");
		return ERR_NOENT;
	}
	s->part = BLOCK_PART(0, n);
	s->modes = (uint32_t)rep.arg[BLOCK_REPLY_MODES] | FILL_MODE_BIT(FILL_COPY);
	s->dev = (struct blockdev){ .ctx = s, .nsectors = rep.arg[BLOCK_REPLY_SECTORS],
				    .read = ata_read, .write = ata_write,
				    .flush = ata_flush };
	printf("fs: disk 0 partition %u, %llu KiB, via %s (pid %ld)\n", n,
	       (unsigned long long)s->dev.nsectors / 2, s->ata.driver, s->ata.pid);
	return 0;
}

long fs_ata_grant_io(struct fs_server *s, bool write, uint64_t grant, uint32_t mode,
		     const struct fs_run *runs, int nruns)
{
	const int per_req = BLOCK_RUNS_MAX;
	long err;

	if (nruns == 0)
		return 0;	/* nothing on disk: the frames came zeroed */
	for (int i = 0; i < nruns; i += per_req) {
		int k = nruns - i < per_req ? nruns - i : per_req;
		struct msg req = { .op = write ? BLOCK_WRITE : BLOCK_READ }, rep = { 0 };

		req.arg[BLOCK_ARG_MODE] = mode;
		req.arg[BLOCK_ARG_GRANT] = grant;
		if (k == 1) {
			/* One run (a page of adjacent blocks): in the arguments, so no
			 * page of runs travels (the kernel copies a page twice). */
			req.arg[BLOCK_ARG_SECTOR] = runs[i].sector;
			req.arg[BLOCK_ARG_COUNT] = runs[i].count;
			req.arg[BLOCK_ARG_OFFSET] = runs[i].offset;
		} else {
			memset(run_page, 0, sizeof(run_page));
			for (int j = 0; j < k; j++)
				run_page[j] = (struct block_run){ .br_sector = runs[i + j].sector,
								  .br_count = runs[i + j].count,
								  .br_offset = runs[i + j].offset };
			req.arg[BLOCK_ARG_COUNT] = (uint64_t)k;
			req.arg[BLOCK_ARG_MODE] |= BLOCK_F_RUNS;
			req.page = run_page;
			req.flags = MSG_WITH_PAGES(1);
		}
		err = ata_call(s, &req, &rep);
		if (err) {
			printf("fs: ata %s of %d runs (grant %#llx): %s\n", write ? "write" : "read",
			       k, (unsigned long long)grant, err_str(err));
			return err;
		}
	}
	return 0;
}
