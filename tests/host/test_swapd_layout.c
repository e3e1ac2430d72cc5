// SPDX-License-Identifier: MIT
/* user/swapd/layout.c: the mkswap header as swapon checks it, slots to disk pages and runs. */
#include "htest.h"

#include <string.h>

#include "../../user/swapd/layout.c"

#define AREA_PAGES	4096

static uint8_t hdr[SWAP_PAGE];

static void put32(uint8_t *p, uint32_t v, bool big)
{
	for (int i = 0; i < 4; i++)
		p[big ? 3 - i : i] = (uint8_t)(v >> (8 * i));
}

/* What mkswap writes: version 1, last_page, the bad pages, a label, the magic. */
static void mkswap(uint32_t last, const uint32_t *bad, uint32_t nbad, bool big)
{
	memset(hdr, 0, sizeof(hdr));
	put32(hdr + SWAP_HDR_INFO_AT, 1, big);
	put32(hdr + SWAP_HDR_INFO_AT + 4, last, big);
	put32(hdr + SWAP_HDR_INFO_AT + 8, nbad, big);
	memcpy(hdr + SWAP_HDR_INFO_AT + 28, "ferry-swap", 10);
	for (uint32_t i = 0; i < nbad; i++)
		put32(hdr + SWAP_HDR_BADPAGES_AT + 4 * i, bad[i], big);
	memcpy(hdr + SWAP_HDR_MAGIC_AT, "SWAPSPACE2", 10);
}

static bool refused_with(uint64_t area, const char *start)
{
	struct swap_layout l;
	const char *why = swap_layout_parse(hdr, area, &l);

	if (!why || strncmp(why, start, strlen(start)) != 0) {
		fprintf(stderr, "  want '%s...', got '%s'\n", start, why ? why : "(accepted)");
		return false;
	}
	return true;
}

HTEST(good_header)
{
	struct swap_layout l;

	mkswap(AREA_PAGES - 1, NULL, 0, false);
	HCHECK(swap_layout_parse(hdr, AREA_PAGES, &l) == NULL);
	HCHECK_EQ(l.last_page, AREA_PAGES - 1);
	HCHECK_EQ(l.nslots, AREA_PAGES - 1);
	HCHECK_EQ(l.nbad, 0);
	HCHECK(strcmp(l.label, "ferry-swap") == 0);
	/* A smaller area than the partition is fine, as for swapon. */
	mkswap(100, NULL, 0, false);
	HCHECK(swap_layout_parse(hdr, AREA_PAGES, &l) == NULL);
	HCHECK_EQ(l.nslots, 100);
}

HTEST(refusals)
{
	uint32_t bad[SWAP_BADPAGES_MAX + 1];

	mkswap(AREA_PAGES - 1, NULL, 0, false);
	memcpy(hdr + SWAP_HDR_MAGIC_AT, "SWAPSPACE3", 10);
	HCHECK(refused_with(AREA_PAGES, "bad magic"));
	memcpy(hdr + SWAP_HDR_MAGIC_AT, "SWAP-SPACE", 10);
	HCHECK(refused_with(AREA_PAGES, "bad magic (an old v0"));
	mkswap(AREA_PAGES - 1, NULL, 0, false);
	put32(hdr + SWAP_HDR_INFO_AT, 2, false);
	HCHECK(refused_with(AREA_PAGES, "bad version 2 (want 1)"));
	mkswap(AREA_PAGES, NULL, 0, false);
	HCHECK(refused_with(AREA_PAGES, "last_page 4096 past the partition (4096 pages)"));
	mkswap(0xFFFFFFFFu, NULL, 0, false);
	HCHECK(refused_with(AREA_PAGES, "last_page 4294967295 past"));
	mkswap(0, NULL, 0, false);
	HCHECK(refused_with(AREA_PAGES, "empty swap area"));
	for (uint32_t i = 0; i <= SWAP_BADPAGES_MAX; i++)
		bad[i] = i + 1;
	mkswap(AREA_PAGES - 1, bad, SWAP_BADPAGES_MAX + 1, false);
	HCHECK(refused_with(AREA_PAGES, "638 bad pages listed, at most 637 fit"));
	bad[0] = 0;
	mkswap(AREA_PAGES - 1, bad, 1, false);
	HCHECK(refused_with(AREA_PAGES, "bad page 0 outside the area"));
	bad[0] = 10;
	mkswap(9, bad, 1, false);
	HCHECK(refused_with(AREA_PAGES, "bad page 10 outside the area (1..9)"));
	mkswap(3, (const uint32_t[]){ 1, 2, 3 }, 3, false);
	HCHECK(refused_with(AREA_PAGES, "no usable page"));
}

HTEST(byte_swapped_header)
{
	struct swap_layout l;

	mkswap(AREA_PAGES - 1, (const uint32_t[]){ 7 }, 1, true);
	HCHECK(swap_layout_parse(hdr, AREA_PAGES, &l) == NULL);
	HCHECK_EQ(l.last_page, AREA_PAGES - 1);
	HCHECK_EQ(l.nbad, 1);
	HCHECK_EQ(l.bad[0], 7);
}

HTEST(slots_skip_bad_pages)
{
	static const uint32_t bad[] = { 100, 5, 3, 5, 4095 };	/* unsorted, one twice */
	uint64_t good[AREA_PAGES], ngood = 0;
	struct swap_layout l;

	mkswap(AREA_PAGES - 1, bad, 5, false);
	HCHECK(swap_layout_parse(hdr, AREA_PAGES, &l) == NULL);
	HCHECK_EQ(l.nbad, 4);
	HCHECK_EQ(l.bad[0], 3);
	HCHECK_EQ(l.bad[3], 4095);
	HCHECK_EQ(l.nslots, AREA_PAGES - 1 - 4);
	for (uint64_t p = 1; p < AREA_PAGES; p++)
		if (p != 3 && p != 5 && p != 100 && p != 4095)
			good[ngood++] = p;
	HCHECK_EQ(ngood, l.nslots);
	for (uint64_t s = 0; s < l.nslots; s++)
		HCHECK_EQ(swap_layout_page(&l, s), good[s]);
}

