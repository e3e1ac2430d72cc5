// SPDX-License-Identifier: MIT
/*
 * The checks, by mode.  What the disk holds comes from scripts/mkdisk.sh:
 * partition 1 is mkswap's (SWAPSPACE2 at byte 4086 of its first page),
 * partition 2 mke2fs's (magic 0xEF53 at byte 1080), free space after it.
 */
#include <fmt.h>
#include <part.h>
#include <proc.h>
#include <stdio.h>
#include <string.h>

#include "blktest.h"

#define SWAP_PART	BLOCK_PART(0, 1)
#define EXT2_PART	BLOCK_PART(0, 2)
#define RAW0		BLOCK_PART(0, 0)

static uint8_t buf[BLK_BUF_BYTES], buf2[BLK_BUF_BYTES];

static const char *how(uint32_t flags)
{
	static const char *const names[] = { "dma", "pio", "dma_lba48", "pio_lba48" };

	return names[((flags & BLOCK_F_PIO) ? 1 : 0) + ((flags & BLOCK_F_LBA48) ? 2 : 0)];
}

/* One line the host checks against the disk's image file. */
static void print_fnv_disk(int disk, const char *part, uint64_t sector, uint32_t count,
			   const void *data)
{
	printf("blktest: fnv disk%d %s %llu+%u = %#llx\n", disk, part, (unsigned long long)sector,
	       count, (unsigned long long)fnv64(data, count * BLOCK_SECTOR_SIZE));
}

static void print_fnv(const char *part, uint64_t sector, uint32_t count, const void *data)
{
	print_fnv_disk(0, part, sector, count, data);
}

static void check_info(struct blk *b)
{
	struct msg d, s, e;
	long err = blk_info(b, RAW0, &d);

	if (!err)
		err = blk_info(b, SWAP_PART, &s);
	if (!err)
		err = blk_info(b, EXT2_PART, &e);
	check("info",
	      !err && s.arg[BLOCK_REPLY_TYPE] == BLOCK_TYPE_MAKE(BLOCK_TYPE_SWAP, PART_SWAP) &&
		      e.arg[BLOCK_REPLY_TYPE] == BLOCK_TYPE_MAKE(BLOCK_TYPE_LINUX, PART_EXT2) &&
		      (d.arg[BLOCK_REPLY_MINE] & 7) == 7 &&
		      (d.arg[BLOCK_REPLY_MODES] & FILL_MODE_BIT(FILL_GRANT_DMA)),
	      "%s", err_str(err));
	if (!err)
		printf("blktest: info disk0 %llu part1 %#llx %llu@%llu part2 %#llx %llu@%llu\n",
		       (unsigned long long)d.arg[BLOCK_REPLY_SECTORS],
		       (unsigned long long)BLOCK_TYPE_BYTE(s.arg[BLOCK_REPLY_TYPE]),
		       (unsigned long long)s.arg[BLOCK_REPLY_SECTORS],
		       (unsigned long long)s.arg[BLOCK_REPLY_START],
		       (unsigned long long)BLOCK_TYPE_BYTE(e.arg[BLOCK_REPLY_TYPE]),
		       (unsigned long long)e.arg[BLOCK_REPLY_SECTORS],
		       (unsigned long long)e.arg[BLOCK_REPLY_START]);
}

static void check_signatures(struct blk *b, uint32_t flags)
{
	char name[48];
	long err = blk_read(b, SWAP_PART, 0, 8, flags, 0, buf);

	snprintf(name, sizeof(name), "swap_signature_%s", how(flags));
	check(name, !err && memcmp(buf + 4086, "SWAPSPACE2", 10) == 0, "%s", err_str(err));
	if (!err)
		print_fnv("part1", 0, 8, buf);
	err = blk_read(b, EXT2_PART, 2, 1, flags, 0, buf);
	snprintf(name, sizeof(name), "ext2_magic_%s", how(flags));
	check(name, !err && buf[56] == 0x53 && buf[57] == 0xEF, "%s", err_str(err));
	if (!err)
		print_fnv("part2", 2, 1, buf);
}

/* The largest request, by PIO and DMA (256 PIO sectors, 32 pages of PRD
 * entries), or without PIO against its two halves (one PRP list of 31
 * entries, or commands cut at the controller's limit, against two). */
