// SPDX-License-Identifier: MIT
/*
 * Ports and messages: ordering, call/reply with and without pages, queue
 * limits, peers that die, and senders that lie about who they are.
 */
#include <ferry/sys.h>
#include <ipc.h>
#include <stdio.h>
#include <string.h>

#include "utest.h"

#define PING_ROUNDS	1000
#define PING_BURST	4	/* messages in flight; also both queues' length */
#define CALL_ROUNDS	100
#define IPC_WAIT_NS	(5 * SEC_NS)

enum {
	OP_PING = MSG_OP_USER,
	OP_PONG,
	OP_ADD,		/* reply: arg[0] + 1 */
	OP_PAGE,	/* request page has pattern arg[0]; reply page pattern arg[0] + 1 */
	OP_QUIT,
};

static char page_in[MSG_PAGE_SIZE] __attribute__((aligned(MSG_PAGE_SIZE)));
static char page_out[MSG_PAGE_SIZE] __attribute__((aligned(MSG_PAGE_SIZE)));

static struct msg ping(long seq)
{
	return (struct msg){ .op = OP_PING, .arg = { seq, seq * 7 + 3, ~seq } };
}

static void check_ping(const struct msg *m, uint32_t op, long seq)
{
	CHECK_EQ(m->op, op);
	CHECK_EQ(m->arg[0], seq);
	CHECK_EQ(m->arg[1], seq * 7 + 3);
	CHECK_EQ(m->arg[2], ~seq);
	CHECK_EQ(m->reply, 0);
}

/* utest pong PARENT: echoes every ping back as a pong, in order. */
UTEST_HELPER(pong)
{
	long parent = utest_arg(argc, argv, 2), seq, in, out;
	char name[PORT_NAME_MAX];
	struct msg m = { 0 };

	utest_port_name(name, "pong", parent);
	in = CHECK_OK(ipc_publish(name, PING_BURST));
	utest_port_name(name, "ping", parent);
	out = CHECK_OK(ipc_lookup(name, IPC_WAIT_NS));
	for (seq = 0;; seq++) {
		CHECK_OK(sys_recv(in, &m, IPC_WAIT_NS));
		CHECK_EQ(m.sender, parent);
		if (m.op == OP_QUIT)
			break;
		check_ping(&m, OP_PING, seq);
		m.op = OP_PONG;
		CHECK_OK(sys_send(out, &m));
	}
	CHECK_EQ(seq, PING_ROUNDS);
	return 0;
}

UTEST(ipc_pingpong)
{
	long me = proc_pid(), in, out, child, i, seq;
	char name[PORT_NAME_MAX];
	struct msg m = { 0 };

	utest_port_name(name, "ping", me);
	in = CHECK_OK(ipc_publish(name, PING_BURST));
	child = utest_spawn("pong", "%ld", me);
	utest_port_name(name, "pong", me);
	out = CHECK_OK(ipc_lookup(name, IPC_WAIT_NS));
	/* Bursts keep several messages queued each way, so order is tested. */
	for (i = 0; i < PING_ROUNDS; i += PING_BURST) {
		for (seq = i; seq < i + PING_BURST; seq++) {
			m = ping(seq);
			CHECK_OK(sys_send(out, &m));
		}
		for (seq = i; seq < i + PING_BURST; seq++) {
			CHECK_OK(sys_recv(in, &m, IPC_WAIT_NS));
			CHECK_EQ(m.sender, child);
			check_ping(&m, OP_PONG, seq);
		}
	}
	m = (struct msg){ .op = OP_QUIT };
	CHECK_OK(sys_send(out, &m));
	utest_reap(child, 0);
	CHECK_OK(sys_port_destroy(in));
	return 0;
}

static struct msg serve_one(const struct msg *req)
{
	switch (req->op) {
	case OP_ADD:
		return (struct msg){ .op = OP_ADD, .arg = { req->arg[0] + 1 } };
	case OP_PAGE:
		CHECK(req->flags & MSG_PAGE);
		CHECK(utest_filled(page_in, (uint32_t)req->arg[0]));
		utest_fill(page_out, (uint32_t)req->arg[0] + 1);
		return (struct msg){ .op = OP_PAGE, .flags = MSG_PAGE, .page = page_out };
	default:
		return (struct msg){ .op = req->op };
	}
}

