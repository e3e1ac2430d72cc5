// SPDX-License-Identifier: MIT
/*
 * The disk store: a swap partition made by mkswap, or a swap file on the
 * ext2 file system, reached through ata (<proto/block.h>).  The request
 * path of a page-in, grant modes:
 *
 *   kernel --PAGER_PAGE_IN(grant)--> swapd --sys_grant_forward--> ata
 *          swapd --BLOCK_READ(grant, sectors)--> ata: DMA (or PIO through
 *          its window) straight into the faulting process's frames
 *   ata --BLOCK_OK--> swapd --PAGER_OK--> kernel: grant ended, frames mapped
 *
 * A page-out is the same with BLOCK_WRITE and a read-only grant.  Copy
 * mode moves the bytes through messages instead: ata answers a read with
 * its pages, which land in swapd's buffer and go on in the answer to the
 * kernel; a page-out's bytes arrive in swapd's receive buffer and go on to
 * ata in the request.
 *
 * Slots map to pages of the area (layout.c): a request's run of slots is
 * one disk transfer where the pages are adjacent, and a list of runs
 * (BLOCK_F_RUNS, grant modes) or one transfer per run (copy) where a bad
 * page lies between.
 *
 * A swap file (`swapd file PATH`): fs checks the file and gives us its
 * block map once, as extents, with an allowance (kernel/ipc/allow.h) that
 * lets ata serve us those sectors of its partition and no others.  We
 * then page exactly as on a partition, every request naming the
 * allowance (BLOCK_PART_VIA) and the area's sectors turned into the
 * partition's through the extents (layout.c); fs is not asked again.
 */
#include <block.h>
#include <ferry/sys.h>
#include <ipc.h>
#include <part.h>
#include <proc.h>
#include <proto/swapd.h>
#include <stdio.h>
#include <string.h>

#include "swapd.h"

#define ATA_WAIT_NS	(10 * SEC_NS)	/* for a disk driver's port to appear at boot */
#define FS_WAIT_NS	(25 * SEC_NS)	/* for fs's, which init starts after us */

struct disk_store {
	struct store st;
	struct block_client ata;	/* <block.h>: retries, reconnects, grants */
	unsigned partno;
	uint64_t allowance;		/* a swap file's, from fs; 0 for a partition */
	struct fs_extent ext[FS_SWAP_EXTENTS];	/* a swap file's: area -> partition */
	int next;
	char where[SWAP_WHERE_MAX];	/* "disk0 part1", "file /swapfile" */
	struct swap_layout layout;
	struct block_run area_runs[GRANT_MAX_PAGES];
	struct block_run runs[BLOCK_RUNS_MAX];
	uint8_t inbuf[PAGER_BUF_SIZE];	/* copy-mode page-ins land here */
	struct block_run run_page[MSG_PAGE_SIZE / sizeof(struct block_run)];
};

/* One call to ata on our partition (through a swap file's allowance),
 * under the library's retry policy. */
static long ata_call(struct disk_store *ds, struct msg *req, struct msg *rep)
{
	ds->ata.part = BLOCK_PART_VIA(BLOCK_PART(0, ds->partno), ds->allowance);
	return block_call(&ds->ata, req, rep, false);
}

static long ata_info(struct disk_store *ds, unsigned partno, struct msg *rep)
{
	return block_info(&ds->ata, BLOCK_PART_VIA(BLOCK_PART(0, partno), ds->allowance), rep);
}

/*
 * The runs of n pages of slots from s on (offsets from page `first` of
 * the request), as sectors of our partition.  => how many, or -1 if a
 * swap file's map does not hold them (cannot be: the layout excluded such
 * pages).
 */
static int disk_runs(struct disk_store *ds, uint64_t s, int first, int n)
{
	struct block_run *runs = ds->allowance ? ds->area_runs : ds->runs;
	int nruns = swap_layout_runs(&ds->layout, s, n, runs);

	for (int i = 0; i < nruns; i++)
		runs[i].br_offset += (uint32_t)first * SWAP_PAGE;
	if (!ds->allowance)
		return nruns;
	return swap_file_runs(ds->ext, ds->next, ds->area_runs, nruns, ds->runs, BLOCK_RUNS_MAX);
}