static long check_largest(struct blk *b)
{
	long err = blk_read(b, EXT2_PART, 0, BLOCK_MAX_SECTORS, 0, 0, buf);

	if (!err && blk_pio)
		err = blk_read(b, EXT2_PART, 0, BLOCK_MAX_SECTORS, BLOCK_F_PIO, 0, buf2);
	if (!err && !blk_pio)
		err = blk_read(b, EXT2_PART, 0, BLOCK_MAX_SECTORS / 2, 0, 0, buf2);
	if (!err && !blk_pio)
		err = blk_read(b, EXT2_PART, BLOCK_MAX_SECTORS / 2, BLOCK_MAX_SECTORS / 2, 0, 0,
			       buf2 + BLK_BUF_BYTES / 2);
	check(blk_pio ? "largest_pio_equals_dma" : "largest_equals_its_halves",
	      !err && memcmp(buf, buf2, BLK_BUF_BYTES) == 0, "%s", err_str(err));
	return err;
}

void cases_read(struct blk *b)
{
	static const uint32_t ways[] = { 0, BLOCK_F_LBA48, BLOCK_F_PIO,
					 BLOCK_F_PIO | BLOCK_F_LBA48 };
	uint64_t raw_end;
	struct msg d;
	long err;

	check_info(b);
	for (size_t i = 0; i < (blk_pio ? 4u : 2u); i++)	/* no PIO: the first two */
		check_signatures(b, ways[i]);
	err = blk_read(b, RAW0, 0, 1, 0, 0, buf);
	check("mbr_raw", !err && buf[510] == 0x55 && buf[511] == 0xAA, "%s", err_str(err));
	err = check_largest(b);
	if (!err)
		print_fnv("part2", 0, BLOCK_MAX_SECTORS, buf);
	/* An offset into the data area: the rest of the answer is zeros. */
	memset(buf, 0xAA, sizeof(buf));
	err = blk_read(b, EXT2_PART, 2, 1, 0, 1536, buf);
	check("offset_and_zero_fill", !err && buf[1536 + 56] == 0x53 && buf[1536 + 57] == 0xEF &&
		      buf[0] == 0 && buf[1535] == 0 && buf[2048] == 0 && buf[4095] == 0,
	      "%s", err_str(err));
	err = blk_read(b, EXT2_PART, 32767, 1, 0, 0, buf);
	check("last_sector_of_partition", !err, "%s", err_str(err));
	err = blk_info(b, RAW0, &d);
	raw_end = err ? 0 : d.arg[BLOCK_REPLY_SECTORS];
	err = err ? err : blk_read(b, RAW0, raw_end - 1, 1, blk_pio, 0, buf);
	check("last_sector_of_disk", !err, "%s", err_str(err));
	err = blk_read(b, EXT2_PART, 32767, 2, 0, 0, buf);
	check("past_partition_end", err == ERR_RANGE, "got %s", err_str(err));
	err = blk_read(b, SWAP_PART, 32768, 1, 0, 0, buf);
	check("at_partition_end", err == ERR_RANGE, "got %s", err_str(err));
	err = blk_read(b, RAW0, raw_end, 1, 0, 0, buf);
	check("past_disk_end", err == ERR_RANGE, "got %s", err_str(err));
}

static long request(struct blk *b, uint32_t op, uint64_t part, uint64_t sector, uint64_t count,
		    uint64_t mode, uint64_t grant, uint64_t offset)
{
	struct msg req = { .op = op, .arg = { part, sector, count, mode, grant, offset } };
	struct msg rep = { .page = buf, .flags = MSG_WITH_PAGES(GRANT_MAX_PAGES) };

	return blk_call(b, &req, &rep);
}

static void check_rogue_run(void)
{
	char args[32];
	long status = -1, err;

	snprintf(args, sizeof(args), "blkrogue %s:rogue", blk_driver);
	err = proc_run("blkrogue", args, 30 * SEC_NS, &status);

	check("rogue_refused", err == 0 && status == 0, "%s, status %ld", err_str(err), status);
}

/* Malformed and out-of-bounds requests from an allowed client; then a stranger. */
/* Where a device's interrupts go is the kernel's to say, for a driver the
 * boot configuration binds: blktest asks for entry 0 of every function of
 * bus 0 and is refused each time (ERR_PERM where there is a function). */
static void check_msi_refused(void)
{
	long port = sys_port_create(1), err, perm = 0, granted = 0;

	for (unsigned long bdf = 0; port >= 0 && bdf < 256; bdf++) {
		err = sys_msi_attach(bdf, 0, 0, port);
		perm += err == ERR_PERM;
		granted += err >= 0;
	}
	check("refused_msi_unbound", port >= 0 && perm > 0 && !granted,
	      "%ld functions refused, %ld attached", perm, granted);
	if (port >= 0)
		sys_port_destroy(port);
}

