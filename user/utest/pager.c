// SPDX-License-Identifier: MIT
/*
 * Pagers that misbehave on purpose: they never answer, answer with a
 * wrong, stale or foreign grant, answer twice, touch the window after
 * answering, write into a read-only page-out grant, use a grant they
 * forwarded, or die holding one.  Each time the kernel must refuse or
 * end what is wrong, keep what is right, and leak nothing.
 *
 * The case process is the pager when the pager must live through it;
 * vm_bad_pager, a helper process, is the pager when it must die.
 */
#include <ferry/sys.h>
#include <ipc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utest.h"

#define OVERTIME_BOUND_NS	(6 * SEC_NS)	/* overtime=2000 in the vm_suite boot */

enum { SINK_FILL = MSG_OP_USER + 0x50, SINK_CHECK, SINK_QUIT };

/* A copy of rq answered as if its grant were `grant`. */
static long answer_with_grant(struct tpager *tp, const struct pager_request *rq, uint64_t grant)
{
	struct pager_request forged = *rq;

	forged.grant = grant;
	return pager_answer_ok(&forged, rq->npages, tp->buf);
}

/* Until the request for child has been failed by its overtime. */
UTEST(vm_pager_never_replies)
{
	struct pager_request rq;
	struct sys_stats before;
	struct tpager tp;
	long prev, child, status = 0, t0;

	prev = vm_faultpath(FILL_GRANT_MAP);
	CHECK_OK(sys_stats(&before));
	tpager_open(&tp);
	child = tpager_client(tp.port, 3, 0, 1, "read");
	tpager_recv(&tp, &rq, UTEST_WAIT_NS);
	t0 = sys_clock_ns();
	CHECK_EQ(sys_wait(child, &status, 2 * OVERTIME_BOUND_NS), child);
	printf("utest: child ended %ld ms after its request came\n",
	       (sys_clock_ns() - t0) / MSEC_NS);
	CHECK_EQ(status, PROC_STATUS_FAULT);
	CHECK(sys_clock_ns() - t0 < OVERTIME_BOUND_NS);
	/* The grant is gone with the request: answer without touching its window.
	 * The kernel gave up on it by overtime: the answer is late (counted and
	 * dropped, ERR_TIMEOUT once), and then just a stale token. */
	CHECK_EQ(pager_answer_ok(&rq, rq.npages, tp.buf), ERR_TIMEOUT);
	CHECK_EQ(pager_answer_ok(&rq, rq.npages, tp.buf), ERR_BADHANDLE);
	vm_check_idle(&before);
	tpager_close(&tp);
	vm_faultpath(prev);
	return 0;
}

/* A refused answer must leave the request waiting, its child still asleep. */
static void check_still_open(long child, const struct sys_stats *open)
{
	struct proc_info info;
	struct sys_stats now;

	CHECK_OK(proc_find(child, &info));
	CHECK_EQ(info.state, THREAD_BLOCKED_PAGER);
	CHECK_OK(sys_stats(&now));
	CHECK_EQ(now.requests_live, open->requests_live);
	CHECK_EQ(now.grants_live, open->grants_live);
}

UTEST(vm_pager_wrong_grant)
{
	struct pager_request first, rq;
	struct sys_stats before, open;
	struct tpager tp;
	long prev, child;

	prev = vm_faultpath(FILL_GRANT_MAP);
	CHECK_OK(sys_stats(&before));
	tpager_open(&tp);
	/* More pages than one request covers: the first request's grant goes stale. */
	child = tpager_client(tp.port, 4, 0, 2 * GRANT_MAX_PAGES, "read");
	tpager_recv(&tp, &first, UTEST_WAIT_NS);
	CHECK_OK(tpager_answer(&tp, &first));
	tpager_recv(&tp, &rq, UTEST_WAIT_NS);
	tpager_fill(&tp, &rq, rq.npages);
	CHECK_OK(sys_stats(&open));
	CHECK_EQ(answer_with_grant(&tp, &rq, rq.grant ^ 0x5a5a0000), ERR_BADHANDLE);
	check_still_open(child, &open);
	CHECK_EQ(answer_with_grant(&tp, &rq, first.grant), ERR_BADHANDLE);
	check_still_open(child, &open);
	CHECK_EQ(answer_with_grant(&tp, &rq, 0), ERR_BADHANDLE);
	check_still_open(child, &open);
	CHECK_OK(answer_with_grant(&tp, &rq, rq.grant));
	tpager_serve_until_exit(&tp, child, 0);
	vm_check_idle(&before);
	tpager_close(&tp);
	vm_faultpath(prev);
	return 0;
}