/* Copy mode: one run of whole pages between the disk and buf. */
static long copy_run(struct disk_store *ds, bool write, const struct block_run *r, void *buf)
{
	uint32_t pages = r->br_count / BLOCK_SECTORS_PER_PAGE;
	struct msg req = { .op = write ? BLOCK_WRITE : BLOCK_READ }, rep = { 0 };
	long err;

	req.arg[BLOCK_ARG_SECTOR] = r->br_sector;
	req.arg[BLOCK_ARG_COUNT] = r->br_count;
	req.arg[BLOCK_ARG_MODE] = FILL_COPY;
	if (write) {
		req.page = buf;
		req.flags = MSG_WITH_PAGES(pages);
	} else {
		rep.page = buf;
		rep.flags = MSG_WITH_PAGES(pages);
	}
	err = ata_call(ds, &req, &rep);
	if (!err && !write && (!(rep.flags & MSG_PAGE) || MSG_NPAGES(rep.flags) != pages))
		err = ERR_INVAL;	/* the data must come along, all of it: a bad answer */
	return err;
}

/* Grant modes: the runs of one request against the grant ata holds. */
static long grant_runs(struct disk_store *ds, bool write, const struct pager_request *rq,
		       int nruns)
{
	struct msg req = { .op = write ? BLOCK_WRITE : BLOCK_READ }, rep = { 0 };

	req.arg[BLOCK_ARG_MODE] = rq->mode;
	req.arg[BLOCK_ARG_GRANT] = rq->grant;
	if (nruns == 1) {
		req.arg[BLOCK_ARG_SECTOR] = ds->runs[0].br_sector;
		req.arg[BLOCK_ARG_COUNT] = ds->runs[0].br_count;
		req.arg[BLOCK_ARG_OFFSET] = ds->runs[0].br_offset;
	} else {
		memset(ds->run_page, 0, sizeof(ds->run_page));
		memcpy(ds->run_page, ds->runs, (size_t)nruns * sizeof(ds->runs[0]));
		req.arg[BLOCK_ARG_COUNT] = (uint64_t)nruns;
		req.arg[BLOCK_ARG_MODE] |= BLOCK_F_RUNS;
		req.page = ds->run_page;
		req.flags = MSG_WITH_PAGES(1);
	}
	return ata_call(ds, &req, &rep);
}

/*
 * Moves n pages of rq, from its page `first` on (slots rq->key + first..),
 * between the disk and rq's pages (copy: buf, rq's page 0 at its start).
 */
static long transfer(struct disk_store *ds, bool write, const struct pager_request *rq,
		     int first, int n, uint8_t *buf)
{
	int nruns = disk_runs(ds, rq->key + (uint64_t)first, first, n);
	long err = 0;

	if (nruns < 0) {
		printf("swapd: %s: slots %llu+%d are not in the swap file's map\n", ds->where,
		       (unsigned long long)rq->key + (uint64_t)first, n);
		return ERR_IO;
	}
	if (rq->mode == FILL_COPY) {
		for (int i = 0; i < nruns && !err; i++, ds->st.transfers++)
			err = copy_run(ds, write, &ds->runs[i], buf + ds->runs[i].br_offset);
	} else {
		err = grant_runs(ds, write, rq, nruns);	/* the library forwards the grant */
		ds->st.transfers++;
	}
	if (err) {
		ds->st.io_errors++;
		printf("swapd: %s: %s of %d pages at page %llu (%d run%s, %s): %s\n",
		       ds->where, write ? "write" : "read", n,
		       (unsigned long long)ds->runs[0].br_sector / BLOCK_SECTORS_PER_PAGE, nruns,
		       nruns > 1 ? "s" : "", pager_mode_name(rq->mode), err_str(err));
	}
	/* Only the device's own verdict retires slots; a driver that is gone,
	 * silent or refusing says nothing against them (<block.h>). */
	return block_pager_failure(err);
}

static long disk_page_in(struct store *st, const struct pager_request *rq, int n,
			 const void **pages)
{
	struct disk_store *ds = (struct disk_store *)st;

	*pages = ds->inbuf;
	return transfer(ds, false, rq, 0, n, ds->inbuf);
}

/*
 * After a write of several pages failed on the medium: each page again on
 * its own, so that a single bad sector retires its own page's slot and
 * not the whole run (the others are stored, and the kernel keeps them).
 * => the pages that failed (bit i: page i), or 0 if the device went out
 * of reach or the driver refused meanwhile (*err is then ERR_AGAIN or
 * ERR_PERM: no verdict on any slot).
 */