/* utest call_server PARENT: answers OP_ADD and OP_PAGE calls until OP_QUIT. */
UTEST_HELPER(call_server)
{
	long parent = utest_arg(argc, argv, 2), port;
	char name[PORT_NAME_MAX];
	struct msg req = { 0 }, rep = { 0 };

	utest_port_name(name, "call", parent);
	port = CHECK_OK(ipc_publish(name, 4));
	do {
		req = (struct msg){ .page = page_in };
		CHECK_OK(sys_recv(port, &req, IPC_WAIT_NS));
		CHECK_EQ(req.sender, parent);
		CHECK(req.reply != 0);
		rep = serve_one(&req);
		CHECK_OK(sys_reply(req.reply, &rep));
	} while (req.op != OP_QUIT);
	return 0;
}

static void call_pages(long port)
{
	struct msg req = { 0 }, rep = { 0 };

	/* A page each way. */
	utest_fill(page_out, 42);
	req = (struct msg){ .op = OP_PAGE, .flags = MSG_PAGE, .page = page_out, .arg = { 42 } };
	memset(page_in, 0, sizeof(page_in));
	rep = (struct msg){ .page = page_in };
	CHECK_OK(sys_call(port, &req, &rep, IPC_WAIT_NS));
	CHECK(rep.flags & MSG_PAGE);
	CHECK(utest_filled(page_in, 43));

	/* A page reply to a caller that gave no buffer is dropped, and says so. */
	rep = (struct msg){ .page = NULL };
	CHECK_OK(sys_call(port, &req, &rep, IPC_WAIT_NS));
	CHECK(rep.flags & MSG_TRUNCATED);
}

UTEST(call_reply)
{
	long me = proc_pid(), server, port, i;
	char name[PORT_NAME_MAX];
	struct msg req = { 0 }, rep = { 0 };

	server = utest_spawn("call_server", "%ld", me);
	utest_port_name(name, "call", me);
	port = CHECK_OK(ipc_lookup(name, IPC_WAIT_NS));
	for (i = 0; i < CALL_ROUNDS; i++) {
		req = (struct msg){ .op = OP_ADD, .arg = { i * 1000 + 7 } };
		rep = (struct msg){ 0 };
		CHECK_OK(sys_call(port, &req, &rep, IPC_WAIT_NS));
		CHECK_EQ(rep.sender, server);
		CHECK_EQ(rep.reply, 0);
		CHECK_EQ(rep.arg[0], i * 1000 + 8);
	}
	call_pages(port);
	req = (struct msg){ .op = OP_QUIT };
	CHECK_OK(sys_call(port, &req, &rep, IPC_WAIT_NS));
	utest_reap(server, 0);
	return 0;
}

#define LATE_CALL_NS	(20 * MSEC_NS)	/* the caller's patience */
#define LATE_ANSWER_NS	(200 * MSEC_NS)	/* when the server answers anyway */

/* utest late_server PARENT: takes one call and answers it long after the caller gave up. */
UTEST_HELPER(late_server)
{
	long parent = utest_arg(argc, argv, 2), port;
	char name[PORT_NAME_MAX];
	struct msg req = { 0 }, rep = { .op = OP_ADD };

	utest_port_name(name, "late", parent);
	port = CHECK_OK(ipc_publish(name, 4));
	CHECK_OK(sys_recv(port, &req, IPC_WAIT_NS));
	CHECK(req.reply != 0);
	sys_sleep(LATE_ANSWER_NS);
	/* Late: dropped, counted, and said so once; then the token is just stale. */
	CHECK_EQ(sys_reply(req.reply, &rep), ERR_TIMEOUT);
	CHECK_EQ(sys_reply(req.reply, &rep), ERR_BADHANDLE);
	return 0;
}

/* An answer to a caller that gave up is a late reply: the server is told
 * ERR_TIMEOUT (not "bad handle", which is for forged tokens), the kernel
 * counts it (sys_stats, kdb `ipc`), and the caller never sees it. */
UTEST(late_reply)
{
	long me = proc_pid(), server, port;
	char name[PORT_NAME_MAX];
	struct msg req = { .op = OP_ADD }, rep = { 0 };
	struct sys_stats before, after;

	server = utest_spawn("late_server", "%ld", me);
	utest_port_name(name, "late", me);
	port = CHECK_OK(ipc_lookup(name, IPC_WAIT_NS));
	CHECK_OK(sys_stats(&before));
	CHECK_EQ(sys_call(port, &req, &rep, LATE_CALL_NS), ERR_TIMEOUT);
	utest_reap(server, 0);
	CHECK_OK(sys_stats(&after));
	CHECK_EQ(after.late_replies, before.late_replies + 1);
	printf("utest: late_reply: %llu late replies so far\n",
	       (unsigned long long)after.late_replies);
	return 0;
}