HTEST(runs)
{
	static const uint32_t bad[] = { 3, 5 };
	struct block_run runs[GRANT_MAX_PAGES];
	struct swap_layout l;
	int n;

	/* Without bad pages slot s is page s + 1: one run for any cluster. */
	mkswap(AREA_PAGES - 1, NULL, 0, false);
	HCHECK(swap_layout_parse(hdr, AREA_PAGES, &l) == NULL);
	n = swap_layout_runs(&l, 10, GRANT_MAX_PAGES, runs);
	HCHECK_EQ(n, 1);
	HCHECK_EQ(runs[0].br_sector, 11 * 8);
	HCHECK_EQ(runs[0].br_count, GRANT_MAX_PAGES * 8);
	HCHECK_EQ(runs[0].br_offset, 0);
	/* Slots 0..7 over pages 1 2 [3] 4 [5] 6 7 8 9 10: runs 1-2, 4, 6-10. */
	mkswap(AREA_PAGES - 1, bad, 2, false);
	HCHECK(swap_layout_parse(hdr, AREA_PAGES, &l) == NULL);
	n = swap_layout_runs(&l, 0, 8, runs);
	HCHECK_EQ(n, 3);
	HCHECK_EQ(runs[0].br_sector, 8);
	HCHECK_EQ(runs[0].br_count, 16);
	HCHECK_EQ(runs[0].br_offset, 0);
	HCHECK_EQ(runs[1].br_sector, 32);
	HCHECK_EQ(runs[1].br_count, 8);
	HCHECK_EQ(runs[1].br_offset, 2 * 4096);
	HCHECK_EQ(runs[2].br_sector, 48);
	HCHECK_EQ(runs[2].br_count, 40);
	HCHECK_EQ(runs[2].br_offset, 3 * 4096);
	/* The last slot lands on the last page. */
	HCHECK_EQ(swap_layout_page(&l, l.nslots - 1), AREA_PAGES - 1);
}

/* --- swap files: the area through fs's extents --- */

HTEST(file_runs_follow_the_extents)
{
	static const struct fs_extent ext[] = {
		{ .fe_logical = 0, .fe_sector = 1000, .fe_count = 24 },
		{ .fe_logical = 24, .fe_sector = 2000, .fe_count = 40 },
	};
	struct block_run in[2] = { { .br_sector = 16, .br_count = 24, .br_offset = 0 },
				   { .br_sector = 48, .br_count = 8, .br_offset = 12288 } };
	struct block_run out[4];

	HCHECK_EQ(swap_file_runs(ext, 2, in, 2, out, 4), 3);
	HCHECK(out[0].br_sector == 1016 && out[0].br_count == 8 && out[0].br_offset == 0);
	HCHECK(out[1].br_sector == 2000 && out[1].br_count == 16 && out[1].br_offset == 4096);
	HCHECK(out[2].br_sector == 2024 && out[2].br_count == 8 && out[2].br_offset == 12288);
	HCHECK_EQ(swap_file_runs(ext, 2, in, 2, out, 2), -1);	/* no room */
	in[0].br_sector = 60;					/* runs past the file */
	HCHECK_EQ(swap_file_runs(ext, 2, in, 1, out, 4), -1);
}

HTEST(file_pages_not_in_one_piece_hold_no_slot)
{
	/* 8 pages; the second extent starts mid-page 3, so page 3 is split. */
	static const struct fs_extent ext[] = {
		{ .fe_logical = 0, .fe_sector = 500, .fe_count = 28 },
		{ .fe_logical = 28, .fe_sector = 900, .fe_count = 36 },
	};
	static const struct fs_extent split_header[] = {
		{ .fe_logical = 0, .fe_sector = 500, .fe_count = 4 },
		{ .fe_logical = 4, .fe_sector = 900, .fe_count = 60 },
	};
	static const uint32_t bad[] = { 6 };
	struct swap_layout l;
	struct block_run runs[8], disk[8];

	mkswap(7, bad, 1, false);
	HCHECK(swap_layout_parse(hdr, 8, &l) == NULL);
	HCHECK_EQ(l.nslots, 6);
	HCHECK(swap_layout_map_file(&l, ext, 2) == NULL);
	HCHECK_EQ(l.nbad, 2);				/* page 3 joins page 6 */
	HCHECK_EQ(l.nslots, 5);
	HCHECK_EQ(swap_layout_page(&l, 2), 4);		/* slots 0, 1, 2 on pages 1, 2, 4 */
	/* Every slot's page maps to one run of 8 sectors. */
	for (uint64_t s = 0; s < l.nslots; s++) {
		int n = swap_layout_runs(&l, s, 1, runs);

		HCHECK_EQ(n, 1);
		HCHECK_EQ(swap_file_runs(ext, 2, runs, n, disk, 8), 1);
		HCHECK_EQ(disk[0].br_count, 8);
	}
	mkswap(7, NULL, 0, false);
	HCHECK(swap_layout_parse(hdr, 8, &l) == NULL);
	HCHECK(swap_layout_map_file(&l, split_header, 2) != NULL);
	HCHECK(strstr(swap_layout_map_file(&l, split_header, 2), "header"));
}