UTEST(vm_pager_foreign_grant)
{
	struct pager_request rq[2], *a, *b;
	struct sys_stats before;
	struct tpager tp;
	long prev, child[2];
	int i;

	prev = vm_faultpath(FILL_GRANT_MAP);
	CHECK_OK(sys_stats(&before));
	tpager_open(&tp);
	for (i = 0; i < 2; i++)
		child[i] = tpager_client(tp.port, 10 + (uint64_t)i, 0, 1, "read");
	for (i = 0; i < 2; i++) {
		tpager_recv(&tp, &rq[i], UTEST_WAIT_NS);
		tpager_fill(&tp, &rq[i], rq[i].npages);
	}
	a = rq[0].object == 10 ? &rq[0] : &rq[1];
	b = a == &rq[0] ? &rq[1] : &rq[0];
	CHECK_EQ(b->object, 11);
	CHECK(a->grant != b->grant);
	CHECK_EQ(answer_with_grant(&tp, a, b->grant), ERR_BADHANDLE);
	CHECK_EQ(answer_with_grant(&tp, b, a->grant), ERR_BADHANDLE);
	CHECK_OK(pager_answer_ok(a, a->npages, NULL));
	CHECK_OK(pager_answer_ok(b, b->npages, NULL));
	for (i = 0; i < 2; i++)
		utest_reap(child[i], 0);
	vm_check_idle(&before);
	tpager_close(&tp);
	vm_faultpath(prev);
	return 0;
}

static void replies_twice(long mode)
{
	struct pager_request rq;
	struct sys_stats before;
	struct tpager tp;
	long prev, child;

	prev = vm_faultpath(mode);
	CHECK_OK(sys_stats(&before));
	tpager_open(&tp);
	child = tpager_client(tp.port, 5, 0, 1, "read");
	tpager_recv(&tp, &rq, UTEST_WAIT_NS);
	CHECK_OK(tpager_answer(&tp, &rq));
	/* Not through tpager_answer: the window went with the first answer. */
	CHECK_EQ(pager_answer_ok(&rq, rq.npages, tp.buf), ERR_BADHANDLE);
	utest_reap(child, 0);
	vm_check_idle(&before);
	tpager_close(&tp);
	vm_faultpath(prev);
}

UTEST(vm_pager_replies_twice)
{
	replies_twice(FILL_COPY);
	replies_twice(FILL_GRANT_MAP);
	return 0;
}

/* --- pagers that must die: a helper process --- */

static void bad_pager_touch_after(struct tpager *tp, const struct pager_request *rq)
{
	CHECK_OK(tpager_answer(tp, rq));
	rq->window[0] = 1;	/* the window is gone: this kills us */
	printf("utest: vm_bad_pager: wrote into a window after answering\n");
	exit(4);
}

static void bad_pager_write_ro(struct tpager *tp, const struct pager_request *rq)
{
	if (rq->op == PAGER_PAGE_IN) {
		CHECK_OK(tpager_answer(tp, rq));
		return;
	}
	rq->window[0] ^= 1;	/* a page-out grant is read-only: this kills us */
	printf("utest: vm_bad_pager: wrote into a read-only page-out grant\n");
	exit(4);
}

static void bad_pager_die(struct tpager *tp, const struct pager_request *rq)
{
	(void)tp;
	(void)rq;
	exit(0);	/* with the grant and the request unanswered */
}

static const struct bad_pager {
	const char *name;
	void (*serve)(struct tpager *tp, const struct pager_request *rq);
} bad_pagers[] = {
	{ "touch_after", bad_pager_touch_after },
	{ "write_ro", bad_pager_write_ro },
	{ "die", bad_pager_die },
};

