/* SPDX-License-Identifier: MIT */
/*
 * swapd: the swap provider, a pinned user process (boot configuration
 * `swap pin`: it registers with the kernel, and it must never page fault
 * on its own memory, or it would wait for itself).  This header is the
 * interface between its files:
 *
 *   main.c    the server: arguments, the request loop (receive -> the
 *             kernel-stamped sender -> dispatch table -> answer), answers
 *             that wait for kernel memory, SWAPD_INFO and SWAPD_STORE
 *   ram.c     the RAM store: pages of swapd's own (pinned) memory
 *   disk.c    the disk store: a mkswap'ed partition, or a swap file whose
 *             blocks fs maps for us, through ata
 *   layout.c  the mkswap header and where each slot lives on the disk
 *             (pure: host-tested in tests/host/test_swapd_layout.c)
 *
 * The model
 * ---------
 * The kernel owns the slots: it allocates them, frees them, and marks
 * those a page-out failed on as bad; swapd only stores pages in them.  A
 * store is slots 0..nslots-1 and the fill modes it can serve; swapd
 * registers both with the kernel (sys_swap_register) and then serves one
 * kernel request at a time, each answered exactly once:
 *
 *   1. receive a PAGER_PAGE_IN or PAGER_PAGE_OUT (sender 0) for a run of
 *      slots key..key+n-1, in a fill mode the store registered;
 *   2. check the run lies in the store (the kernel's numbers are input);
 *   3. the store moves the bytes: RAM by memcpy, the disk by asking ata,
 *      with the request's grant forwarded to ata (the driver fills or
 *      drains the faulting process's frames itself) or, for copy, through
 *      swapd's buffers;
 *   4. answer PAGER_OK, or PAGER_FAIL ERR_IO: on a page-in the kernel then
 *      kills the faulting thread; on a page-out it keeps the pages
 *      resident and dirty and marks the slots bad.  A page-out of several
 *      pages that the disk failed is written again page by page, and the
 *      answer names the pages that failed alone: only their slots are
 *      retired, the others are stored (a bad sector costs one slot).
 * A page-in whose read-ahead fails is retried for the faulting page alone,
 * so a bad sector costs the thread that needs it and nobody else.
 */
#ifndef SWAPD_H
#define SWAPD_H

#include <ferry/abi.h>
#include <pager.h>
#include <proto/block.h>
#include <proto/fs.h>
#include <stdbool.h>
#include <stdint.h>

/* --- stores --- */

struct store {
	const char *name;	/* "RAM", "disk": for log lines */
	uint32_t kind;		/* SWAPD_STORE_RAM, _DISK or _FILE (<proto/swapd.h>) */
	uint64_t nslots;
	uint32_t modes;		/* FILL_MODE_BIT()s it serves; copy always */
	/*
	 * Reads n (1..rq->npages) pages, slots rq->key.., to where rq's mode
	 * wants them: the grant's frames, or (copy) a buffer of the store's,
	 * whose address goes to *pages.  Called again for the same request
	 * with a smaller n, or for a copy-mode answer that had to wait.
	 * => 0 or ERR_IO.
	 */
	long (*page_in)(struct store *st, const struct pager_request *rq, int n,
			const void **pages);
	/* Writes rq's pages to slots rq->key..  => 0, ERR_IO (failed_pages
	 * then says which pages failed, 0: all) or ERR_AGAIN. */
	long (*page_out)(struct store *st, const struct pager_request *rq);
	uint64_t failed_pages;	/* the last page_out's failed pages, bit i: page i */
	/* Counters for SWAPD_STORE. */
	uint64_t transfers;	/* disk requests (RAM: none) */
	uint64_t io_errors;	/* requests the disk failed */
	uint64_t skipped;	/* bad pages of the swap area left out */
	uint64_t part;		/* BLOCK_PART() of the disk store, else 0 */
	/* The swap area's UUID, which the kernel keeps the area's pages under
	 * when swapd dies, for a restarted swapd to take over (kernel/mm/swap.h);
	 * zero for a store whose pages die with swapd (RAM).  And where it is,
	 * for kdb `swap`. */
	struct swap_area area;
};

