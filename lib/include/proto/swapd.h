/* SPDX-License-Identifier: MIT */
/*
 * swapd's port ("swapd") speaks the pager protocol (<proto/pager.h>) with
 * the kernel, and one op of its own with anyone:
 *
 *   SWAPD_INFO   any process; no grant; idempotent.  Answer op SWAPD_INFO:
 *                arg[0] slots in the store, arg[1] pages swapd has given
 *                back (page-in), arg[2] pages it has taken (page-out),
 *                arg[3] requests it failed; for want of kernel memory for
 *                an answer's pages: arg[4] answers that had to wait, arg[5]
 *                page-ins answered with fewer pages than asked.
 *
 * Which slots are in use is the kernel's to know (sys_stats
 * swap_slots_used): swapd never allocates slots itself.
 */
#ifndef PROTO_SWAPD_H
#define PROTO_SWAPD_H

#include <ferry/msg.h>

#define SWAPD_PORT_NAME		"swapd"

enum swapd_op {
	SWAPD_INFO = MSG_OP_USER + 0x180,
};

#define SWAPD_INFO_SLOTS	0
#define SWAPD_INFO_PAGES_IN	1
#define SWAPD_INFO_PAGES_OUT	2
#define SWAPD_INFO_FAILURES	3
#define SWAPD_INFO_DEFERRED	4
#define SWAPD_INFO_SHORTENED	5

#endif