/* utest vm_bad_pager PARENT HOW: serves "utest.badpager.PARENT" in map mode, badly. */
UTEST_HELPER(vm_bad_pager)
{
	const struct bad_pager *how = NULL;
	long parent = utest_arg(argc, argv, 2);
	char name[PORT_NAME_MAX];
	struct pager_request rq;
	struct tpager tp;
	size_t i;

	CHECK(argc > 3);
	for (i = 0; i < sizeof(bad_pagers) / sizeof(bad_pagers[0]); i++)
		if (!strcmp(argv[3], bad_pagers[i].name))
			how = &bad_pagers[i];
	CHECK(how != NULL);
	tpager_open(&tp);
	utest_port_name(name, "badpager", parent);
	CHECK_OK(sys_port_publish(name, tp.port));
	for (;;) {
		tpager_recv(&tp, &rq, 2 * UTEST_WAIT_NS);
		CHECK_EQ(rq.mode, FILL_GRANT_MAP);
		how->serve(&tp, &rq);
	}
}

/* Starts vm_bad_pager HOW; => its pid, and its port in *port. */
static long start_bad_pager(const char *how, long *port)
{
	char name[PORT_NAME_MAX];
	long pid = utest_spawn("vm_bad_pager", "%ld %s", proc_pid(), how);

	utest_port_name(name, "badpager", proc_pid());
	*port = CHECK_OK(ipc_lookup(name, UTEST_WAIT_NS));
	return pid;
}

UTEST(vm_pager_touches_window_after_reply)
{
	struct sys_stats before;
	long prev, pager, port, child;

	prev = vm_faultpath(FILL_GRANT_MAP);
	CHECK_OK(sys_stats(&before));
	pager = start_bad_pager("touch_after", &port);
	child = tpager_client(port, 6, 0, 1, "read");
	utest_reap(child, 0);
	utest_reap(pager, PROC_STATUS_FAULT);
	vm_check_idle(&before);
	vm_faultpath(prev);
	return 0;
}

UTEST(vm_pager_writes_readonly_grant)
{
	struct sys_stats before;
	long prev, pager, port, child;

	prev = vm_faultpath(FILL_GRANT_MAP);
	CHECK_OK(sys_stats(&before));
	pager = start_bad_pager("write_ro", &port);
	child = tpager_client(port, 7, 0, 1, "dirty");
	utest_reap(pager, PROC_STATUS_FAULT);
	utest_reap(child, 0);
	vm_check_idle(&before);
	vm_faultpath(prev);
	return 0;
}

UTEST(vm_pager_dies_holding_grant)
{
	struct sys_stats before;
	long prev, pager, port, child;

	prev = vm_faultpath(FILL_GRANT_MAP);
	CHECK_OK(sys_stats(&before));
	pager = start_bad_pager("die", &port);
	child = tpager_client(port, 8, 0, 1, "read");
	utest_reap(pager, 0);
	/* Its page is lost with its pager: the faulting child dies, it never hangs. */
	utest_reap(child, PROC_STATUS_FAULT);
	vm_check_idle(&before);
	vm_faultpath(prev);
	return 0;
}

/* --- forwarding --- */

/* utest vm_grant_sink PARENT: takes grants forwarded to it and fills them. */
UTEST_HELPER(vm_grant_sink)
{
	long parent = utest_arg(argc, argv, 2), port;
	struct pager_request rq = { 0 };
	struct grant_info info;
	char name[PORT_NAME_MAX];
	struct msg m, a;
	struct tpager tp = { 0 };

	utest_port_name(name, "sink", parent);
	port = CHECK_OK(ipc_publish(name, 4));
	for (;;) {
		m = (struct msg){ 0 };
		CHECK_OK(sys_recv(port, &m, 2 * UTEST_WAIT_NS));
		CHECK_EQ(m.sender, parent);
		a = (struct msg){ .op = m.op };
		if (m.op == SINK_QUIT)
			break;
		a.arg[0] = (uint64_t)sys_grant_info(m.arg[0], &info);
		if (m.op == SINK_FILL && (long)a.arg[0] == 0) {
			/* As ata will: only what grant_info says, never the pager's word. */
			rq = (struct pager_request){ .op = PAGER_PAGE_IN, .mode = info.mode,
						     .object = m.arg[1], .key = m.arg[2],
						     .window = (uint8_t *)info.window };
			CHECK(info.writable);
			tpager_fill(&tp, &rq, (int)info.npages);
		}
		CHECK_OK(sys_reply(m.reply, &a));
	}
	CHECK_OK(sys_reply(m.reply, &a));
	return 0;
}

