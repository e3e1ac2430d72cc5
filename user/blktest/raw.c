// SPDX-License-Identifier: MIT
/*
 * The checks of a driver that serves the disk whole (raw=blktest, nvme
 * until it serves partitions): the partition cases' reads, bounds,
 * refusals, grants in every fill mode and writes, at the disk addresses
 * scripts/mkdisk.sh puts the partitions at.  No PIO: BLOCK_F_PIO is
 * refused by a driver without it.
 */
#include <fmt.h>
#include <proc.h>
#include <stdio.h>
#include <string.h>

#include "blktest.h"

#define RAW0		BLOCK_PART(0, 0)
#define SWAP_LBA	2048	/* partition 1 */
#define EXT2_LBA	34816	/* partition 2 */

static uint8_t buf[BLK_BUF_BYTES], buf2[BLK_BUF_BYTES];

static void fnv_line(uint64_t sector, uint32_t count, const void *data)
{
	printf("blktest: fnv disk0 raw %llu+%u = %#llx\n", (unsigned long long)sector, count,
	       (unsigned long long)fnv64(data, count * BLOCK_SECTOR_SIZE));
}

static long request(struct blk *b, uint32_t op, uint64_t part, uint64_t sector, uint64_t count,
		    uint64_t mode, uint64_t grant, uint64_t offset)
{
	struct msg req = { .op = op, .arg = { part, sector, count, mode, grant, offset } };
	struct msg rep = { .page = buf, .flags = MSG_WITH_PAGES(GRANT_MAX_PAGES) };

	return blk_call(b, &req, &rep);
}

static uint64_t raw_reads(struct blk *b)
{
	struct msg d;
	uint64_t end;
	long err = blk_info(b, RAW0, &d);

	check("raw_info", !err && (d.arg[BLOCK_REPLY_MINE] & 1) &&
		  (d.arg[BLOCK_REPLY_MODES] & FILL_MODE_BIT(FILL_GRANT_DMA)),
	      "%s", err_str(err));
	end = err ? 0 : d.arg[BLOCK_REPLY_SECTORS];
	if (!err)
		printf("blktest: info disk0 %llu\n", (unsigned long long)end);
	err = blk_read(b, RAW0, 0, 1, 0, 0, buf);
	check("mbr_raw", !err && buf[510] == 0x55 && buf[511] == 0xAA, "%s", err_str(err));
	err = blk_read(b, RAW0, SWAP_LBA, 8, 0, 0, buf);
	check("swap_signature", !err && memcmp(buf + 4086, "SWAPSPACE2", 10) == 0, "%s",
	      err_str(err));
	if (!err)
		fnv_line(SWAP_LBA, 8, buf);
	/* The largest request: 32 pages, more than one command where the
	 * controller's limit is lower, a PRP list per command. */
	err = blk_read(b, RAW0, EXT2_LBA, BLOCK_MAX_SECTORS, 0, 0, buf);
	check("largest", !err && buf[1080] == 0x53 && buf[1081] == 0xEF, "%s", err_str(err));
	if (!err)
		fnv_line(EXT2_LBA, BLOCK_MAX_SECTORS, buf);
	memset(buf, 0xAA, sizeof(buf));
	err = blk_read(b, RAW0, EXT2_LBA + 2, 1, 0, 1536, buf);
	check("offset_and_zero_fill", !err && buf[1536 + 56] == 0x53 && buf[1536 + 57] == 0xEF &&
		      buf[0] == 0 && buf[1535] == 0 && buf[2048] == 0 && buf[4095] == 0,
	      "%s", err_str(err));
	/* Two pages exactly (PRP2 names the second), three (a list), unaligned. */
	err = blk_read(b, RAW0, EXT2_LBA, 16, 0, 0, buf);
	if (!err)
		err = blk_read(b, RAW0, EXT2_LBA, 24, 0, 3584, buf2);
	check("prp_shapes", !err && memcmp(buf, buf2 + 3584, 16 * BLOCK_SECTOR_SIZE) == 0, "%s",
	      err_str(err));
	err = end ? blk_read(b, RAW0, end - 1, 1, 0, 0, buf) : ERR_NOENT;
	check("last_sector_of_disk", !err, "%s", err_str(err));
	err = blk_read(b, RAW0, end, 1, 0, 0, buf);
	check("past_disk_end", err == ERR_RANGE, "got %s", err_str(err));
	err = blk_read(b, RAW0, end - 4, 8, 0, 0, buf);
	check("run_across_end", err == ERR_RANGE, "got %s", err_str(err));
	return end;
}

