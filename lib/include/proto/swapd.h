/* SPDX-License-Identifier: MIT */
/*
 * swapd's port ("swapd") speaks the pager protocol (<proto/pager.h>) with
 * the kernel, and two ops of its own with anyone:
 *
 *   SWAPD_INFO   any process; no grant; idempotent.  Answer op SWAPD_INFO:
 *                arg[0] slots in the store, arg[1] pages swapd has given
 *                back (page-in), arg[2] pages it has taken (page-out),
 *                arg[3] requests it failed; for want of kernel memory for
 *                an answer's pages: arg[4] answers that had to wait, arg[5]
 *                page-ins answered with fewer pages than asked.
 *   SWAPD_STORE  any process; no grant; idempotent.  Answer op SWAPD_STORE:
 *                arg[0] the store (SWAPD_STORE_RAM, _DISK or _FILE),
 *                arg[1] the FILL_MODE_BIT()s registered, arg[2] bad pages
 *                of the swap area left out, arg[3] disk transfers made,
 *                arg[4] transfers the disk failed, arg[5] the partition
 *                (BLOCK_PART(), <proto/block.h>; 0 for RAM).
 *
 * Which slots are in use, and which are bad, is the kernel's to know
 * (sys_stats swap_slots_used; kdb `swap`): swapd never allocates slots.
 */
#ifndef PROTO_SWAPD_H
#define PROTO_SWAPD_H

#include <ferry/msg.h>

#define SWAPD_PORT_NAME		"swapd"

enum swapd_op {
	SWAPD_INFO = MSG_OP_USER + 0x180,
	SWAPD_STORE,
};

#define SWAPD_INFO_SLOTS	0
#define SWAPD_INFO_PAGES_IN	1
#define SWAPD_INFO_PAGES_OUT	2
#define SWAPD_INFO_FAILURES	3
#define SWAPD_INFO_DEFERRED	4
#define SWAPD_INFO_SHORTENED	5

#define SWAPD_STORE_KIND	0
#define SWAPD_STORE_MODES	1
#define SWAPD_STORE_SKIPPED	2
#define SWAPD_STORE_TRANSFERS	3
#define SWAPD_STORE_IO_ERRORS	4
#define SWAPD_STORE_PART	5

/* SWAPD_STORE arg[0] */
#define SWAPD_STORE_RAM		1
#define SWAPD_STORE_DISK	2
#define SWAPD_STORE_FILE	3	/* a swap file's blocks, through ata (PART: its partition) */

#endif