/* => what the sink's sys_grant_info said about grant. */
static long sink_call(long port, uint32_t op, const struct pager_request *rq)
{
	struct msg req = { .op = op, .arg = { rq->grant, rq->object, rq->key } }, rep = { 0 };

	CHECK_OK(sys_call(port, &req, &rep, UTEST_WAIT_NS));
	return (long)rep.arg[0];
}

UTEST(vm_pager_forward_not_held)
{
	struct pager_request rq;
	struct grant_info info;
	struct sys_stats before;
	char name[PORT_NAME_MAX];
	struct tpager tp;
	long prev, child, sink, sink_port;

	prev = vm_faultpath(FILL_GRANT_MAP);
	CHECK_OK(sys_stats(&before));
	tpager_open(&tp);
	sink = utest_spawn("vm_grant_sink", "%ld", proc_pid());
	utest_port_name(name, "sink", proc_pid());
	sink_port = CHECK_OK(ipc_lookup(name, UTEST_WAIT_NS));
	child = tpager_client(tp.port, 9, 0, 1, "read");
	tpager_recv(&tp, &rq, UTEST_WAIT_NS);
	CHECK_OK(sys_grant_info(rq.grant, &info));
	CHECK_OK(sys_grant_forward(rq.grant, sink));
	/* Forwarding gave it away: a second hop or a look is no longer ours. */
	CHECK_EQ(sys_grant_forward(rq.grant, sink), ERR_BADHANDLE);
	CHECK_EQ(sys_grant_info(rq.grant, &info), ERR_BADHANDLE);
	CHECK_EQ(sink_call(sink_port, SINK_FILL, &rq), 0);
	/* The answer still comes from us, naming the grant we forwarded. */
	CHECK_OK(pager_answer_ok(&rq, rq.npages, NULL));
	utest_reap(child, 0);
	CHECK_EQ(sink_call(sink_port, SINK_CHECK, &rq), ERR_BADHANDLE);
	sink_call(sink_port, SINK_QUIT, &rq);
	utest_reap(sink, 0);
	vm_check_idle(&before);
	tpager_close(&tp);
	vm_faultpath(prev);
	return 0;
}

/* --- what a pager sees of a lent frame --- */

UTEST(vm_fresh_frame_zero)
{
	const uint64_t *w;
	struct pager_request rq;
	struct grant_info info;
	struct sys_stats before;
	struct tpager tp;
	long prev, child;
	size_t i;

	prev = vm_faultpath(FILL_GRANT_MAP);
	CHECK_OK(sys_stats(&before));
	tpager_open(&tp);
	/* From page 3 of the object on: the request's key is the offset in it. */
	child = tpager_client(tp.port, 12, 3, 8, "read");
	tpager_recv(&tp, &rq, UTEST_WAIT_NS);
	CHECK_EQ(rq.key, 3 * UTEST_PAGE);
	CHECK_OK(sys_grant_info(rq.grant, &info));
	CHECK_EQ(info.mode, FILL_GRANT_MAP);
	CHECK_EQ(info.npages, rq.npages);
	CHECK_EQ(info.writable, 1);
	CHECK_EQ(info.window, (uint64_t)rq.window);
	/* Frames that held someone else's data must reach us scrubbed. */
	w = (const uint64_t *)rq.window;
	for (i = 0; i < (size_t)rq.npages * UTEST_PAGE / 8; i++)
		CHECK_EQ(w[i], 0);
	CHECK_OK(tpager_answer(&tp, &rq));
	tpager_serve_until_exit(&tp, child, 0);
	vm_check_idle(&before);
	tpager_close(&tp);
	vm_faultpath(prev);
	return 0;
}

