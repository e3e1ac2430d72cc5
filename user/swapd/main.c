// SPDX-License-Identifier: MIT
/*
 * swapd: the swap provider.  For now its store is RAM: memory of its own,
 * which the boot configuration pins (the `pin` right makes every mapping
 * eager and never paged out; a swap provider that paged would deadlock on
 * itself).  With the disk stack the store becomes a swap partition and the
 * grants go on to ata (<proto/block.h>); the protocol to the kernel stays.
 *
 *   swapd [pages]     store size in 4 KiB slots (default 2048, 8 MiB)
 *
 * It registers for copy and grant-map: a RAM store is filled by the CPU,
 * so it cannot take a DMA grant, and the kernel lends it a window instead.
 * Slot s lives at store + s * 4 KiB; the kernel allocates the slots, swapd
 * only checks that a request stays inside the store.
 *
 * Besides the kernel's requests (sender 0) it answers SWAPD_INFO from
 * anyone (<proto/swapd.h>): tests size their load from it.
 */
#include <ferry/sys.h>
#include <pager.h>
#include <proc.h>
#include <proto/swapd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdnoreturn.h>
#include <string.h>

#define SWAPD_DEFAULT_PAGES	2048
#define SWAPD_MAX_PAGES		(1L << 20)	/* 4 GiB; more than any guest here */
#define SWAPD_QUEUE		64
#define SWAPD_RETRY_NS		MSEC_NS	/* how soon a waiting answer is tried again */
#define SWAPD_MODES		(FILL_MODE_BIT(FILL_COPY) | FILL_MODE_BIT(FILL_GRANT_MAP))

struct pending {
	struct pager_request rq;
	int k;
};

struct swapd {
	long port;
	uint8_t *store;
	uint64_t nslots;
	uint8_t *buf;		/* PAGER_BUF_SIZE: copy-mode page-outs arrive here */
	uint64_t pages_in, pages_out, failures, deferred, shortened;
	/* Answers the kernel could not take yet (no memory for their pages). */
	struct pending pending[SWAPD_QUEUE];
	int npending;
};

static uint8_t *slot_addr(const struct swapd *sd, uint64_t slot)
{
	return sd->store + slot * MSG_PAGE_SIZE;
}

/* => 0 or ERR_RANGE: the kernel's slot numbers are checked like any input. */
static long check_range(const struct swapd *sd, const struct pager_request *rq)
{
	if (rq->key >= sd->nslots || (uint64_t)rq->npages > sd->nslots - rq->key)
		return ERR_RANGE;
	return 0;
}

/* => pages served, or an error to fail the request with. */
static long serve_page_in(struct swapd *sd, const struct pager_request *rq)
{
	size_t len = (size_t)rq->npages * MSG_PAGE_SIZE;

	switch (rq->mode) {
	case FILL_COPY:
		/* The answer's pages come straight from the store: no copy here. */
		break;
	case FILL_GRANT_MAP:
		memcpy(rq->window, slot_addr(sd, rq->key), len);
		break;
	default:
		return ERR_IO;	/* never asked for: we did not register DMA */
	}
	sd->pages_in += (uint64_t)rq->npages;
	return rq->npages;
}

static long serve_page_out(struct swapd *sd, const struct pager_request *rq)
{
	size_t len = (size_t)rq->npages * MSG_PAGE_SIZE;

	switch (rq->mode) {
	case FILL_COPY:
		memcpy(slot_addr(sd, rq->key), rq->data, len);
		break;
	case FILL_GRANT_MAP:
		memcpy(slot_addr(sd, rq->key), rq->window, len);
		break;
	default:
		return ERR_IO;
	}
	sd->pages_out += (uint64_t)rq->npages;
	return rq->npages;
}

static const struct swapd_handler {
	const char *name;
	long (*serve)(struct swapd *sd, const struct pager_request *rq);
} swapd_handlers[] = {
	[PAGER_PAGE_IN - PAGER_PAGE_IN] = { "page-in", serve_page_in },
	[PAGER_PAGE_OUT - PAGER_PAGE_IN] = { "page-out", serve_page_out },
};

static const char *handler_name(const struct pager_request *rq)
{
	return swapd_handlers[rq->op - PAGER_PAGE_IN].name;
}

/*
 * A copy-mode page-in answer needs kernel frames for its pages, and under
 * memory pressure there may be none for a moment.  Read-ahead is worth
 * least then: fewer pages are tried before none.  If not even the page
 * that faulted fits, waiting here would stop the page-outs that free
 * memory, so the answer waits in `pending` while swapd goes on serving.
 * => false if it must wait.
 */
static bool answer(struct swapd *sd, const struct pager_request *rq, int k)
{
	const void *pages = rq->op == PAGER_PAGE_IN ? slot_addr(sd, rq->key) : NULL;
	long err = pager_answer_ok(rq, k, pages);

	while (err == ERR_NOMEM && k > 1) {
		k /= 2;
		err = pager_answer_ok(rq, k, pages);
	}
	if (err == ERR_NOMEM)
		return false;
	if (k < rq->npages)
		sd->shortened++;
	/* The kernel refuses nothing we send, unless the request ended meanwhile. */
	if (err)
		printf("swapd: %s answer refused: %s\n", handler_name(rq), err_str(err));
	return true;
}