static uint64_t isolate_bad_pages(struct disk_store *ds, const struct pager_request *rq,
				  long *err)
{
	uint64_t failed = 0;

	for (int i = 0; i < rq->npages; i++) {
		long e = transfer(ds, true, rq, i, 1, (uint8_t *)rq->data);

		if (e && e != ERR_IO) {
			*err = e;
			return 0;
		}
		if (e)
			failed |= 1ULL << i;
	}
	*err = failed ? ERR_IO : 0;
	printf("swapd: %s: page-out of %d pages at slot %llu: %d page%s failed alone\n",
	       ds->where, rq->npages, (unsigned long long)rq->key, __builtin_popcountll(failed),
	       __builtin_popcountll(failed) == 1 ? "" : "s");
	return failed;
}

static long disk_page_out(struct store *st, const struct pager_request *rq)
{
	struct disk_store *ds = (struct disk_store *)st;
	long err = transfer(ds, true, rq, 0, rq->npages, (uint8_t *)rq->data);

	st->failed_pages = 0;
	if (err == ERR_IO && rq->npages > 1)
		st->failed_pages = isolate_bad_pages(ds, rq, &err);
	return err;
}

/*
 * The disk driver and swap partition: whichever driver (nvme, ata) gives
 * us a partition holding a swap area (it probed it), else the first it
 * gives us at all (its arguments may give swapd a partition whatever it
 * holds: the header check then decides).  <block.h>: block_find.
 */
static long find_partition(struct disk_store *ds, uint64_t *sectors)
{
	struct msg rep;
	unsigned n;

	if (block_find(&ds->ata, "swapd", PART_SWAP, 0, &n, &rep, ATA_WAIT_NS)) {
		printf("swapd: no disk driver gives swapd a partition on disk0 (none holds a swap"
		       " area, and no driver's arguments name one for swapd)\n");
		return ERR_NOENT;
	}
	ds->partno = n;
	*sectors = rep.arg[BLOCK_REPLY_SECTORS];
	/* What the driver can move decides what we register: no DMA grants with dma=off. */
	ds->st.modes &= (uint32_t)rep.arg[BLOCK_REPLY_MODES];
	printf("swapd: disk driver %s (pid %ld)\n", ds->ata.driver, ds->ata.pid);
	return 0;
}

/* mkswap always writes one; a header without it cannot be recognised again. */
static bool uuid_is_nil(const uint8_t uuid[16])
{
	for (int i = 0; i < 16; i++)
		if (uuid[i])
			return false;
	return true;
}

/*
 * A swap file: fs checks it and answers with the allowance, the partition
 * and the block map (<proto/fs.h> FS_SWAPFILE; it logs why it refuses).
 * => 0 with the area's size in *sectors, or the error.
 */
static long ask_fs(struct disk_store *ds, const char *path, uint64_t *sectors)
{
	static char page[MSG_PAGE_SIZE];
	struct msg req = { .op = FS_SWAPFILE }, rep = { 0 };
	long port = ipc_lookup(FS_PORT_NAME, FS_WAIT_NS), err;

	if (port < 0) {
		printf("swapd: no file server (port \"%s\"): %s\n", FS_PORT_NAME, err_str(port));
		return ERR_NOENT;
	}
	memset(page, 0, sizeof(page));
	strlcpy(page, path, sizeof(page));
	req.page = page;
	req.flags = MSG_WITH_PAGES(1);
	rep.page = page;
	rep.flags = MSG_WITH_PAGES(1);
	err = sys_call(port, &req, &rep, FS_WAIT_NS);
	if (!err && rep.op != FS_OK)
		err = rep.op == FS_FAIL && (long)rep.arg[0] < 0 ? (long)rep.arg[0] : ERR_IO;
	if (!err && (rep.arg[3] < 1 || rep.arg[3] > FS_SWAP_EXTENTS || !(rep.flags & MSG_PAGE) ||
		     BLOCK_PART_DISK(rep.arg[1]) != 0 || BLOCK_PART_NUM(rep.arg[1]) == 0))
		err = ERR_IO;	/* not an answer fs gives */
	if (err) {
		printf("swapd: swap file %s refused by fs: %s\n", path, err_str(err));
		return err;
	}
	ds->allowance = rep.arg[0];
	ds->partno = (unsigned)BLOCK_PART_NUM(rep.arg[1]);
	ds->next = (int)rep.arg[3];
	memcpy(ds->ext, page, (size_t)ds->next * sizeof(ds->ext[0]));
	*sectors = rep.arg[2] / SWAP_PAGE * BLOCK_SECTORS_PER_PAGE;
	/* The file's blocks are on fs's disk: its driver is the one to ask. */
	err = block_open_pid(&ds->ata, "swapd", (long)rep.arg[5], ATA_WAIT_NS);
	if (err)
		printf("swapd: swap file %s: fs's disk driver (pid %ld) is not there\n", path,
		       (long)rep.arg[5]);
	return err;
}