/* Malformed and out-of-bounds requests, then a stranger. */
static void raw_refusals(struct blk *b)
{
	static const struct {
		const char *name;
		uint32_t op;
		uint64_t part, sector, count, mode, grant, offset;
		long want;
	} bad[] = {
		{ "count_zero", BLOCK_READ, RAW0, 0, 0, FILL_COPY, 0, 0, ERR_INVAL },
		{ "count_too_big", BLOCK_READ, RAW0, 0, 257, FILL_COPY, 0, 0, ERR_INVAL },
		{ "offset_misaligned", BLOCK_READ, RAW0, 0, 1, FILL_COPY, 0, 100, ERR_INVAL },
		{ "offset_past_area", BLOCK_READ, RAW0, 0, 1, FILL_COPY, 0, BLK_BUF_BYTES, ERR_RANGE },
		{ "sector_huge", BLOCK_READ, RAW0, 1ULL << 63, 8, FILL_COPY, 0, 0, ERR_RANGE },
		{ "mode_unknown", BLOCK_READ, RAW0, 0, 1, 7, 0, 0, ERR_INVAL },
		{ "flag_unknown", BLOCK_READ, RAW0, 0, 1, 0x800, 0, 0, ERR_INVAL },
		{ "pio", BLOCK_READ, RAW0, 0, 1, FILL_COPY | BLOCK_F_PIO, 0, 0, ERR_INVAL },
		{ "runs_in_copy_mode", BLOCK_READ, RAW0, 0, 1, FILL_COPY | BLOCK_F_RUNS, 0, 0,
		  ERR_INVAL },
		{ "grant_not_held", BLOCK_READ, RAW0, 0, 8, FILL_GRANT_DMA, 0x10001, 0, ERR_BADHANDLE },
		{ "write_without_data", BLOCK_WRITE, RAW0, 0, 8, FILL_COPY, 0, 0, ERR_INVAL },
		{ "partition_not_given", BLOCK_READ, BLOCK_PART(0, 5), 0, 1, FILL_COPY, 0, 0,
		  ERR_PERM },
		{ "disk_absent", BLOCK_READ, BLOCK_PART(3, 0), 0, 1, FILL_COPY, 0, 0, ERR_NOENT },
		{ "disk_out_of_range", BLOCK_READ, BLOCK_PART(9, 0), 0, 1, FILL_COPY, 0, 0, ERR_PERM },
		{ "unknown_op", BLOCK_INFO + 40, RAW0, 0, 0, 0, 0, 0, ERR_NOSYS },
	};
	struct msg m = { .op = BLOCK_INFO, .arg = { RAW0 } }, rep;
	long status = -1, err;
	char name[48];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = request(b, bad[i].op, bad[i].part, bad[i].sector, bad[i].count, bad[i].mode,
			      bad[i].grant, bad[i].offset);
		snprintf(name, sizeof(name), "refused_%s", bad[i].name);
		check(name, err == bad[i].want, "want %s, got %s", err_str(bad[i].want),
		      err_str(err));
	}
	sys_send(b->c.port, &m);	/* no reply token: dropped, and the driver goes on */
	check("send_without_call_ignored", blk_info(b, RAW0, &rep) == 0, "driver stopped");
	snprintf(name, sizeof(name), "blkrogue %s:rogue", blk_driver);
	err = proc_run("blkrogue", name, 30 * SEC_NS, &status);
	check("rogue_refused", err == 0 && status == 0, "%s, status %ld", err_str(err), status);
}

static const struct pager_way raw_ways[] = {
	{ .name = "copy", .fill = FILL_COPY },
	{ .name = "grant", .fill = FILL_GRANT_MAP },	/* a mapped grant, filled by DMA */
	{ .name = "dma", .fill = FILL_GRANT_DMA },	/* device addresses only */
};

static void raw_pager(struct blk *b)
{
	struct sys_stats st;
	char name[64];

	for (size_t w = 0; w < sizeof(raw_ways) / sizeof(raw_ways[0]); w++) {
		long err = pager_run(b, &raw_ways[w], RAW0, EXT2_LBA * BLOCK_SECTOR_SIZE, 16, 0);

		snprintf(name, sizeof(name), "pager_%s_ext2", raw_ways[w].name);
		check(name, err == 0, "%s", err_str(err));
		err = pager_run(b, &raw_ways[w], RAW0 | OBJ_SCATTERED, 0, 16, 0);
		snprintf(name, sizeof(name), "pager_%s_scattered", raw_ways[w].name);
		check(name, err == 0, "%s", err_str(err));
	}
	for (size_t w = 1; w < sizeof(raw_ways) / sizeof(raw_ways[0]); w++) {
		struct pager_way stranger = raw_ways[w];
		long err;

		stranger.stranger = true;
		err = pager_run(b, &stranger, RAW0, EXT2_LBA * BLOCK_SECTOR_SIZE, 1, 0);
		snprintf(name, sizeof(name), "foreign_grant_refused_%s", raw_ways[w].name);
		check(name, err == 0, "%s", err_str(err));
	}
	sys_stats(&st);
	check("pager_nothing_left", st.grants_live == 0 && st.requests_live == 0,
	      "%llu grants, %llu requests live", (unsigned long long)st.grants_live,
	      (unsigned long long)st.requests_live);
}

