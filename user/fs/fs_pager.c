// SPDX-License-Identifier: MIT
/*
 * fs as the pager of file mappings: the kernel's PAGER_PAGE_IN and
 * PAGER_PAGE_OUT (<proto/pager.h>), key = byte offset in the file, object
 * = the file's handle (<proto/fs.h>).
 *
 * Page-in of n pages at key:
 *   1. the handle must name a live regular file, and key a page that
 *      starts before the end of the file (else ERR_NOENT / ERR_RANGE: the
 *      faulting thread dies); k = the pages of the n that do;
 *   2. copy: read k pages through the cache into tx, zero after the end
 *      of the file, answer with them;
 *   3. grant or DMA: map each file block of the k pages to its disk block
 *      (a 4 KiB page of 1 KiB blocks may be four places on disk), make
 *      runs {sector, count, offset in the grant}, merge the adjacent ones,
 *      forward the grant to ata and have it fill the frames.  Holes are
 *      not read: the kernel lends zeroed frames.  The last block is read
 *      only up to the sector holding the end of the file, and the rest of
 *      that sector is zero on disk: ext2_zero_tail() sees to it first;
 *   4. answer k, and the file's size: the kernel checks a program's
 *      segments against it when it runs one from the file.
 * Page-out of n pages at key (dirty pages of a shared mapping): pages
 * past the end of the file are dropped; the others are written (copy:
 * through the cache; grant: blocks allocated for holes first, then ata
 * drains the frames into the runs, then the cache forgets those sectors
 * and the tail past the end of the file is zeroed again).  A stale handle
 * drops the pages too (the file is gone: nowhere to put them).
 */
#include <ferry/err.h>
#include <ferry/sys.h>
#include <proc.h>
#include <proto/fs.h>
#include <stdio.h>
#include <string.h>

#include "fs.h"

#define RUNS_MAX	(GRANT_MAX_PAGES * (MSG_PAGE_SIZE / 1024))
#define NOMEM_TRIES	200
#define NOMEM_WAIT_NS	(10 * MSEC_NS)

struct file_range {
	uint32_t ino;
	uint64_t size;
	int pages;		/* of the request's, those starting before the end */
};

/* Adds the sectors of one file block to the runs, merging with the previous run. */
static void add_run(struct fs_run *runs, int *n, uint64_t sector, uint32_t count, uint32_t offset)
{
	struct fs_run *p = *n ? &runs[*n - 1] : NULL;

	if (p && p->sector + p->count == sector && p->offset + p->count * 512 == offset) {
		p->count += count;
		return;
	}
	runs[(*n)++] = (struct fs_run){ .sector = sector, .count = count, .offset = offset };
}

/* The runs of disk sectors behind the file's bytes in the request's pages
 * (key < fr->size, a whole page: locate() saw to both). */
static long build_runs(struct fs_server *s, const struct file_range *fr, uint64_t key,
		       bool alloc, struct fs_run *runs, int *nruns)
{
	static uint32_t blocks[RUNS_MAX];
	uint32_t bs = s->fs.block_size;
	uint64_t span = fr->size - key, size;
	uint32_t n;
	long err;

	if (span > (uint64_t)fr->pages * MSG_PAGE_SIZE)
		span = (uint64_t)fr->pages * MSG_PAGE_SIZE;
	n = (uint32_t)((span + bs - 1) / bs);
	*nruns = 0;
	err = ext2_file_blocks(&s->fs, fr->ino, key / bs, n, alloc, blocks, &size);
	for (uint32_t i = 0; !err && i < n; i++) {
		uint32_t off = i * bs, valid;
		uint64_t pos = key + off;

		if (!blocks[i])
			continue;	/* a hole: zero */
		valid = fr->size - pos < bs ? (uint32_t)(fr->size - pos) : bs;
		add_run(runs, nruns, (uint64_t)blocks[i] * (bs / 512), (valid + 511) / 512, off);
	}
	return err;
}

/* The bytes after the end of the file in its last block are zero on disk
 * (ext2_zero_tail); a file of whole blocks has none. */
static long zero_tail(struct fs_server *s, const struct file_range *fr)
{
	return fr->size % s->fs.block_size ? ext2_zero_tail(&s->fs, fr->ino) : 0;
}

/*
 * A copy-mode answer needs kernel frames for its pages; under memory
 * pressure the kernel may refuse it (ERR_NOMEM) and keep the request open.
 * Then answer the faulting page alone, and give the page-out daemon time.
 */
static long answer_in(const struct pager_request *rq, int k, const void *pages, uint64_t size)
{
	long err = pager_answer_in(rq, k, pages, size);

	for (int tries = 0; err == ERR_NOMEM && tries < NOMEM_TRIES; tries++) {
		sys_sleep(NOMEM_WAIT_NS);
		err = pager_answer_in(rq, 1, pages, size);
	}
	return err;
}

