/* SPDX-License-Identifier: MIT */
/*
 * blktest: the disk drivers' test client (tests/cases/ata.py and nvme.py
 * boot it).  It talks to a driver (ata, or nvme: blk_driver) only through
 * <proto/block.h>, as swapd and fs do, and doubles as a
 * pager for a child of its own, to drive the grant paths end to end:
 * child faults -> kernel grant -> blktest forwards it to ata -> ata fills
 * or drains the frames (DMA, or PIO through the window) -> blktest answers
 * the kernel -> the child sees the disk's bytes.
 *
 *   main.c   modes, results, and starting ata when blktest is the first
 *            program (init=blktest initarg=MODE)
 *   blk.c    calls to ata
 *   pager.c  the pager and its child
 *   cases.c  the checks of each mode
 *   raw.c    the checks for a driver serving whole disks (nvme)
 *
 * Every check prints one "test DRIVER/NAME: OK|FAILED" line; data the host
 * can recompute from build/disk.img is printed as "blktest: fnv ..." lines.
 */
#ifndef BLKTEST_H
#define BLKTEST_H

#include <block.h>
#include <ferry/sys.h>
#include <proto/block.h>
#include <stdbool.h>
#include <stdint.h>

#define BLK_BUF_BYTES	(BLOCK_MAX_SECTORS * BLOCK_SECTOR_SIZE)

/* Disk layout scripts/mkdisk.sh makes (checked against BLOCK_INFO). */
#define DISK0_FREE_LBA	67584	/* first sector after partition 2 */

/* main.c: results */
void check(const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int failures(void);

/* blk.c */
/* The driver under test: its port name, the prefix of every test name. */
extern const char *blk_driver;
/* BLOCK_F_PIO where the driver has PIO (ata), else 0 (nvme): PIO cases
 * become DMA ones or are left out. */
extern uint32_t blk_pio;
/* ata through the block-client library (<block.h>), grants forwarded by hand. */
struct blk {
	struct block_client c;
};
long blk_open(struct blk *b);
/* => 0 with rep filled, or the error ata answered. */
long blk_info(struct blk *b, uint64_t part, struct msg *rep);
/* Copy mode; buf holds BLK_BUF_BYTES.  => 0 or ata's error. */
long blk_read(struct blk *b, uint64_t part, uint64_t sector, uint32_t count, uint32_t flags,
	      uint32_t offset, void *buf);
long blk_write(struct blk *b, uint64_t part, uint64_t sector, uint32_t count, uint32_t flags,
	       uint32_t offset, const void *data);
/* Grant modes: op BLOCK_READ or BLOCK_WRITE on a grant ata holds. */
long blk_grant(struct blk *b, uint32_t op, uint64_t part, uint64_t sector, uint32_t count,
	       uint32_t mode, uint64_t grant, uint32_t offset);
long blk_grant_runs(struct blk *b, uint32_t op, uint64_t part, uint32_t mode, uint64_t grant,
		    const struct block_run *runs, int n);
/* Any request, as given: => 0 or ata's error (tests of malformed requests). */
long blk_call(struct blk *b, const struct msg *req, struct msg *rep);
uint64_t fnv64(const void *data, size_t n);
void pattern_fill(uint8_t *buf, size_t n, unsigned seed);

/* pager.c */

/* What a pager-mapped object holds: a partition, laid out linearly or
 * each page made of 4 scattered 1 KiB runs (fs's case: file blocks). */
#define OBJ_PART(obj)		((obj) & 0xFFFF)
#define OBJ_SCATTERED		0x10000
#define OBJ_RUNS_PER_PAGE	4
/* The disk runs page `page` of object obj is made of; => the number of runs. */
int object_runs(uint64_t obj, uint64_t page, struct block_run *runs);

/* How the pager has ata move the bytes of a grant. */
struct pager_way {
	const char *name;
	uint32_t fill;		/* enum fill_mode the kernel uses */
	uint32_t flags;		/* BLOCK_F_PIO to go through the window */
	bool stranger;		/* first have another client name our grant */
	/* Give up on ata after GIVEUP_WAIT_NS while it still holds the grant
	 * and answer the kernel a failure (a client whose patience ran out),
	 * or, GIVEUP_CLAIM, a success (a pager that lies). */
	int giveup;
	const char *child;	/* the child's mode; NULL: "child" */
	uint32_t rogue;		/* BLOCK_F_ROGUE_* for the request of page rogue_page */
	uint64_t rogue_page;	/* of the mapping */
};
/* The exit status of pager_run()'s last child. */
extern long pager_child_status;

#define GIVEUP_FAIL	1
#define GIVEUP_CLAIM	2

#define GIVEUP_WAIT_NS	(300L * MSEC_NS)
/*
 * Maps npages of obj in a child (pager-backed, through us), has it check
 * every page against copy-mode reads; with write_seed, the child first
 * writes a pattern and syncs it back (page-out through us), then checks
 * it came back.  => 0 when the child found every byte right.
 */
long pager_run(struct blk *b, const struct pager_way *way, uint64_t obj, uint64_t offset,
	       int npages, unsigned write_seed);
int pager_child(int argc, char **argv);
/* blktest stranger GRANT MODE PART SECTOR: names a grant it never held
 * in a read; => exit status -(ata's answer), 0 if ata took it. */
int pager_stranger(int argc, char **argv);

/* dmarogue.c: ata's rogue transfers (ata started with `rogue`). */
/* blktest roguechild PORT OBJ OFFSET NPAGES SEED: see dmarogue.c. */
int rogue_child(int argc, char **argv);
int touch_child(int argc, char **argv);
/* KINDS: stray,ended,beyond; expect_landed: a machine where DMA is not
 * stopped (no IOMMU, or iommu_test=stale), the tests' negative control. */
void cases_dma_rogue(struct blk *b, const char *kinds, bool expect_landed);
/* A DMA page-in from a slow disk 1 outlives the kernel's overtime. */
void cases_slow_dma(struct blk *b);

/* cases.c */
void cases_read(struct blk *b);
void cases_perm(struct blk *b);
void cases_rogue(struct blk *b);
void cases_pager(struct blk *b);
void cases_foreign_grant(struct blk *b);
void cases_write(struct blk *b);
void cases_faults(struct blk *b, const char *spec);
void cases_pio_only(struct blk *b);
void cases_second(struct blk *b);
void cases_giveup(struct blk *b);

/* raw.c: a driver serving whole disks only */
void cases_raw(struct blk *b);
/* percpu.c: a reader per CPU at once (nvme's queue per CPU). */
void cases_percpu(struct blk *b);
void cases_raw_write(struct blk *b);
void cases_raw_faults(struct blk *b, const char *spec);
void cases_raw_prp(struct blk *b);

#endif