static void defer(struct swapd *sd, const struct pager_request *rq, int k)
{
	/* More pending answers than requests the port can hold cannot be. */
	if (sd->npending == SWAPD_QUEUE) {
		printf("swapd: %s answer dropped: too many waiting\n", handler_name(rq));
		return;
	}
	sd->pending[sd->npending++] = (struct pending){ .rq = *rq, .k = k };
	sd->deferred++;
}

/* Tries the waiting answers again, oldest first. */
static void retry_pending(struct swapd *sd)
{
	int i, kept = 0;

	for (i = 0; i < sd->npending; i++) {
		struct pending *p = &sd->pending[i];

		if (!answer(sd, &p->rq, p->k))
			sd->pending[kept++] = *p;
	}
	sd->npending = kept;
}

/* One kernel request: check, serve, answer (or fail) it. */
static void dispatch(struct swapd *sd, const struct pager_request *rq)
{
	long ret = check_range(sd, rq), err;

	if (!ret)
		ret = swapd_handlers[rq->op - PAGER_PAGE_IN].serve(sd, rq);
	if (ret > 0) {
		if (!answer(sd, rq, (int)ret))
			defer(sd, rq, (int)ret);
		return;
	}
	printf("swapd: %s of %d pages at slot %llu (%s): %s\n", handler_name(rq), rq->npages,
	       (unsigned long long)rq->key, pager_mode_name(rq->mode), err_str(ret));
	sd->failures++;
	err = pager_answer_fail(rq, ret);
	if (err)
		printf("swapd: %s failure refused: %s\n", handler_name(rq), err_str(err));
}

static void answer_info(const struct swapd *sd, const struct msg *m)
{
	struct msg a = { .op = SWAPD_INFO };

	a.arg[SWAPD_INFO_SLOTS] = sd->nslots;
	a.arg[SWAPD_INFO_PAGES_IN] = sd->pages_in;
	a.arg[SWAPD_INFO_PAGES_OUT] = sd->pages_out;
	a.arg[SWAPD_INFO_FAILURES] = sd->failures;
	a.arg[SWAPD_INFO_DEFERRED] = sd->deferred;
	a.arg[SWAPD_INFO_SHORTENED] = sd->shortened;
	sys_reply(m->reply, &a);
}

/* Not a kernel request: SWAPD_INFO, or someone posing as the kernel. */
static void serve_client(const struct swapd *sd, const struct msg *m)
{
	struct msg a = { .op = MSG_OP_ERROR, .arg = { (uint64_t)ERR_PERM } };

	if (m->op == SWAPD_INFO && m->reply) {
		answer_info(sd, m);
		return;
	}
	printf("swapd: op %#x from pid %llu refused: only the kernel asks for pages\n", m->op,
	       (unsigned long long)m->sender);
	if (m->reply)
		sys_reply(m->reply, &a);
}

static noreturn void serve(struct swapd *sd)
{
	struct pager_request rq;
	struct msg m;
	long err;

	for (;;) {
		pager_recv_prepare(&m, sd->buf);
		err = sys_recv(sd->port, &m, sd->npending ? SWAPD_RETRY_NS : -1);
		retry_pending(sd);
		if (err == ERR_TIMEOUT)
			continue;
		if (err) {
			printf("swapd: recv: %s\n", err_str(err));
			continue;
		}
		err = pager_request_decode(&m, &rq);
		if (err == ERR_PERM)
			serve_client(sd, &m);
		else if (err)
			printf("swapd: malformed request op %#x: %s\n", m.op, err_str(err));
		else
			dispatch(sd, &rq);
	}
}

static long parse_pages(int argc, char **argv)
{
	uint64_t v;

	if (argc < 2)
		return SWAPD_DEFAULT_PAGES;
	if (str_to_u64(argv[1], 10, &v, NULL) || v == 0 || v > SWAPD_MAX_PAGES)
		return ERR_INVAL;
	return (long)v;
}

/* Store, buffer and port; the port is published last, once requests can come. */
static long setup(struct swapd *sd, long pages)
{
	long ret;

	sd->nslots = (uint64_t)pages;
	ret = sys_mem_map(NULL, pages * MSG_PAGE_SIZE, PROT_READ | PROT_WRITE);
	if (ret < 0)
		return ret;
	sd->store = (uint8_t *)ret;
	ret = sys_mem_map(NULL, PAGER_BUF_SIZE, PROT_READ | PROT_WRITE);
	if (ret < 0)
		return ret;
	sd->buf = (uint8_t *)ret;
	sd->port = sys_port_create(SWAPD_QUEUE);
	if (sd->port < 0)
		return sd->port;
	ret = sys_swap_register(sd->port, pages, SWAPD_MODES);
	if (ret < 0)
		return ret;
	return sys_port_publish(SWAPD_PORT_NAME, sd->port);
}

int main(int argc, char **argv)
{
	static struct swapd sd;
	long pages = parse_pages(argc, argv), err;

	if (pages < 0) {
		printf("swapd: usage: swapd [pages 1..%ld]\n", SWAPD_MAX_PAGES);
		return 2;
	}
	err = setup(&sd, pages);
	if (err < 0) {
		printf("swapd: cannot start with %ld pages: %s\n", pages, err_str(err));
		return 1;
	}
	printf("swapd: %ld pages (%ld KiB) of RAM, modes copy and grant\n", pages,
	       pages * (MSG_PAGE_SIZE / 1024));
	serve(&sd);
}