static long page_in(struct fs_server *s, const struct pager_request *rq,
		    const struct file_range *fr)
{
	static struct fs_run runs[RUNS_MAX];
	size_t len = (size_t)fr->pages * MSG_PAGE_SIZE;
	int nruns;
	long err;

	if (rq->mode == FILL_COPY) {
		long n = ext2_read(&s->fs, fr->ino, rq->key, s->tx, len);

		if (n < 0)
			return n;
		memset(s->tx + n, 0, len - (size_t)n);
	} else {
		err = zero_tail(s, fr);
		if (!err)
			err = ext2_sync(&s->fs);
		if (!err)
			err = build_runs(s, fr, rq->key, false, runs, &nruns);
		if (!err)
			err = fs_ata_grant_io(s, false, rq->grant, rq->mode, runs, nruns);
		if (err)
			return err;
	}
	s->pages_in += (uint64_t)fr->pages;
	return answer_in(rq, fr->pages, s->tx, fr->size);
}

static long page_out(struct fs_server *s, const struct pager_request *rq,
		     const struct file_range *fr)
{
	static struct fs_run runs[RUNS_MAX];
	uint64_t len = fr->size - rq->key;
	int nruns;
	long err = 0;

	if (len > (uint64_t)fr->pages * MSG_PAGE_SIZE)
		len = (uint64_t)fr->pages * MSG_PAGE_SIZE;
	if (rq->mode == FILL_COPY) {
		long n = ext2_write(&s->fs, fr->ino, rq->key, rq->data, (size_t)len);

		if (n >= 0 && (uint64_t)n < len)
			n = ERR_FULL;
		err = n < 0 ? n : 0;
	} else {
		err = build_runs(s, fr, rq->key, true, runs, &nruns);
		if (!err)
			err = ext2_sync(&s->fs);	/* allocations on disk before the data */
		if (!err)
			err = fs_ata_grant_io(s, true, rq->grant, rq->mode, runs, nruns);
		for (int i = 0; !err && i < nruns; i++)
			bcache_invalidate(&s->bc, runs[i].sector * 512, (uint64_t)runs[i].count * 512);
		if (!err)
			err = zero_tail(s, fr);	/* the page's bytes past the end */
	}
	if (err)
		return err;
	s->pages_out += (uint64_t)rq->npages;
	return pager_answer_ok(rq, rq->npages, NULL);
}

/* The file and how many of the request's pages it reaches. */
static long locate(struct fs_server *s, const struct pager_request *rq, struct file_range *fr)
{
	struct ext2_stat st;
	uint64_t left;
	long err;

	if (s->mount_err)
		return ERR_IO;
	fr->ino = FS_HANDLE_INO(rq->object);
	err = ext2_stat_handle(&s->fs, fr->ino, FS_HANDLE_GEN(rq->object), &st);
	if (err)
		return err == ERR_BADHANDLE ? ERR_NOENT : err;
	if (FS_MODE_TYPE(st.mode) != FS_TYPE_REG)
		return ERR_NOENT;
	err = fs_swap_guard(s, fr->ino, rq->op == PAGER_PAGE_IN ? "mapping (a page-in of)"
								: "writing back a mapping of");
	if (err)
		return err;
	fr->size = st.size;
	if (rq->key % MSG_PAGE_SIZE || rq->key >= st.size) {
		fr->pages = 0;
		return ERR_RANGE;
	}
	left = (st.size - rq->key + MSG_PAGE_SIZE - 1) / MSG_PAGE_SIZE;
	fr->pages = left < (uint64_t)rq->npages ? (int)left : rq->npages;
	return 0;
}

/* What the kernel accepts as a failure (<proto/pager.h>): ERR_NOENT and
 * ERR_RANGE are the file's; the rest came from the disk (<block.h>). */
static long pager_error(long err)
{
	return err == ERR_NOENT || err == ERR_RANGE ? err : block_pager_failure(err);
}

void fs_pager_serve(struct fs_server *s, const struct pager_request *rq)
{
	struct file_range fr = { 0 };
	long err = locate(s, rq, &fr);

	if (rq->op == PAGER_PAGE_OUT && (err == ERR_NOENT || err == ERR_RANGE || err == ERR_BUSY)) {
		/* Deleted, or shrunk under the mapping: the pages have nowhere to go. */
		printf("fs: page-out of %d pages at %llu of inode %u dropped: %s\n", rq->npages,
		       (unsigned long long)rq->key, FS_HANDLE_INO(rq->object),
		       err == ERR_NOENT ? "no such file"
		       : err == ERR_BUSY ? "it is swap" : "past the end of the file");
		err = pager_answer_ok(rq, rq->npages, NULL);
	} else if (!err) {
		err = rq->op == PAGER_PAGE_IN ? page_in(s, rq, &fr) : page_out(s, rq, &fr);
	}
	if (err == 0)
		return;
	if (err == ERR_RANGE)
		printf("fs: page-in at %llu of inode %u: beyond the end of the file (%llu bytes)\n",
		       (unsigned long long)rq->key, FS_HANDLE_INO(rq->object),
		       (unsigned long long)fr.size);
	else
		printf("fs: %s of %d pages at %llu of inode %u (%s): %s\n", pager_op_name(rq->op),
		       rq->npages, (unsigned long long)rq->key, FS_HANDLE_INO(rq->object),
		       pager_mode_name(rq->mode), err_str(err));
	s->failures++;
	err = pager_answer_fail(rq, pager_error(err));
	if (err)
		printf("fs: %s answer refused: %s\n", pager_op_name(rq->op), err_str(err));
}
