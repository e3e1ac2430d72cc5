/* SPDX-License-Identifier: MIT */
/*
 * The block protocol: what swapd, fs and tests ask of a disk driver
 * (user/ata for IDE disks, user/nvme for NVMe namespaces: each the only
 * process that touches its disks).  Below, "ata" stands for either.
 *
 * Clients call the driver's port ("ata" or "nvme") with sys_call; the
 * driver answers each call once.  Every op names a partition (arg[0], BLOCK_PART()): partition n of
 * disk d, n = 0 being the whole disk.  ata serves a client only what its
 * policy (<part.h>) gives the client's program: by default each partition
 * by what is on it (a swap area to swapd, an ext2 file system to fs), or
 * what ata's module arguments say instead (user/ata/main.c, user/nvme/main.c), e.g.
 * `ata part1=swapd part2=fs raw=blktest`.  The client is the
 * kernel-stamped sender: ata looks its program name up by pid
 * (sys_proc_info), so no client can speak for another, and a copy of a
 * service started without its rights gets nothing.
 *
 *   BLOCK_INFO   clients with any right on the disk; no grant; idempotent.
 *   BLOCK_READ   the partition's clients; a writable grant forwarded to ata
 *                first, or copy mode (the answer brings the data); idempotent.
 *   BLOCK_WRITE  the partition's clients; a grant (read-only is enough)
 *                forwarded first, or copy mode (the request brings the
 *                data); idempotent (the same bytes to the same sectors).
 *   BLOCK_FLUSH  the partition's clients; no grant; the drive's write cache
 *                reaches the medium; idempotent.
 *
 * Request arguments (BLOCK_READ, BLOCK_WRITE; the others only arg[0]):
 *   arg[0] partition   BLOCK_PART(disk, n)
 *   arg[1] sector      first sector, relative to the partition
 *   arg[2] count       sectors (512 bytes), 1..BLOCK_MAX_SECTORS
 *   arg[3] mode        enum fill_mode (where the data is), or'ed with BLOCK_F_*
 *   arg[4] grant       grant id (grant modes), 0 for copy
 *   arg[5] offset      byte offset into the grant or the message pages,
 *                      a multiple of 512
 * The transfer covers bytes [offset, offset + count * 512) of the data
 * area, which must hold them: a grant's npages * 4096 bytes, or
 * BLOCK_MAX_SECTORS * 512 bytes of message pages.
 *
 * Runs (BLOCK_F_RUNS, grant modes): one request fills or drains one grant
 * from scattered sectors, as fs needs for a page made of file blocks that
 * are not adjacent on disk.  arg[1] and arg[5] are then unused, arg[2] is
 * the number of runs (1..BLOCK_RUNS_MAX), and the request's one message
 * page (MSG_WITH_PAGES(1)) holds that many struct block_run.  The runs'
 * sectors add up to at most BLOCK_MAX_SECTORS; bytes of the grant no run
 * covers are left as they are (grant frames come zeroed).
 *
 * Grant modes: a pager that gets a page request with a grant forwards the
 * grant to ata with sys_grant_forward(grant, ata_pid) and then asks for the
 * sectors; ata_pid is the kernel-stamped `sender` of any answer from ata
 * (e.g. of a BLOCK_INFO at start-up).  One grant may take several requests
 * (at different offsets, or with runs).  ata fills or drains the frames by
 * DMA at the addresses sys_grant_info gives (device addresses in ata's
 * IOMMU domain, or physical ones without an IOMMU), or by PIO through its
 * window for a FILL_GRANT_MAP grant; it never owns the frames and holds
 * them only until the kernel ends the grant, when the pager answers the
 * kernel.  A grant a holder has not been forwarded is ERR_BADHANDLE.
 *
 * Copy mode: BLOCK_READ's answer carries the data area's first
 * ceil((offset + count * 512) / 4096) pages as MSG_WITH_PAGES(k), bytes no
 * sector filled being zero; BLOCK_WRITE's request carries at least that many
 * pages the same way.
 *
 * Answer: op BLOCK_OK, arg[0] = sectors transferred (all of them: a short
 * transfer is a failure); BLOCK_INFO fills the BLOCK_REPLY_* below.  Or op
 * BLOCK_FAIL, arg[0] = (negative) enum ferry_err:
 *   ERR_PERM       not this client's partition (or an unknown client), or
 *                  sectors outside the ranges of the allowance it named
 *   ERR_NOENT      no such disk or partition
 *   ERR_RANGE      sectors beyond the partition, or beyond the data area
 *   ERR_BADHANDLE  ata does not hold that grant (never forwarded, or ended)
 *   ERR_INVAL      malformed (alignment, count, mode, runs, missing pages)
 *   ERR_IO         the drive failed, after retries (and a reset, if it hung)
 *   ERR_NOSYS      unknown op
 * A failed read reports no data (never part of it); a failed write may
 * have written some of its sectors: the client keeps its copy and may
 * retry the request as it is, while its grant is alive.
 */
#ifndef PROTO_BLOCK_H
#define PROTO_BLOCK_H

#include <ferry/abi.h>
#include <ferry/msg.h>
#include <stdint.h>

#define BLOCK_PORT_NAME		"ata"	/* user/ata, the IDE driver */
#define BLOCK_PORT_NVME		"nvme"	/* user/nvme, the NVMe driver */
/* The drivers a client that does not name one looks at, in this order
 * (block_find(), <block.h>): the driver's port is its program's name. */
