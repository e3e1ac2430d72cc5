// SPDX-License-Identifier: MIT
/*
 * swapd: the swap provider (model in swapd.h, protocols in <proto/pager.h>
 * and <proto/swapd.h>).
 *
 *   swapd [disk]         the swap partition through ata (the default)
 *   swapd file PATH      the swap file PATH of the ext2 file system: fs
 *                        checks it and maps its blocks, ata serves us
 *                        those and no others
 *   swapd ram [PAGES]    a store of PAGES 4 KiB slots of RAM (default 2048)
 *
 * Its arguments are its boot configuration: the GRUB module line
 * (USER_ARGS_swapd in user/build.mk; a second provider is the same ELF as
 * the module `swapfile`, iso/ferry.conf).  A swap area swapd refuses, or
 * none at all, ends swapd with status 1: the system runs on without it.
 * It publishes its port under its program's name ("swapd", "swapfile").
 *
 * Besides the kernel's requests (sender 0) it answers SWAPD_INFO and
 * SWAPD_STORE from anyone: tests size their load from them.
 */
#include <ferry/sys.h>
#include <pager.h>
#include <proc.h>
#include <proto/swapd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdnoreturn.h>
#include <string.h>

#include "swapd.h"

#define SWAPD_RAM_PAGES		2048
#define SWAPD_RAM_MAX		(1L << 20)	/* 4 GiB; more than any guest here */
#define SWAPD_QUEUE		64
#define SWAPD_RETRY_NS		MSEC_NS	/* how soon a waiting answer is tried again */

struct pending {
	struct pager_request rq;
	int k;
};

struct swapd {
	char name[PROC_NAME_MAX];	/* our program's, the port's name */
	long port;
	struct store *store;
	uint8_t *buf;		/* PAGER_BUF_SIZE: copy-mode page-outs arrive here */
	uint64_t pages_in, pages_out, failures, deferred, shortened;
	uint64_t failed_pages;	/* the failing page-out's pages that failed (0: all) */
	/* Answers the kernel could not take yet (no memory for their pages). */
	struct pending pending[SWAPD_QUEUE];
	int npending;
};

/*
 * The kernel's slot numbers are checked like any input.  => 0, ERR_RANGE
 * (outside the store), ERR_IO (a mode swapd did not register).
 */
static long check_range(const struct swapd *sd, const struct pager_request *rq)
{
	uint64_t nslots = sd->store->nslots;

	if (rq->key >= nslots || (uint64_t)rq->npages > nslots - rq->key)
		return ERR_RANGE;
	if (!(sd->store->modes & FILL_MODE_BIT(rq->mode)))
		return ERR_IO;
	return 0;
}

/*
 * => pages filled (the answer's pages at *pages for copy), or the error.
 * When the read-ahead is what failed, the faulting page alone may still
 * be readable: a bad sector must cost only the thread that needs it.
 */
static long serve_page_in(struct swapd *sd, const struct pager_request *rq, const void **pages)
{
	struct store *st = sd->store;
	long err = st->page_in(st, rq, rq->npages, pages);
	int k = rq->npages;

	if (err && k > 1) {
		printf("swapd: page-in of %d pages at slot %llu failed: "
		       "trying the faulting page alone\n", k, (unsigned long long)rq->key);
		k = 1;
		err = st->page_in(st, rq, k, pages);
	}
	if (err)
		return err;
	sd->pages_in += (uint64_t)k;
	return k;
}

static long serve_page_out(struct swapd *sd, const struct pager_request *rq, const void **pages)
{
	struct store *st = sd->store;
	long err = st->page_out(st, rq);

	*pages = NULL;
	if (err == ERR_IO && st->failed_pages) {
		sd->pages_out += (uint64_t)(rq->npages - __builtin_popcountll(st->failed_pages));
		sd->failed_pages = st->failed_pages;	/* fail() names them */
	}
	if (err)
		return err;
	sd->pages_out += (uint64_t)rq->npages;
	return rq->npages;
}