void cases_perm(struct blk *b)
{
	static const struct {
		const char *name;
		uint32_t op;
		uint64_t part, sector, count, mode, grant, offset;
		long want;
	} bad[] = {
		{ "count_zero", BLOCK_READ, EXT2_PART, 0, 0, FILL_COPY, 0, 0, ERR_INVAL },
		{ "count_too_big", BLOCK_READ, EXT2_PART, 0, 257, FILL_COPY, 0, 0, ERR_INVAL },
		{ "offset_misaligned", BLOCK_READ, EXT2_PART, 0, 1, FILL_COPY, 0, 100, ERR_INVAL },
		{ "offset_past_area", BLOCK_READ, EXT2_PART, 0, 1, FILL_COPY, 0, BLK_BUF_BYTES,
		  ERR_RANGE },
		{ "sector_huge", BLOCK_READ, EXT2_PART, 1ULL << 63, 8, FILL_COPY, 0, 0, ERR_RANGE },
		{ "run_across_end", BLOCK_READ, SWAP_PART, 32760, 16, FILL_COPY, 0, 0, ERR_RANGE },
		{ "write_past_end", BLOCK_WRITE, SWAP_PART, 32768, 1, FILL_COPY, 0, 0, ERR_RANGE },
		{ "mode_unknown", BLOCK_READ, EXT2_PART, 0, 1, 7, 0, 0, ERR_INVAL },
		{ "flag_unknown", BLOCK_READ, EXT2_PART, 0, 1, 0x800, 0, 0, ERR_INVAL },
		{ "runs_in_copy_mode", BLOCK_READ, EXT2_PART, 0, 1, FILL_COPY | BLOCK_F_RUNS, 0, 0,
		  ERR_INVAL },
		{ "grant_not_held", BLOCK_READ, EXT2_PART, 0, 8, FILL_GRANT_DMA, 0x10001, 0,
		  ERR_BADHANDLE },
		{ "write_without_data", BLOCK_WRITE, EXT2_PART, 0, 8, FILL_COPY, 0, 0, ERR_INVAL },
		{ "partition_not_configured", BLOCK_READ, BLOCK_PART(0, 5), 0, 1, FILL_COPY, 0, 0,
		  ERR_PERM },
		{ "partition_absent", BLOCK_READ, BLOCK_PART(0, 3), 0, 1, FILL_COPY, 0, 0, ERR_NOENT },
		{ "unknown_op", BLOCK_INFO + 40, EXT2_PART, 0, 0, 0, 0, 0, ERR_NOSYS },
	};
	char name[48];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long err = request(b, bad[i].op, bad[i].part, bad[i].sector, bad[i].count,
				   bad[i].mode, bad[i].grant, bad[i].offset);

		snprintf(name, sizeof(name), "refused_%s", bad[i].name);
		check(name, err == bad[i].want, "want %s, got %s", err_str(bad[i].want),
		      err_str(err));
	}
	if (!blk_pio) {
		long err = request(b, BLOCK_READ, EXT2_PART, 0, 1, FILL_COPY | BLOCK_F_PIO, 0, 0);

		check("refused_pio", err == ERR_INVAL, "got %s", err_str(err));
	}
	{
		struct msg m = { .op = BLOCK_INFO, .arg = { RAW0 } }, rep;

		sys_send(b->c.port, &m);	/* no reply token: ata must drop it and go on */
		check("send_without_call_ignored", blk_info(b, RAW0, &rep) == 0, "ata stopped");
	}
	check_msi_refused();
	check_rogue_run();
}

/* Run as "blkrogue": a program the policy does not name. */
void cases_rogue(struct blk *b)
{
	static const uint64_t parts[] = { RAW0, SWAP_PART, EXT2_PART };
	struct msg rep;
	char name[48];

	check("rogue_info", blk_info(b, RAW0, &rep) == ERR_PERM, "not refused");
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		long r = blk_read(b, parts[i], 0, 8, 0, 0, buf);
		long w = blk_write(b, parts[i], 0, 8, 0, 0, buf);

		snprintf(name, sizeof(name), "rogue_part%llu", (unsigned long long)parts[i]);
		check(name, r == ERR_PERM && w == ERR_PERM, "read %s, write %s", err_str(r),
		      err_str(w));
	}
}