/* ram.c: npages slots of pinned memory.  => 0 or the mapping's error. */
long ram_store_open(struct store **out, uint64_t npages);

/*
 * disk.c: file NULL: the swap partition ata gives swapd (the first that
 * holds a swap area, else the first ata gives it); else the swap file
 * `file`, which fs checks and maps (FS_SWAPFILE).  Its mkswap header
 * checked; a header swapd refuses is logged as "swapd: swap header: REASON".
 * => 0; ERR_NOENT (no ata, no partition, no fs), ERR_INVAL (header refused),
 *    ERR_IO (unreadable), or fs's refusal of the file (it logs why).
 */
long disk_store_open(struct store **out, const char *file);

/* --- the swap area's layout (layout.c) --- */

/*
 * Linux's swap header (union swap_header, include/linux/swap.h), the first
 * page of the area: boot bits, then at byte 1024 version, last_page,
 * nr_badpages, uuid, volume label, padding and the bad page list; the
 * magic "SWAPSPACE2" ends the page.  Little-endian from mkswap here; a
 * header written on a big-endian machine is byte-swapped as Linux does.
 */
#define SWAP_PAGE		4096
#define SWAP_HDR_INFO_AT	1024
#define SWAP_HDR_BADPAGES_AT	1536
#define SWAP_HDR_MAGIC_AT	(SWAP_PAGE - 10)
#define SWAP_HDR_MAGIC		"SWAPSPACE2"
#define SWAP_HDR_MAGIC_V0	"SWAP-SPACE"
#define SWAP_HDR_VERSION	1
#define SWAP_BADPAGES_MAX	((SWAP_HDR_MAGIC_AT - SWAP_HDR_BADPAGES_AT) / 4)	/* 637 */

struct swap_layout {
	uint32_t last_page;	/* the area is pages 1..last_page (0: the header) */
	uint32_t nbad;
	uint32_t bad[SWAP_BADPAGES_MAX];	/* sorted, distinct, each in 1..last_page */
	uint64_t nslots;	/* last_page - nbad: the pages that hold slots */
	char label[17];
	uint8_t uuid[16];	/* the area's identity, kept across swapd restarts */
};

/*
 * Checks a swap area's first page as Linux's swapon does, for an area of
 * area_pages pages (the partition).  => NULL with *l filled, or why the
 * header is refused: "bad magic", "bad version 2 (want 1)", ...; the
 * message lives in a static buffer.
 */
const char *swap_layout_parse(const uint8_t page[SWAP_PAGE], uint64_t area_pages,
			      struct swap_layout *l);

/* The page of the area that holds slot s (< l->nslots): the s-th good page after the header. */
uint64_t swap_layout_page(const struct swap_layout *l, uint64_t s);

/*
 * The disk runs of slots s..s+n-1: adjacent good pages make one run.
 * Sectors are relative to the area, offsets are into the n pages' data.
 * => the number of runs (1..n).
 */
int swap_layout_runs(const struct swap_layout *l, uint64_t s, int n, struct block_run *runs);

/*
 * A swap file: its area is the file, which fs gave as extents (logical
 * sector of the file -> sector of the partition).  A page of the area that
 * does not lie in one piece on the disk holds no slot (Linux's swapon
 * skips such pages too): it joins the bad pages, so every slot's page is
 * one run of 8 sectors.  The header page must be in one piece.
 * => NULL, or why the file cannot be swap.
 */
const char *swap_layout_map_file(struct swap_layout *l, const struct fs_extent *ext, int next);
/* Sector `logical` of the file on the partition (its extent's count left
 * in *left), or UINT64_MAX if no extent holds it. */
uint64_t swap_file_sector(const struct fs_extent *ext, int next, uint64_t logical,
			  uint64_t *left);
/*
 * Area runs (sectors of the file) as partition runs, split where an extent
 * ends.  => runs in out (at most max), or -1 if a sector is not in the
 * file or out is too small.
 */
int swap_file_runs(const struct fs_extent *ext, int next, const struct block_run *in, int nin,
		   struct block_run *out, int max);

#endif