static const struct swapd_handler {
	const char *name;
	long (*serve)(struct swapd *sd, const struct pager_request *rq, const void **pages);
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
 * => false if it must wait (*k is then what to try again).
 */
static bool answer(struct swapd *sd, const struct pager_request *rq, int *k, const void *pages)
{
	long err = pager_answer_ok(rq, *k, pages);
	int asked = *k;

	while (err == ERR_NOMEM && *k > 1) {
		*k /= 2;
		err = pager_answer_ok(rq, *k, pages);
	}
	if (err == ERR_NOMEM)
		return false;
	if (*k < asked)
		sd->shortened++;
	/* The kernel refuses nothing we send, unless the request ended meanwhile
	 * (ERR_TIMEOUT: it failed it by overtime; the kernel counts that). */
	if (err && err != ERR_TIMEOUT)
		printf("swapd: %s answer refused: %s\n", handler_name(rq), err_str(err));
	return true;
}

static void fail(struct swapd *sd, const struct pager_request *rq, long err)
{
	long ret;

	printf("swapd: %s of %d pages at slot %llu (%s) failed: %s\n", handler_name(rq),
	       rq->npages, (unsigned long long)rq->key, pager_mode_name(rq->mode), err_str(err));
	sd->failures++;
	ret = pager_answer_fail_pages(rq, err, err == ERR_IO ? sd->failed_pages : 0);
	sd->failed_pages = 0;
	if (ret && ret != ERR_TIMEOUT)	/* late: the kernel counts it */
		printf("swapd: %s failure refused: %s\n", handler_name(rq), err_str(ret));
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

/*
 * Tries the waiting answers again, oldest first.  Only copy-mode page-ins
 * wait, and their bytes were in a buffer swapd has reused since: the store
 * reads them again.
 */
static void retry_pending(struct swapd *sd)
{
	int i, kept = 0;

	for (i = 0; i < sd->npending; i++) {
		struct pending *p = &sd->pending[i];
		const void *pages;
		long err = sd->store->page_in(sd->store, &p->rq, p->k, &pages);

		if (err)
			fail(sd, &p->rq, err);
		else if (!answer(sd, &p->rq, &p->k, pages))
			sd->pending[kept++] = *p;
	}
	sd->npending = kept;
}

/* One kernel request: check, serve, answer (or fail) it. */
static void dispatch(struct swapd *sd, const struct pager_request *rq)
{
	const void *pages = NULL;
	long ret = check_range(sd, rq);
	int k;

	if (!ret)
		ret = swapd_handlers[rq->op - PAGER_PAGE_IN].serve(sd, rq, &pages);
	if (ret < 0) {
		fail(sd, rq, ret);
		return;
	}
	k = (int)ret;
	if (!answer(sd, rq, &k, pages))
		defer(sd, rq, k);
}

static void answer_info(const struct swapd *sd, const struct msg *m)
{
	struct msg a = { .op = SWAPD_INFO };

	a.arg[SWAPD_INFO_SLOTS] = sd->store->nslots;
	a.arg[SWAPD_INFO_PAGES_IN] = sd->pages_in;
	a.arg[SWAPD_INFO_PAGES_OUT] = sd->pages_out;
	a.arg[SWAPD_INFO_FAILURES] = sd->failures;
	a.arg[SWAPD_INFO_DEFERRED] = sd->deferred;
	a.arg[SWAPD_INFO_SHORTENED] = sd->shortened;
	sys_reply(m->reply, &a);
}

static void answer_store(const struct swapd *sd, const struct msg *m)
{
	const struct store *st = sd->store;
	struct msg a = { .op = SWAPD_STORE };

	a.arg[SWAPD_STORE_KIND] = st->kind;
	a.arg[SWAPD_STORE_MODES] = st->modes;
	a.arg[SWAPD_STORE_SKIPPED] = st->skipped;
	a.arg[SWAPD_STORE_TRANSFERS] = st->transfers;
	a.arg[SWAPD_STORE_IO_ERRORS] = st->io_errors;
	a.arg[SWAPD_STORE_PART] = st->part;
	sys_reply(m->reply, &a);
}

/* Not a kernel request: SWAPD_INFO, SWAPD_STORE, or someone posing as the kernel. */
static void serve_client(const struct swapd *sd, const struct msg *m)
{
	struct msg a = { .op = MSG_OP_ERROR, .arg = { (uint64_t)ERR_PERM } };

	if (m->op == SWAPD_INFO && m->reply) {
		answer_info(sd, m);
		return;
	}
	if (m->op == SWAPD_STORE && m->reply) {
		answer_store(sd, m);
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

/*
 * The store the arguments ask for: => SWAPD_STORE_DISK, SWAPD_STORE_FILE
 * with *file set, SWAPD_STORE_RAM with *pages set, or ERR_INVAL.
 */
static long parse_args(int argc, char **argv, uint64_t *pages, const char **file)
{
	*pages = SWAPD_RAM_PAGES;
	if (argc < 2 || (argc == 2 && strcmp(argv[1], "disk") == 0))
		return SWAPD_STORE_DISK;
	if (strcmp(argv[1], "file") == 0) {
		*file = argc == 3 && argv[2][0] == '/' ? argv[2] : NULL;
		return *file ? SWAPD_STORE_FILE : ERR_INVAL;
	}
	if (strcmp(argv[1], "ram") != 0 || argc > 3)
		return ERR_INVAL;
	if (argc == 3 && (str_to_u64(argv[2], 10, pages, NULL) || *pages == 0 ||
			  *pages > SWAPD_RAM_MAX))
		return ERR_INVAL;
	return SWAPD_STORE_RAM;
}

/* Buffer and port; the port is published last, once requests can come. */
static long setup(struct swapd *sd)
{
	long ret = sys_mem_map(NULL, PAGER_BUF_SIZE, PROT_READ | PROT_WRITE);

	if (ret < 0)
		return ret;
	sd->buf = (uint8_t *)ret;
	sd->port = sys_port_create(SWAPD_QUEUE);
	if (sd->port < 0)
		return sd->port;
	ret = sys_swap_register(sd->port, (long)sd->store->nslots, sd->store->modes,
				&sd->store->area);
	if (ret == ERR_EXIST)
		printf("swapd: this swap area already has a live provider: not serving it twice\n");
	if (ret < 0)
		return ret;
	return sys_port_publish(sd->name, sd->port);
}

/* "copy, grant and dma" */
static const char *modes_str(uint32_t modes, char *buf, size_t size)
{
	int n = 0, left = __builtin_popcount(modes);
	size_t len = 0;

	buf[0] = '\0';
	for (uint32_t m = 0; m < FILL_NMODES; m++) {
		if (!(modes & FILL_MODE_BIT(m)))
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					n == 0 ? "" : left == 1 ? " and " : ", ", pager_mode_name(m));
		n++;
		left--;
	}
	return buf;
}

int main(int argc, char **argv)
{
	static struct swapd sd;
	char modes[40];
	const char *file = NULL;
	struct proc_info me;
	uint64_t pages;
	long kind = parse_args(argc, argv, &pages, &file), err;

	if (kind < 0) {
		printf("swapd: usage: swapd [disk] | swapd file /PATH | swapd ram [PAGES 1..%ld]\n",
		       SWAPD_RAM_MAX);
		return 2;
	}
	strlcpy(sd.name, proc_find(proc_pid(), &me) ? SWAPD_PORT_NAME : me.name, sizeof(sd.name));
	if (kind == SWAPD_STORE_RAM) {
		err = ram_store_open(&sd.store, pages);
		if (err)
			printf("swapd: no RAM store of %llu pages: %s\n", (unsigned long long)pages,
			       err_str(err));
	} else {
		err = disk_store_open(&sd.store, file);	/* it says why not */
	}
	if (err)
		return 1;
	err = setup(&sd);
	if (err < 0) {
		printf("swapd: cannot register %llu slots: %s\n",
		       (unsigned long long)sd.store->nslots, err_str(err));
		return 1;
	}
	printf("swapd: %llu slots (%llu KiB) %s %s, modes %s\n",
	       (unsigned long long)sd.store->nslots,
	       (unsigned long long)sd.store->nslots * (SWAP_PAGE / 1024),
	       sd.store->kind == SWAPD_STORE_RAM	  ? "of"
	       : sd.store->kind == SWAPD_STORE_FILE ? "in"
						    : "on",
	       sd.store->area.sa_where, modes_str(sd.store->modes, modes, sizeof(modes)));
	serve(&sd);
}