static const struct pager_way ways[] = {
	{ .name = "copy", .fill = FILL_COPY },
	{ .name = "grant_pio", .fill = FILL_GRANT_MAP, .flags = BLOCK_F_PIO },	/* the window */
	{ .name = "grant_dma", .fill = FILL_GRANT_MAP },	/* a mapped grant, filled by DMA */
	{ .name = "dma", .fill = FILL_GRANT_DMA },		/* device addresses only */
};

void cases_pager(struct blk *b)
{
	static const struct {
		const char *name;
		uint64_t obj, offset;
		int npages;
	} objs[] = {
		{ "ext2", EXT2_PART, 0, 16 },
		{ "swap_header", SWAP_PART, 0, 8 },
		{ "scattered", EXT2_PART | OBJ_SCATTERED, 0, 16 },
	};
	struct sys_stats st;
	char name[64];

	for (size_t w = 0; w < sizeof(ways) / sizeof(ways[0]); w++) {
		if ((ways[w].flags & BLOCK_F_PIO) && !blk_pio)
			continue;	/* no PIO: nothing through the window */
		for (size_t o = 0; o < sizeof(objs) / sizeof(objs[0]); o++) {
			long err = pager_run(b, &ways[w], objs[o].obj, objs[o].offset,
					     objs[o].npages, 0);

			snprintf(name, sizeof(name), "pager_%s_%s", ways[w].name, objs[o].name);
			check(name, err == 0, "%s", err_str(err));
		}
	}
	sys_stats(&st);
	check("pager_nothing_left", st.grants_live == 0 && st.requests_live == 0,
	      "%llu grants, %llu requests live", (unsigned long long)st.grants_live,
	      (unsigned long long)st.requests_live);
}

/* A client naming a grant another client forwarded is refused, in map
 * and DMA mode; the grant's owner then uses it as if nothing happened. */
void cases_foreign_grant(struct blk *b)
{
	static const struct pager_way strangers[] = {
		{ .name = "grant", .fill = FILL_GRANT_MAP, .stranger = true },
		{ .name = "dma", .fill = FILL_GRANT_DMA, .stranger = true },
	};
	char name[64];

	for (size_t w = 0; w < sizeof(strangers) / sizeof(strangers[0]); w++) {
		long err = pager_run(b, &strangers[w], EXT2_PART, 0, 1, 0);

		snprintf(name, sizeof(name), "foreign_grant_refused_%s", strangers[w].name);
		check(name, err == 0, "%s", err_str(err));
	}
}

static void wrote(uint64_t lba, uint32_t count, unsigned seed, uint32_t skip)
{
	printf("blktest: wrote disk0 lba %llu count %u seed %u skip %u\n", (unsigned long long)lba,
	       count, seed, skip);
}

/* Copy-mode writes to the free space, read back the other way. */
static void check_copy_write(struct blk *b, const char *name, uint64_t lba, uint32_t count,
			     uint32_t wflags, uint32_t rflags, uint32_t offset, unsigned seed)
{
	long err;

	pattern_fill(buf2, sizeof(buf2), seed);
	err = blk_write(b, RAW0, lba, count, wflags, offset, buf2);
	if (!err)
		err = blk_read(b, RAW0, lba, count, rflags, 0, buf);
	check(name, !err && memcmp(buf, buf2 + offset, count * BLOCK_SECTOR_SIZE) == 0, "%s",
	      err_str(err));
	if (!err)
		wrote(lba, count, seed, offset);
}

void cases_write(struct blk *b)
{
	struct msg req = { .op = BLOCK_FLUSH, .arg = { RAW0 } }, rep = { 0 };
	char name[64];
	uint64_t lba = DISK0_FREE_LBA + 128;

	check_copy_write(b, blk_pio ? "write_dma_read_pio" : "write_read_back", DISK0_FREE_LBA,
			 64, 0, blk_pio, 0, 1);
	check_copy_write(b, blk_pio ? "write_pio_read_dma" : "write_at_offset_read_back",
			 DISK0_FREE_LBA + 64, 24, blk_pio, 0, 512, 2);
	check_copy_write(b, "write_lba48", DISK0_FREE_LBA + 96, 8, BLOCK_F_LBA48,
			 BLOCK_F_LBA48 | blk_pio, 0, 3);
	check("flush", blk_call(b, &req, &rep) == 0, "refused");
	for (size_t w = 0; w < sizeof(ways) / sizeof(ways[0]); w++, lba += 64) {
		long err;

		if ((ways[w].flags & BLOCK_F_PIO) && !blk_pio)
			continue;
		err = pager_run(b, &ways[w], RAW0, lba * BLOCK_SECTOR_SIZE, 8, 4 + (unsigned)w);

		snprintf(name, sizeof(name), "pageout_%s", ways[w].name);
		check(name, err == 0, "%s", err_str(err));
		if (!err)
			wrote(lba, 64, 4 + (unsigned)w, 0);
	}
	check("pageout_dma_scattered",
	      pager_run(b, &ways[3], RAW0 | OBJ_SCATTERED, 0, 4, 9) == 0, "failed");
}