UTEST(vm_dma_no_mapping)
{
	struct pager_request rq;
	struct grant_info info;
	struct sys_stats before;
	struct tpager tp;
	long prev, child;

	prev = vm_faultpath(FILL_GRANT_MAP);
	CHECK_OK(sys_stats(&before));
	tpager_open(&tp);
	/* One grant in map mode first, so our window region exists. */
	tpager_serve_until_exit(&tp, tpager_client(tp.port, 13, 0, 1, "read"), 0);
	vm_faultpath(FILL_GRANT_DMA);
	child = tpager_client(tp.port, 14, 0, 1, "zero");
	tpager_recv(&tp, &rq, UTEST_WAIT_NS);
	CHECK_EQ(rq.mode, FILL_GRANT_DMA);
	CHECK(rq.window == NULL);
	CHECK_OK(sys_grant_info(rq.grant, &info));
	CHECK_EQ(info.mode, FILL_GRANT_DMA);
	CHECK_EQ(info.window, 0);
	/* utest drives no device: no IOMMU domain of ours maps it (device 0,
	 * address 0 with an IOMMU; the physical address without one). */
	CHECK_EQ(info.device, 0);
	CHECK_EQ(info.phys[0] % UTEST_PAGE, 0);
	CHECK_EQ(vm_page_state((void *)UTEST_GRANT_WINDOW), PAGE_ABSENT);
	/* Nobody fills it (no device here): the child must see a zeroed frame. */
	CHECK_OK(pager_answer_ok(&rq, rq.npages, NULL));
	tpager_serve_until_exit(&tp, child, 0);
	vm_check_idle(&before);
	tpager_close(&tp);
	vm_faultpath(prev);
	return 0;
}

/* One client fault on object `object`: the request must come in `mode`.
 * Nobody fills a DMA grant here (no device): that client expects zeroes. */
static void fault_served_in(struct tpager *tp, uint64_t object, long mode)
{
	long child = tpager_client(tp->port, object, 0, 1,
				   mode == FILL_GRANT_DMA ? "zero" : "read");
	struct pager_request rq;

	tpager_recv(tp, &rq, UTEST_WAIT_NS);
	CHECK_EQ(rq.mode, mode);
	CHECK_EQ(rq.window != NULL, mode == FILL_GRANT_MAP);
	CHECK_EQ(rq.grant != 0, mode != FILL_COPY);
	CHECK_OK(tpager_answer(tp, &rq));
	tpager_serve_until_exit(tp, child, 0);
}

/* A pager that says it cannot take DMA grants gets mapped ones instead,
 * and only its owner may say so, only with copy among the modes. */
UTEST(vm_pager_modes_downgrade)
{
	struct sys_stats before;
	struct tpager tp;
	long prev, other;

	prev = vm_faultpath(FILL_GRANT_DMA);
	CHECK_OK(sys_stats(&before));
	tpager_open(&tp);
	CHECK_EQ(sys_pager_modes(tp.port, FILL_MODE_BIT(FILL_GRANT_MAP)), ERR_INVAL);
	CHECK_EQ(sys_pager_modes(tp.port, FILL_ALL_MODES | 0x100), ERR_INVAL);
	CHECK_EQ(sys_pager_modes(-1, FILL_ALL_MODES), ERR_BADHANDLE);
	other = vm_need_swap();	/* a port someone else owns */
	CHECK_EQ(sys_pager_modes(other, FILL_MODE_BIT(FILL_COPY)), ERR_BADHANDLE);
	CHECK_OK(sys_pager_modes(tp.port, FILL_MODE_BIT(FILL_COPY) |
					   FILL_MODE_BIT(FILL_GRANT_MAP)));
	fault_served_in(&tp, 15, FILL_GRANT_MAP);
	/* Copy only: the request carries no grant at all. */
	CHECK_OK(sys_pager_modes(tp.port, FILL_MODE_BIT(FILL_COPY)));
	fault_served_in(&tp, 16, FILL_COPY);
	/* All three again: DMA as asked. */
	CHECK_OK(sys_pager_modes(tp.port, FILL_ALL_MODES));
	fault_served_in(&tp, 17, FILL_GRANT_DMA);
	vm_check_idle(&before);
	tpager_close(&tp);
	vm_faultpath(prev);
	return 0;
}