/* What the driver can move decides what we register: no DMA grants with dma=off. */
static long learn_modes(struct disk_store *ds)
{
	struct msg rep;
	long err = ata_info(ds, ds->partno, &rep);

	if (err)
		printf("swapd: %s: ata: %s\n", ds->where, err_str(err));
	else
		ds->st.modes &= (uint32_t)rep.arg[BLOCK_REPLY_MODES];
	return err;
}

/* The area: the swap partition ata gives us, or the file fs gives us. */
static long find_area(struct disk_store *ds, const char *file, uint64_t *sectors)
{
	long err;

	if (!file) {
		err = find_partition(ds, sectors);
		snprintf(ds->where, sizeof(ds->where), "disk0 part%u", ds->partno);
		return err;
	}
	snprintf(ds->where, sizeof(ds->where), "file %s", file);
	ds->st.kind = SWAPD_STORE_FILE;
	ds->st.name = "file";
	err = ask_fs(ds, file, sectors);
	return err ? err : learn_modes(ds);
}

/* The header checked; a file's pages that are not in one piece skipped. */
static long read_layout(struct disk_store *ds, uint64_t sectors)
{
	struct block_run hdr = { .br_sector = 0, .br_count = BLOCK_SECTORS_PER_PAGE }, at = hdr;
	const char *why = NULL;
	long err;

	if (ds->allowance && swap_file_runs(ds->ext, ds->next, &hdr, 1, &at, 1) != 1)
		why = "the header page is not in one piece on the disk";
	err = why ? 0 : copy_run(ds, false, &at, ds->inbuf);
	if (err) {
		printf("swapd: %s: reading the swap header: %s\n", ds->where, err_str(err));
		return ERR_IO;
	}
	if (!why)
		why = swap_layout_parse(ds->inbuf, sectors / BLOCK_SECTORS_PER_PAGE, &ds->layout);
	if (!why && ds->allowance)
		why = swap_layout_map_file(&ds->layout, ds->ext, ds->next);
	if (why) {
		printf("swapd: swap header: %s\n", why);
		printf("swapd: %s (%llu KiB) refused: no swap\n", ds->where,
		       (unsigned long long)sectors / 2);
		return ERR_INVAL;
	}
	return 0;
}

long disk_store_open(struct store **out, const char *file)
{
	static struct disk_store ds;
	uint64_t sectors = 0;
	long err;

	ds = (struct disk_store){
		.st = { .name = "disk", .kind = SWAPD_STORE_DISK,
			.modes = FILL_MODE_BIT(FILL_COPY) | FILL_MODE_BIT(FILL_GRANT_MAP) |
				 FILL_MODE_BIT(FILL_GRANT_DMA),
			.page_in = disk_page_in, .page_out = disk_page_out },
	};
	err = find_area(&ds, file, &sectors);
	if (!err)
		err = read_layout(&ds, sectors);
	if (err)
		return err;
	ds.st.nslots = ds.layout.nslots;
	ds.st.skipped = ds.layout.nbad;
	ds.st.part = BLOCK_PART(0, ds.partno);
	if (!uuid_is_nil(ds.layout.uuid))
		memcpy(ds.st.area.sa_uuid, ds.layout.uuid, sizeof(ds.st.area.sa_uuid));
	strlcpy(ds.st.area.sa_where, ds.where, sizeof(ds.st.area.sa_where));
	printf("swapd: %s: swap area '%s', pages 1..%u, %u bad page%s skipped\n", ds.where,
	       ds.layout.label, ds.layout.last_page, ds.layout.nbad,
	       ds.layout.nbad == 1 ? "" : "s");
	*out = &ds.st;
	return 0;
}