/* faults:T_DMA,T_PIO,P_DMA,P_PIO,W — sectors of disk 0 with injected errors;
 * disk 1 hangs (a drive that answers nothing in time). */
void cases_faults(struct blk *b, const char *spec)
{
	uint64_t s[5];
	const char *p = spec;
	long err, t0;

	for (int i = 0; i < 5; i++) {
		if (str_to_u64(p, 10, &s[i], &p) || (i < 4 && *p++ != ',')) {
			check("faults_spec", false, "bad spec '%s'", spec);
			return;
		}
	}
	check("fault_transient_dma", blk_read(b, RAW0, s[0], 8, 0, 0, buf) == 0, "not retried");
	check("fault_transient_pio", blk_read(b, RAW0, s[1], 8, BLOCK_F_PIO, 0, buf) == 0,
	      "not retried");
	err = blk_read(b, RAW0, s[2], 8, 0, 0, buf);
	check("fault_permanent_dma", err == ERR_IO, "got %s", err_str(err));
	err = blk_read(b, RAW0, s[3], 8, BLOCK_F_PIO, 0, buf);
	check("fault_permanent_pio", err == ERR_IO, "got %s", err_str(err));
	err = blk_write(b, RAW0, s[4], 8, 0, 0, buf);
	check("fault_write_dma", err == ERR_IO, "got %s", err_str(err));
	err = blk_write(b, RAW0, s[4], 8, BLOCK_F_PIO, 0, buf);
	check("fault_write_pio", err == ERR_IO, "got %s", err_str(err));
	t0 = sys_clock_ns();
	err = blk_read(b, BLOCK_PART(1, 0), 0, 8, 0, 0, buf);
	check("hung_disk_dma", err == ERR_IO, "got %s after %ld ms", err_str(err),
	      (sys_clock_ns() - t0) / MSEC_NS);
	t0 = sys_clock_ns();
	err = blk_read(b, BLOCK_PART(1, 0), 0, 8, BLOCK_F_PIO, 0, buf);
	check("hung_disk_pio", err == ERR_IO, "got %s after %ld ms", err_str(err),
	      (sys_clock_ns() - t0) / MSEC_NS);
	err = blk_read(b, RAW0, 0, 1, 0, 0, buf);
	check("still_serving", !err && buf[510] == 0x55 && buf[511] == 0xAA, "%s", err_str(err));
	err = blk_read(b, EXT2_PART, 2, 1, BLOCK_F_PIO, 0, buf);
	check("still_serving_pio", !err && buf[56] == 0x53, "%s", err_str(err));
}

/* ata started with dma=off: no DMA mode offered, DMA grants refused, the
 * rest by PIO (through the window for a mapped grant). */
void cases_pio_only(struct blk *b)
{
	struct msg d;
	long err = blk_info(b, RAW0, &d);

	check("pio_only_modes", !err && !(d.arg[BLOCK_REPLY_MODES] & FILL_MODE_BIT(FILL_GRANT_DMA)) &&
		      (d.arg[BLOCK_REPLY_MODES] & FILL_MODE_BIT(FILL_GRANT_MAP)),
	      "%s, modes %#llx", err_str(err), (unsigned long long)d.arg[BLOCK_REPLY_MODES]);
	err = blk_read(b, SWAP_PART, 0, 8, 0, 0, buf);
	check("pio_only_read", !err && memcmp(buf + 4086, "SWAPSPACE2", 10) == 0, "%s",
	      err_str(err));
	err = request(b, BLOCK_READ, EXT2_PART, 0, 8, FILL_GRANT_DMA, 0x10001, 0);
	check("pio_only_refuses_dma_grants", err == ERR_INVAL, "got %s", err_str(err));
	err = pager_run(b, &ways[2], EXT2_PART, 0, 16, 0);
	check("pio_only_mapped_grant_by_window", err == 0, "%s", err_str(err));
}

/* A second disk, on the secondary channel (IRQ 15, the second bus-master
 * register set): raw reads and a write, by DMA and PIO. */
