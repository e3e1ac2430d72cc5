/* SPDX-License-Identifier: MIT */
/*
 * The user side of the pager protocol (<proto/pager.h>): what every swap
 * provider and pager repeats around its own store.  A request is received
 * into a buffer big enough for a copy-mode page-out, decoded into a struct
 * pager_request that says where the pages are for this fill mode, and
 * answered once.
 *
 * Where the bytes are, by mode:
 *   FILL_COPY       page-in: the answer carries them (pager_answer_ok's
 *                   `pages`); page-out: they arrived in the receive buffer
 *   FILL_GRANT_MAP  both ways in the window the kernel mapped for us
 *                   (read-only for a page-out)
 *   FILL_GRANT_DMA  nowhere we can touch: only a device can fill them
 */
#ifndef FERRY_PAGER_H
#define FERRY_PAGER_H

#include <ferry/abi.h>
#include <ferry/msg.h>
#include <proto/pager.h>
#include <stdint.h>

#define PAGER_BUF_SIZE	(GRANT_MAX_PAGES * MSG_PAGE_SIZE)

struct pager_request {
	uint64_t token;			/* for sys_reply */
	uint32_t op;			/* PAGER_PAGE_IN or PAGER_PAGE_OUT */
	enum fill_mode mode;
	uint64_t key;			/* swap slot or byte offset */
	uint64_t object;
	int npages;			/* 1..GRANT_MAX_PAGES */
	uint64_t grant;			/* grant modes */
	uint8_t *window;		/* FILL_GRANT_MAP, else NULL */
	const uint8_t *data;		/* FILL_COPY page-out: the bytes, else NULL */
};

/* Readies m to receive a request whose pages may land in buf (PAGER_BUF_SIZE bytes). */
void pager_recv_prepare(struct msg *m, void *buf);

/*
 * Decodes a received message.
 * => 0; ERR_PERM if the kernel did not send it (only sender 0 asks for
 *    pages); ERR_INVAL if it is not a well-formed request.
 */
long pager_request_decode(const struct msg *m, struct pager_request *rq);

/*
 * Answers rq: k pages filled (page-in) or stored (page-out).  A copy-mode
 * page-in sends the k pages at `pages` along; other modes ignore it.
 * => sys_reply's result.
 */
long pager_answer_ok(const struct pager_request *rq, int k, const void *pages);
/* pager_answer_ok() of a page-in that also says the object's size in bytes
 * (<proto/pager.h>: the kernel needs it to run a program from the object). */
long pager_answer_in(const struct pager_request *rq, int k, const void *pages,
		     uint64_t object_size);

/* Fails rq with ERR_IO, ERR_NOENT or ERR_RANGE; => sys_reply's result. */
long pager_answer_fail(const struct pager_request *rq, long err);
/* Fails a page-out with ERR_IO for the pages whose bit is set in `failed`
 * (bit i: page i), the others stored (<proto/pager.h>). */
long pager_answer_fail_pages(const struct pager_request *rq, long err, uint64_t failed);

/* "page-in" or "page-out", and "copy", "grant" or "dma", for log lines. */
const char *pager_op_name(uint32_t op);
const char *pager_mode_name(uint32_t mode);

#endif
