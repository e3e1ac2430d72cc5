/* SPDX-License-Identifier: MIT */
/*
 * The pager protocol: the kernel (sender 0) asks a swap provider or a file
 * pager for pages, or hands pages to it.  One message per request, for a
 * range of up to GRANT_MAX_PAGES pages; the answer goes back with
 * sys_reply(msg.reply, ...).
 *
 *   PAGER_PAGE_IN   needs the pages of key..; arg[2] = pages asked (n),
 *                   the first is the one that faulted, the rest read-ahead.
 *                   copy:  answer with MSG_WITH_PAGES(k) and the bytes.
 *                   grant: fill the granted frames (window or DMA), answer.
 *                   Answer arg[1] = k, pages filled, 1 <= k <= n.
 *                   Not idempotent for the kernel: answer once.
 *   PAGER_PAGE_OUT  store n pages at key..; copy: the bytes come with the
 *                   message; grant: read them from the grant (read-only).
 *
 * Request arguments:
 *   arg[0] key      swap slot (swap providers) or byte offset (pagers)
 *   arg[1] object   pager's object id (0 for swap)
 *   arg[2] n        pages
 *   arg[3] mode     enum fill_mode
 *   arg[4] grant    grant id (grant modes), 0 for copy
 *   arg[5] window   where the grant is mapped for you (FILL_GRANT_MAP)
 *
 * Answer: op PAGER_OK, arg[0] = grant id echoed (grant modes), arg[1] = k,
 * and for a page-in arg[2] = the object's size in bytes if the pager knows
 * it (fs does; 0 otherwise: the kernel then cannot spawn a program from
 * the object, since it checks every segment against the file's end);
 * or op PAGER_FAIL with arg[0] = ERR_IO (the device failed: a page-out's
 * swap slots are retired), ERR_NOENT, ERR_RANGE, ERR_PERM (the driver
 * refused the pager: nothing is retired), or ERR_AGAIN (the device
 * was out of reach: its driver died and did not come back, or never
 * answered; nothing is retired).  Any other reason counts as ERR_IO.  A
 * failed page-in kills the faulting thread (a missing page is never
 * replaced by zeros); a failed page-out keeps the page resident and dirty.
 *
 * A page-out failed with ERR_IO may say which of its pages failed:
 * arg[1] bit i set = page i (slot key + i) was not stored, a clear bit =
 * it was, and is then the kernel's as if the answer had been PAGER_OK;
 * only the slots of set bits are retired.  arg[1] = 0 means every page
 * failed (a pager that cannot tell).  Bits at or past n refuse the answer.
 * A page-in ignores arg[1].
 */
#ifndef PROTO_PAGER_H
#define PROTO_PAGER_H

#include <ferry/msg.h>

enum pager_op {
	PAGER_PAGE_IN = MSG_OP_USER + 0x100,
	PAGER_PAGE_OUT,
	PAGER_OK,
	PAGER_FAIL,
};

#define PAGER_ARG_KEY		0
#define PAGER_ARG_OBJECT	1
#define PAGER_ARG_NPAGES	2
#define PAGER_ARG_MODE		3
#define PAGER_ARG_GRANT		4
#define PAGER_ARG_WINDOW	5

#define PAGER_REPLY_GRANT	0
#define PAGER_REPLY_COUNT	1
#define PAGER_REPLY_SIZE	2	/* PAGER_OK of a page-in: the object's bytes, or 0 */
#define PAGER_REPLY_ERROR	0
#define PAGER_REPLY_FAILED	1	/* PAGER_FAIL of a page-out: bit i = page i failed */

#endif
