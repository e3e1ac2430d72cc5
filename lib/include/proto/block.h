/* SPDX-License-Identifier: MIT */
/*
 * The block protocol: what swapd and fs ask of the disk driver (ata, the
 * only process that touches the disk).  A design, ahead of its driver:
 * nothing implements it yet.
 *
 * Clients call ata's port ("ata") with sys_call; ata answers each call
 * once with sys_reply.  Every op names a partition; ata serves a client
 * only on the partitions the boot configuration gives the client's
 * program, e.g. `ata ... part=1:fs part=2:swapd` among ata's own options.
 * The client is the kernel-stamped sender: ata looks its name up by pid
 * (sys_proc_info), so no client can speak for another.
 *
 *   BLOCK_INFO   allowed clients; no grant; idempotent.
 *   BLOCK_READ   allowed clients; grant modes: a writable grant the client
 *                forwarded to ata first; copy mode: none (the answer brings
 *                the data); idempotent.
 *   BLOCK_WRITE  allowed clients; grant modes: a read-only grant forwarded
 *                first; copy mode: none (the request brings the data);
 *                idempotent (the same bytes to the same sectors).
 *
 * Request arguments (BLOCK_READ, BLOCK_WRITE; BLOCK_INFO only the first):
 *   arg[0] partition   index as the boot configuration names it (1..4)
 *   arg[1] sector      first sector, relative to the partition
 *   arg[2] count       sectors (512 bytes), 1..GRANT_MAX_PAGES * 8
 *   arg[3] mode        enum fill_mode: where the data is
 *   arg[4] grant       grant id (grant modes), 0 for copy
 *   arg[5] offset      byte offset into the grant, a multiple of 512
 *
 * Grant modes: a pager that gets a page request with a grant (a swap
 * cluster, an fs block run) forwards the grant to ata with
 * sys_grant_forward(grant, ata) and then asks for the sectors.  One grant
 * may take several requests at different offsets, since a page run need
 * not be one run of sectors on disk.  ata fills or drains the frames by
 * DMA with the grant's physical addresses (sys_grant_info: phys[]) or by
 * PIO through its window when the grant is mapped; ata never owns the
 * frames and sees them only until the kernel ends the grant.  The pager
 * answers the kernel (echoing the grant id) once ata has answered it.
 *
 * Copy mode: BLOCK_READ's answer carries the data as MSG_WITH_PAGES(k)
 * pages, BLOCK_WRITE's request carries it the same way; count then covers
 * whole pages: a multiple of 8 sectors.
 *
 * Answer: op BLOCK_OK, arg[0] = sectors transferred (all of them: a short
 * transfer is a failure); BLOCK_INFO also arg[1] = partition size in
 * sectors, arg[2] = the fill modes ata serves (FILL_MODE_BIT()s).  Or op
 * BLOCK_FAIL, arg[0] =
 *   ERR_PERM       the partition is not this client's
 *   ERR_RANGE      sectors beyond the partition, or beyond the grant
 *   ERR_BADHANDLE  ata does not hold that grant (never forwarded, or ended)
 *   ERR_INVAL      malformed (alignment, count, mode)
 *   ERR_IO         the drive failed; for a write, the old data is kept
 * A failed request changed nothing the client relies on and may be
 * retried as it is, while the client's grant is alive.
 */
#ifndef PROTO_BLOCK_H
#define PROTO_BLOCK_H

#include <ferry/msg.h>

#define BLOCK_PORT_NAME		"ata"
#define BLOCK_SECTOR_SIZE	512

enum block_op {
	BLOCK_INFO = MSG_OP_USER + 0x200,
	BLOCK_READ,
	BLOCK_WRITE,
	BLOCK_OK,
	BLOCK_FAIL,
};

#define BLOCK_ARG_PART		0
#define BLOCK_ARG_SECTOR	1
#define BLOCK_ARG_COUNT		2
#define BLOCK_ARG_MODE		3
#define BLOCK_ARG_GRANT		4
#define BLOCK_ARG_OFFSET	5

#define BLOCK_REPLY_COUNT	0
#define BLOCK_REPLY_SECTORS	1	/* BLOCK_INFO */
#define BLOCK_REPLY_MODES	2	/* BLOCK_INFO */
#define BLOCK_REPLY_ERROR	0

#endif