#define BLOCK_DRIVERS		{ BLOCK_PORT_NVME, BLOCK_PORT_NAME }
#define BLOCK_SECTOR_SIZE	512
#define BLOCK_SECTORS_PER_PAGE	(MSG_PAGE_SIZE / BLOCK_SECTOR_SIZE)
#define BLOCK_MAX_SECTORS	(GRANT_MAX_PAGES * BLOCK_SECTORS_PER_PAGE)	/* 128 KiB */
#define BLOCK_RUNS_MAX		64
/*
 * The driver's rung of the timeout ladder (<block.h> has the others): one
 * request, every retry and channel reset included, is answered within
 * this, so a client that waits longer knows the first copy has ended.
 */
#define BLOCK_DRIVER_BUDGET_NS	(8 * 1000000000L)

/* Partition n (1..BLOCK_PARTS_MAX) of disk d; n = 0: the whole disk. */
#define BLOCK_PART(d, n)	(((uint64_t)(d) << 8) | (uint64_t)(n))
#define BLOCK_PART_DISK(p)	(((p) & 0xFFFFFFFFu) >> 8)
#define BLOCK_PART_NUM(p)	((p) & 0xFF)
/*
 * A client the policy does not give the partition names, in the top 32
 * bits, the allowance (kernel/ipc/allow.h) its owner made for it: then
 * only the allowance's ranges of the partition (sectors relative to it)
 * are served, ERR_PERM for any other sector.  fs makes one for the blocks
 * of a swap file, for the swapd it validated the file for.
 */
#define BLOCK_PART_VIA(p, allowance)	((p) | (uint64_t)(allowance) << 32)
#define BLOCK_PART_ALLOW(p)		((p) >> 32)
#define BLOCK_PARTS_MAX		16
#define BLOCK_DISKS_MAX		4

enum block_op {
	BLOCK_INFO = MSG_OP_USER + 0x200,
	BLOCK_READ,
	BLOCK_WRITE,
	BLOCK_FLUSH,
	BLOCK_OK,
	BLOCK_FAIL,
};

#define BLOCK_ARG_PART		0
#define BLOCK_ARG_SECTOR	1
#define BLOCK_ARG_COUNT		2	/* with BLOCK_F_RUNS: the number of runs */
#define BLOCK_ARG_MODE		3
#define BLOCK_ARG_GRANT		4
#define BLOCK_ARG_OFFSET	5

/* arg[3]: enum fill_mode in the low byte, these flags above it. */
#define BLOCK_MODE_MASK		0xFFu
#define BLOCK_F_PIO		0x100u	/* PIO even where DMA works (tests, benchmarks) */
#define BLOCK_F_LBA48		0x200u	/* 48-bit commands even where 28-bit ones reach */
#define BLOCK_F_RUNS		0x400u	/* grant modes: the message page lists the runs */
/*
 * Tests of the IOMMU only, honoured by an ata started with `rogue`: the
 * read's first page is aimed where the grant does not reach, as a
 * compromised driver would, and the answer still says BLOCK_OK:
 *   STRAY   a page of ata's own memory, never lent to its device
 *   ENDED   the device address of the last grant ata held, ended since
 *   BEYOND  the page just past the end of this grant's window
 */
#define BLOCK_F_ROGUE_STRAY	0x1000u
#define BLOCK_F_ROGUE_ENDED	0x2000u
#define BLOCK_F_ROGUE_BEYOND	0x3000u
#define BLOCK_F_ROGUE_MASK	0x3000u
#define BLOCK_F_ALL		(BLOCK_F_PIO | BLOCK_F_LBA48 | BLOCK_F_RUNS | BLOCK_F_ROGUE_MASK)

/* One run of a BLOCK_F_RUNS request. */
struct block_run {
	uint64_t br_sector;	/* first sector, relative to the partition */
	uint32_t br_count;	/* sectors, >= 1 */
	uint32_t br_offset;	/* byte offset into the grant, a multiple of 512 */
};

_Static_assert(sizeof(struct block_run) == 16, "struct block_run ABI");

#define BLOCK_REPLY_COUNT	0	/* BLOCK_OK: sectors transferred */
#define BLOCK_REPLY_ERROR	0	/* BLOCK_FAIL: enum ferry_err */
/* BLOCK_INFO answers: */
#define BLOCK_REPLY_SECTORS	1	/* partition (or disk) size in sectors */
#define BLOCK_REPLY_MODES	2	/* FILL_MODE_BIT()s ata serves */
#define BLOCK_REPLY_TYPE	3	/* BLOCK_TYPE_MAKE(MBR type byte (GPT types mapped:
					 * 0x82 swap, 0x83 Linux data, 0xEF EFI, else 0x7F;
					 * 0: disk), what it holds: enum part_content) */
#define BLOCK_REPLY_START	4	/* first sector on the disk */
#define BLOCK_REPLY_MINE	5	/* bit n: partition n of this disk exists and is
					 * the caller's to use */

#define BLOCK_TYPE_MAKE(type, content)	((uint64_t)(type) | (uint64_t)(content) << 8)
#define BLOCK_TYPE_BYTE(t)		((uint8_t)(t))
#define BLOCK_TYPE_CONTENT(t)		((uint32_t)((t) >> 8 & 0xFF))	/* enum part_content */

/* MBR partition types that matter here. */
#define BLOCK_TYPE_SWAP		0x82
#define BLOCK_TYPE_LINUX	0x83

#endif
