// SPDX-License-Identifier: MIT
/*
 * The swap area: its mkswap header, checked like Linux's swapon
 * (mm/swapfile.c, read_swap_header and setup_swap_map), and where each
 * slot lives.  The header is disk contents, so untrusted input: every
 * field is checked before any is used, and a header is taken whole or
 * refused with the reason.
 *
 * Layout, as Linux lays swap out: page 0 is the header, pages
 * 1..last_page hold swapped pages, except the bad pages the header lists.
 * Slot s is the (s+1)-th good page, so an area without bad pages puts slot
 * s at page s + 1, and slots keep their order on the disk: a run of slots
 * is one run of sectors unless a bad page lies inside it.
 */
#include <fmt.h>
#include <string.h>

#include "swapd.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t swab32(uint32_t v)
{
	return v << 24 | (v & 0xFF00) << 8 | (v >> 8 & 0xFF00) | v >> 24;
}

/* Inserts v into the sorted list a[0..*n); a page listed twice counts once. */
static void insert_sorted(uint32_t *a, uint32_t *n, uint32_t v)
{
	uint32_t i = *n;

	while (i > 0 && a[i - 1] > v)
		i--;
	if (i > 0 && a[i - 1] == v)
		return;
	memmove(a + i + 1, a + i, (*n - i) * sizeof(a[0]));
	a[i] = v;
	(*n)++;
}

const char *swap_layout_parse(const uint8_t page[SWAP_PAGE], uint64_t area_pages,
			      struct swap_layout *l)
{
	static char why[96];
	const uint8_t *info = page + SWAP_HDR_INFO_AT;
	uint32_t version, last, nbad;
	bool swapped;

	memset(l, 0, sizeof(*l));
	if (memcmp(page + SWAP_HDR_MAGIC_AT, SWAP_HDR_MAGIC_V0, 10) == 0)
		return "bad magic (an old v0 swap area: mkswap it again)";
	if (memcmp(page + SWAP_HDR_MAGIC_AT, SWAP_HDR_MAGIC, 10) != 0)
		return "bad magic (no SWAPSPACE2 signature at byte 4086)";
	/* Written by a machine of the other byte order: Linux swaps it, so do we. */
	version = le32(info);
	swapped = version == swab32(SWAP_HDR_VERSION);
#define FIELD(at) (swapped ? swab32(le32(at)) : le32(at))
	version = FIELD(info);
	last = FIELD(info + 4);
	nbad = FIELD(info + 8);
	if (version != SWAP_HDR_VERSION) {
		snprintf(why, sizeof(why), "bad version %u (want %u)", version, SWAP_HDR_VERSION);
		return why;
	}
	if (last == 0)
		return "empty swap area (last_page 0)";
	if (last >= area_pages) {
		snprintf(why, sizeof(why), "last_page %u past the partition (%llu pages)", last,
			 (unsigned long long)area_pages);
		return why;
	}
	if (nbad > SWAP_BADPAGES_MAX) {
		snprintf(why, sizeof(why), "%u bad pages listed, at most %d fit", nbad,
			 SWAP_BADPAGES_MAX);
		return why;
	}
	for (uint32_t i = 0; i < nbad; i++) {
		uint32_t b = FIELD(page + SWAP_HDR_BADPAGES_AT + 4 * i);

		if (b == 0 || b > last) {
			snprintf(why, sizeof(why), "bad page %u outside the area (1..%u)", b, last);
			return why;
		}
		insert_sorted(l->bad, &l->nbad, b);
	}
#undef FIELD
	l->last_page = last;
	l->nslots = last - l->nbad;
	if (l->nslots == 0)
		return "no usable page (every page is bad)";
	memcpy(l->uuid, info + 12, 16);
	memcpy(l->label, info + 28, 16);	/* volume label, NUL-padded */
	l->label[16] = '\0';
	return NULL;
}

uint64_t swap_layout_page(const struct swap_layout *l, uint64_t s)
{
	uint64_t p = s + 1;

	/* Every bad page at or below the candidate pushes it one further. */
	for (uint32_t i = 0; i < l->nbad && l->bad[i] <= p; i++)
		p++;
	return p;
}

int swap_layout_runs(const struct swap_layout *l, uint64_t s, int n, struct block_run *runs)
{
	uint64_t prev = 0;
	int nruns = 0;

	for (int i = 0; i < n; i++) {
		uint64_t p = swap_layout_page(l, s + (uint64_t)i);

		if (nruns && p == prev + 1) {
			runs[nruns - 1].br_count += BLOCK_SECTORS_PER_PAGE;
		} else {
			runs[nruns++] = (struct block_run){ .br_sector = p * BLOCK_SECTORS_PER_PAGE,
							    .br_count = BLOCK_SECTORS_PER_PAGE,
							    .br_offset = (uint32_t)i * SWAP_PAGE };
		}
		prev = p;
	}
	return nruns;
}

/* --- swap files --- */

uint64_t swap_file_sector(const struct fs_extent *ext, int next, uint64_t logical,
			  uint64_t *left)
{
	for (int i = 0; i < next; i++) {
		if (logical >= ext[i].fe_logical && logical - ext[i].fe_logical < ext[i].fe_count) {
			*left = ext[i].fe_count - (logical - ext[i].fe_logical);
			return ext[i].fe_sector + (logical - ext[i].fe_logical);
		}
	}
	*left = 0;
	return UINT64_MAX;
}

const char *swap_layout_map_file(struct swap_layout *l, const struct fs_extent *ext, int next)
{
	static char why[96];
	uint64_t left;

	for (uint64_t p = 0; p <= l->last_page; p++) {
		if (swap_file_sector(ext, next, p * BLOCK_SECTORS_PER_PAGE, &left) != UINT64_MAX &&
		    left >= BLOCK_SECTORS_PER_PAGE)
			continue;
		if (p == 0)
			return "the header page is not in one piece on the disk";
		if (l->nbad == SWAP_BADPAGES_MAX) {
			snprintf(why, sizeof(why), "more than %d pages not in one piece on the disk",
				 SWAP_BADPAGES_MAX);
			return why;
		}
		insert_sorted(l->bad, &l->nbad, (uint32_t)p);
	}
	l->nslots = l->last_page - l->nbad;
	return l->nslots ? NULL : "no page in one piece on the disk";
}

int swap_file_runs(const struct fs_extent *ext, int next, const struct block_run *in, int nin,
		   struct block_run *out, int max)
{
	int n = 0;

	for (int i = 0; i < nin; i++) {
		uint64_t logical = in[i].br_sector, count = in[i].br_count;
		uint32_t offset = in[i].br_offset;

		while (count) {
			uint64_t left, sector = swap_file_sector(ext, next, logical, &left);
			uint64_t take = left < count ? left : count;

			if (sector == UINT64_MAX || n == max)
				return -1;
			out[n++] = (struct block_run){ .br_sector = sector,
						       .br_count = (uint32_t)take,
						       .br_offset = offset };
			logical += take;
			count -= take;
			offset += (uint32_t)take * BLOCK_SECTOR_SIZE;
		}
	}
	return n;
}