void cases_second(struct blk *b)
{
	uint64_t disk1 = BLOCK_PART(1, 0);
	struct msg d;
	long err = blk_info(b, disk1, &d);

	check("second_disk_info", !err && d.arg[BLOCK_REPLY_SECTORS] > 200, "%s", err_str(err));
	err = blk_read(b, disk1, 8, 64, 0, 0, buf);
	if (!err)
		err = blk_read(b, disk1, 8, 64, BLOCK_F_PIO, 0, buf2);
	check("second_disk_read", !err && memcmp(buf, buf2, 64 * BLOCK_SECTOR_SIZE) == 0, "%s",
	      err_str(err));
	if (!err)
		print_fnv_disk(1, "raw", 8, 64, buf);
	pattern_fill(buf2, sizeof(buf2), 11);
	err = blk_write(b, disk1, 100, 16, 0, 0, buf2);
	if (!err)
		err = blk_read(b, disk1, 100, 16, BLOCK_F_PIO, 0, buf);
	check("second_disk_write", !err && memcmp(buf, buf2, 16 * BLOCK_SECTOR_SIZE) == 0, "%s",
	      err_str(err));
}

/*
 * A page-in whose pager gave up while ata still had the DMA programmed
 * (disk 1 answers every command 2 s late): the kernel must not free those
 * frames, or the transfer landing later writes into whoever gets them
 * next; nor map them at the fault when the pager claims success anyway.
 * Right after the failure we take fresh memory (freed frames are the
 * first reused), fill it, and look again once every late transfer has
 * landed.
 */
#define GIVEUP_PAGES	512
#define GIVEUP_LATE_NS	(6L * SEC_NS)	/* ata's two attempts on disk 1, and more */

static int corrupted_pages(const uint8_t *mem, unsigned seed)
{
	static uint8_t want[MSG_PAGE_SIZE];
	int bad = 0;

	for (int p = 0; p < GIVEUP_PAGES; p++) {
		pattern_fill(want, sizeof(want), seed + (unsigned)p);
		bad += memcmp(mem + (size_t)p * MSG_PAGE_SIZE, want, sizeof(want)) != 0;
	}
	return bad;
}

void cases_giveup(struct blk *b)
{
	static const struct pager_way ways[] = {
		{ .name = "dma", .fill = FILL_GRANT_DMA, .giveup = GIVEUP_FAIL },
		{ .name = "grant_dma", .fill = FILL_GRANT_MAP, .giveup = GIVEUP_FAIL },
		{ .name = "claimed", .fill = FILL_GRANT_DMA, .giveup = GIVEUP_CLAIM },
	};
	char name[64];

	for (size_t w = 0; w < sizeof(ways) / sizeof(ways[0]); w++) {
		struct sys_stats before, after;
		long err, ret;
		uint8_t *mem;
		int bad;

		sys_stats(&before);
		err = pager_run(b, &ways[w], BLOCK_PART(1, 0), 0, 1, 0);
		ret = sys_mem_map(NULL, GIVEUP_PAGES * MSG_PAGE_SIZE, PROT_READ | PROT_WRITE);
		if (ret < 0) {
			check("giveup_memory", false, "%s", err_str(ret));
			return;
		}
		mem = (uint8_t *)ret;
		for (int p = 0; p < GIVEUP_PAGES; p++)
			pattern_fill(mem + (size_t)p * MSG_PAGE_SIZE, MSG_PAGE_SIZE,
				     40 + (unsigned)p);
		sys_sleep(GIVEUP_LATE_NS);
		bad = corrupted_pages(mem, 40);
		sys_stats(&after);
		snprintf(name, sizeof(name), "giveup_%s_failed", ways[w].name);
		check(name, err == ERR_IO, "the fault did not fail: %s", err_str(err));
		snprintf(name, sizeof(name), "giveup_%s_frames_safe", ways[w].name);
		/* Held back until the transfer cannot land: quarantined for good
		 * without an IOMMU, parked until ata is done with one. */
		check(name, bad == 0 && (after.frames_quarantined > before.frames_quarantined ||
					 after.frames_parked > before.frames_parked),
		      "%d of %d fresh pages changed after the late DMA; %llu frames quarantined,"
		      " %llu parked", bad, GIVEUP_PAGES,
		      (unsigned long long)(after.frames_quarantined - before.frames_quarantined),
		      (unsigned long long)(after.frames_parked - before.frames_parked));
		sys_mem_unmap(mem, GIVEUP_PAGES * MSG_PAGE_SIZE);
	}
}
