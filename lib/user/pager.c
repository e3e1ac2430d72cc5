// SPDX-License-Identifier: MIT
#include <ferry/sys.h>
#include <pager.h>
#include <string.h>

void pager_recv_prepare(struct msg *m, void *buf)
{
	memset(m, 0, sizeof(*m));
	m->page = buf;
	m->flags = MSG_WITH_PAGES(GRANT_MAX_PAGES);
}

/* The mode decides where the bytes are; a mode this build does not know is malformed. */
static long locate_pages(const struct msg *m, struct pager_request *rq)
{
	switch (rq->mode) {
	case FILL_COPY:
		if (rq->op != PAGER_PAGE_OUT)
			return 0;
		/* The kernel sends exactly the pages it asks us to store. */
		if (!(m->flags & MSG_PAGE) || (int)MSG_NPAGES(m->flags) != rq->npages)
			return ERR_INVAL;
		rq->data = m->page;
		return 0;
	case FILL_GRANT_MAP:
		rq->window = (uint8_t *)m->arg[PAGER_ARG_WINDOW];
		return rq->grant && rq->window ? 0 : ERR_INVAL;
	case FILL_GRANT_DMA:
		return rq->grant ? 0 : ERR_INVAL;
	default:
		return ERR_INVAL;
	}
}

long pager_request_decode(const struct msg *m, struct pager_request *rq)
{
	memset(rq, 0, sizeof(*rq));
	if (m->sender != 0)
		return ERR_PERM;
	if (m->op != PAGER_PAGE_IN && m->op != PAGER_PAGE_OUT)
		return ERR_INVAL;
	if (m->arg[PAGER_ARG_NPAGES] < 1 || m->arg[PAGER_ARG_NPAGES] > GRANT_MAX_PAGES ||
	    m->arg[PAGER_ARG_MODE] >= FILL_NMODES || m->reply == 0)
		return ERR_INVAL;
	rq->token = m->reply;
	rq->op = m->op;
	rq->mode = (enum fill_mode)m->arg[PAGER_ARG_MODE];
	rq->key = m->arg[PAGER_ARG_KEY];
	rq->object = m->arg[PAGER_ARG_OBJECT];
	rq->npages = (int)m->arg[PAGER_ARG_NPAGES];
	rq->grant = m->arg[PAGER_ARG_GRANT];
	return locate_pages(m, rq);
}

long pager_answer_ok(const struct pager_request *rq, int k, const void *pages)
{
	return pager_answer_in(rq, k, pages, 0);
}

long pager_answer_in(const struct pager_request *rq, int k, const void *pages,
		     uint64_t object_size)
{
	struct msg a = { .op = PAGER_OK };

	a.arg[PAGER_REPLY_GRANT] = rq->grant;
	a.arg[PAGER_REPLY_COUNT] = (uint64_t)k;
	if (rq->op == PAGER_PAGE_IN)
		a.arg[PAGER_REPLY_SIZE] = object_size;
	if (rq->op == PAGER_PAGE_IN && rq->mode == FILL_COPY) {
		a.flags = MSG_WITH_PAGES(k);
		a.page = (void *)pages;
	}
	return sys_reply(rq->token, &a);
}

long pager_answer_fail(const struct pager_request *rq, long err)
{
	return pager_answer_fail_pages(rq, err, 0);
}

long pager_answer_fail_pages(const struct pager_request *rq, long err, uint64_t failed)
{
	struct msg a = { .op = PAGER_FAIL };

	a.arg[PAGER_REPLY_ERROR] = (uint64_t)err;
	a.arg[PAGER_REPLY_FAILED] = failed;
	return sys_reply(rq->token, &a);
}

const char *pager_op_name(uint32_t op)
{
	switch (op) {
	case PAGER_PAGE_IN:
		return "page-in";
	case PAGER_PAGE_OUT:
		return "page-out";
	default:
		return "?";
	}
}

const char *pager_mode_name(uint32_t mode)
{
	static const char *const names[] = {
#define PAGER_MODE_NAME(name, text) [name] = text,
		FERRY_FILL_MODES(PAGER_MODE_NAME)
#undef PAGER_MODE_NAME
	};

	return mode < FILL_NMODES ? names[mode] : "?";
}
