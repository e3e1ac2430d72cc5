/* SPDX-License-Identifier: MIT */
/*
 * Messages.  A message is a small fixed struct copied through the kernel;
 * with MSG_PAGE it also carries one 4 KiB page (the copy fault path's
 * vehicle).  The kernel stamps `sender` (pid of the sending process, 0 for
 * the kernel) and `reply` (a one-shot token for sys_reply when the sender
 * used sys_call); whatever the sender put there is overwritten.
 */
#ifndef FERRY_MSG_H
#define FERRY_MSG_H

#include <stdint.h>

#define MSG_ARGS	6
#define MSG_PAGE_SIZE	4096

/* flags */
#define MSG_PAGE	0x1	/* `page` points at pages that travel along */
#define MSG_TRUNCATED	0x2	/* (recv) pages came but no (or too small a) buffer: dropped */
#define MSG_MAX_PAGES	32
/* With MSG_PAGE, bits 8..15 hold the page count minus one (0 = one page). */
#define MSG_NPAGES_SHIFT 8
#define MSG_NPAGES(flags) ((((flags) >> MSG_NPAGES_SHIFT) & 0xFF) + 1)
#define MSG_WITH_PAGES(n) (MSG_PAGE | ((uint32_t)((n) - 1) << MSG_NPAGES_SHIFT))

/* Ops below 0x100 are the kernel's own (sender 0). */
#define MSG_OP_IRQ	0x01	/* arg[0] = irq number; ack with sys_irq_ack */
#define MSG_OP_ERROR	0x02	/* a reply saying arg[0] = enum ferry_err */
#define MSG_OP_USER	0x100	/* first op number for protocols */

struct msg {
	uint64_t sender;	/* stamped by the kernel */
	uint64_t reply;		/* stamped by the kernel: token for sys_reply, or 0 */
	uint32_t op;
	uint32_t flags;
	uint64_t arg[MSG_ARGS];
	void *page;		/* with MSG_PAGE: sender's data / receiver's buffer */
};

_Static_assert(sizeof(struct msg) == 80, "struct msg ABI");

#endif