void cases_raw(struct blk *b)
{
	raw_reads(b);
	raw_refusals(b);
	raw_pager(b);
}

static void wrote(uint64_t lba, uint32_t count, unsigned seed, uint32_t skip)
{
	printf("blktest: wrote disk0 lba %llu count %u seed %u skip %u\n", (unsigned long long)lba,
	       count, seed, skip);
}

/* Writes to the free space after partition 2, read back; page-outs. */
void cases_raw_write(struct blk *b)
{
	struct msg req = { .op = BLOCK_FLUSH, .arg = { RAW0 } }, rep = { 0 };
	uint64_t lba = DISK0_FREE_LBA + 512;
	char name[64];
	long err;

	pattern_fill(buf2, sizeof(buf2), 1);
	err = blk_write(b, RAW0, DISK0_FREE_LBA, BLOCK_MAX_SECTORS, 0, 0, buf2);
	if (!err)
		err = blk_read(b, RAW0, DISK0_FREE_LBA, BLOCK_MAX_SECTORS, 0, 0, buf);
	check("write_largest", !err && memcmp(buf, buf2, BLK_BUF_BYTES) == 0, "%s", err_str(err));
	if (!err)
		wrote(DISK0_FREE_LBA, BLOCK_MAX_SECTORS, 1, 0);
	pattern_fill(buf2, sizeof(buf2), 2);
	err = blk_write(b, RAW0, DISK0_FREE_LBA + 256, 24, 0, 512, buf2);
	if (!err)
		err = blk_read(b, RAW0, DISK0_FREE_LBA + 256, 24, 0, 0, buf);
	check("write_at_offset", !err && memcmp(buf, buf2 + 512, 24 * BLOCK_SECTOR_SIZE) == 0,
	      "%s", err_str(err));
	if (!err)
		wrote(DISK0_FREE_LBA + 256, 24, 2, 512);
	check("flush", blk_call(b, &req, &rep) == 0, "refused");
	for (size_t w = 0; w < sizeof(raw_ways) / sizeof(raw_ways[0]); w++, lba += 64) {
		err = pager_run(b, &raw_ways[w], RAW0, lba * BLOCK_SECTOR_SIZE, 8, 4 + (unsigned)w);
		snprintf(name, sizeof(name), "pageout_%s", raw_ways[w].name);
		check(name, err == 0, "%s", err_str(err));
		if (!err)
			wrote(lba, 64, 4 + (unsigned)w, 0);
	}
}

/*
 * rawfaults:T,P,W — sectors of disk 0 where QEMU's blkdebug fails a read
 * once (T), every read (P) and every write (W); disk 1 is so slow that a
 * command misses its deadline and the driver resets the controller.
 */
void cases_raw_faults(struct blk *b, const char *spec)
{
	uint64_t s[3];
	const char *p = spec;
	long err, t0;

	for (int i = 0; i < 3; i++) {
		if (str_to_u64(p, 10, &s[i], &p) || (i < 2 && *p++ != ',')) {
			check("faults_spec", false, "bad spec '%s'", spec);
			return;
		}
	}
	check("fault_transient", blk_read(b, RAW0, s[0], 8, 0, 0, buf) == 0, "not retried");
	err = blk_read(b, RAW0, s[1], 8, 0, 0, buf);
	check("fault_permanent", err == ERR_IO, "got %s", err_str(err));
	err = blk_write(b, RAW0, s[2], 8, 0, 0, buf);
	check("fault_write", err == ERR_IO, "got %s", err_str(err));
	t0 = sys_clock_ns();
	err = blk_read(b, BLOCK_PART(1, 0), 0, 8, 0, 0, buf);
	check("slow_disk_times_out", err == ERR_IO, "got %s after %ld ms", err_str(err),
	      (sys_clock_ns() - t0) / MSEC_NS);
	/* After the controller's reset, the next command works. */
	err = blk_read(b, RAW0, 0, 1, 0, 0, buf);
	check("next_command_works", !err && buf[510] == 0x55 && buf[511] == 0xAA, "%s",
	      err_str(err));
	err = blk_read(b, RAW0, s[0] + 64, 8, 0, 0, buf);
	check("still_serving", !err, "%s", err_str(err));
}

/* One DMA page-in of 4 pages through the driver: kdb's PRP view watches it. */
void cases_raw_prp(struct blk *b)
{
	long err = pager_run(b, &raw_ways[2], RAW0, EXT2_LBA * BLOCK_SECTOR_SIZE, 4, 0);

	check("pager_dma_for_kdb", err == 0, "%s", err_str(err));
}