UTEST(queue_full)
{
	long port, i;
	struct msg m = { 0 };

	port = CHECK_OK(sys_port_create(4));
	for (i = 0; i < 4; i++) {
		m = ping(i);
		CHECK_OK(sys_send(port, &m));
	}
	CHECK_EQ(sys_send(port, &m), ERR_FULL);
	for (i = 0; i < 4; i++) {
		CHECK_OK(sys_recv(port, &m, IPC_WAIT_NS));
		CHECK_EQ(m.sender, proc_pid());
		check_ping(&m, OP_PING, i);
	}
	CHECK_EQ(sys_recv(port, &m, MSEC_NS), ERR_TIMEOUT);
	CHECK_OK(sys_send(port, &m));
	/* Destroying a port with a message queued frees it (the leak check sees). */
	CHECK_OK(sys_port_destroy(port));
	CHECK_EQ(sys_send(port, &m), ERR_BADHANDLE);
	CHECK_EQ(sys_port_destroy(port), ERR_BADHANDLE);
	return 0;
}

/* Until the parent is blocked in sys_call, i.e. its request is queued. */
static void wait_until_calling(long pid)
{
	struct proc_info info;
	long start = sys_clock_ns();

	for (;;) {
		CHECK_OK(proc_find(pid, &info));
		if (info.state == THREAD_BLOCKED_CALL)
			return;
		CHECK(sys_clock_ns() - start < IPC_WAIT_NS);
		sys_sleep(MSEC_NS);
	}
}

/*
 * utest die_on_call PARENT recv|queued: publishes a port and exits without
 * answering the parent's call, after receiving it (recv) or while it still
 * sits in the queue (queued).
 */
UTEST_HELPER(die_on_call)
{
	long parent = utest_arg(argc, argv, 2), port;
	char name[PORT_NAME_MAX];
	struct msg m = { 0 };

	CHECK(argc > 3);
	utest_port_name(name, "dies", parent);
	port = CHECK_OK(ipc_publish(name, 4));
	if (!strcmp(argv[3], "recv")) {
		CHECK_OK(sys_recv(port, &m, IPC_WAIT_NS));
		CHECK(m.reply != 0);
	} else {
		wait_until_calling(parent);
	}
	return 0;
}

static void call_dying_receiver(const char *mode)
{
	long me = proc_pid(), child, port;
	char name[PORT_NAME_MAX];
	struct msg req = { .op = MSG_OP_USER }, rep = { 0 };

	child = utest_spawn("die_on_call", "%ld %s", me, mode);
	utest_port_name(name, "dies", me);
	port = CHECK_OK(ipc_lookup(name, IPC_WAIT_NS));
	CHECK_EQ(sys_call(port, &req, &rep, 2 * IPC_WAIT_NS), ERR_DEAD);
	utest_reap(child, 0);
	CHECK_EQ(sys_send(port, &req), ERR_BADHANDLE);
	CHECK_EQ(sys_call(port, &req, &rep, IPC_WAIT_NS), ERR_BADHANDLE);
	/* The name went with the port, so a restarted server can take it. */
	CHECK_EQ(sys_port_lookup(name), ERR_NOENT);
}

UTEST(receiver_dies)
{
	call_dying_receiver("recv");
	call_dying_receiver("queued");
	return 0;
}

/* utest forger PARENT: sends two messages with forged sender and reply. */
UTEST_HELPER(forger)
{
	long parent = utest_arg(argc, argv, 2), port;
	char name[PORT_NAME_MAX];
	struct msg m = { .sender = 0, .reply = 1234, .op = MSG_OP_USER, .arg = { proc_pid() } };

	utest_port_name(name, "forge", parent);
	port = CHECK_OK(ipc_lookup(name, IPC_WAIT_NS));
	CHECK_OK(sys_send(port, &m));
	m.sender = (uint64_t)parent;	/* pretend to be the receiver itself */
	CHECK_OK(sys_send(port, &m));
	return 0;
}

UTEST(forge_sender)
{
	long me = proc_pid(), port, child;
	char name[PORT_NAME_MAX];
	struct msg m = { 0 };
	int i;

	utest_port_name(name, "forge", me);
	port = CHECK_OK(ipc_publish(name, 4));
	child = utest_spawn("forger", "%ld", me);
	for (i = 0; i < 2; i++) {
		CHECK_OK(sys_recv(port, &m, IPC_WAIT_NS));
		CHECK_EQ(m.sender, child);
		CHECK_EQ(m.reply, 0);
		CHECK_EQ(m.arg[0], child);
	}
	utest_reap(child, 0);
	/* A made-up reply token answers nothing. */
	m = (struct msg){ .op = MSG_OP_USER };
	CHECK(sys_reply(1234, &m) < 0);
	CHECK_OK(sys_port_destroy(port));
	return 0;
}
