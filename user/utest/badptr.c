// SPDX-License-Identifier: MIT
/*
 * bad_pointers: every system call that takes a pointer gets bad ones and
 * must answer ERR_FAULT (ERR_INVAL where a length is itself wrong) without
 * side effects and without killing the caller.
 *
 * Each probe calls one system call with the bad pointer in one argument
 * and good values everywhere else, so the pointer is the only reason to
 * fail.  The good values are set up first: a port of ours holding one
 * message (recv must not consume it), a spare unpublished port, and a
 * child blocked in sys_call on our port (a live child to wait for, and a
 * real reply token).  Which bad pointers a probe gets depends on how the
 * kernel reads it:
 *   buf   pointer and length: also ranges that cross or wrap past the top
 *   obj   a fixed-size struct: also one straddling the top of user space
 *   str   a NUL-terminated string: also one that runs off its mapping
 *   code  an address to run or a stack top (ERR_INVAL is fine: the
 *         kernel only checks where they point, it never reads them)
 */
#include <ferry/sys.h>
#include <ipc.h>
#include <stdio.h>
#include <string.h>

#include "utest.h"

#define USER_TOP	0x0000800000000000UL
#define PAGE_SIZE	4096
#define MARKER		0xfeedL
#define CALL_WAIT_NS	(100 * MSEC_NS)

enum probe_kind { PROBE_BUF = 1, PROBE_OBJ = 2, PROBE_STR = 4, PROBE_CODE = 8 };

struct bad_ctx {
	long port;		/* ours, published, holding one MARKER message */
	long spare;		/* ours, unpublished */
	long caller;		/* child blocked in sys_call on port */
	unsigned long token;	/* its reply token */
	char *unterminated;	/* "xxxxxxxx" right before an unmapped page */
};

struct bad_input {
	const char *what;
	uintptr_t addr;
	long len;		/* for buf probes */
	bool len_bad;		/* ERR_INVAL is a right answer too */
	unsigned int kinds;	/* probe kinds it applies to */
};

enum { BAD_UNTERMINATED = 6 };

static struct bad_input inputs[] = {
	{ "NULL", 0, 16, false, ~0u },
	{ "kernel", 0xffff800000001000UL, 16, false, ~0u },
	{ "non-canonical", 0x0000800000000000UL, 16, false, ~0u },
	{ "crossing the top", USER_TOP - PAGE_SIZE, 2 * PAGE_SIZE, true, PROBE_BUF },
	/* addr + len wraps around 2^64 and lands below addr. */
	{ "wrapping", USER_TOP - PAGE_SIZE, -PAGE_SIZE, true, PROBE_BUF },
	{ "straddling the top", USER_TOP - 4, 0, false, PROBE_OBJ },
	[BAD_UNTERMINATED] = { "unterminated", 0, 0, false, PROBE_STR },
};

#define PROBE(fn)                                                       \
	static long fn(const struct bad_ctx *ctx __attribute__((unused)),      \
		       void *p, long len __attribute__((unused)))

struct probe {
	const char *name;
	long (*call)(const struct bad_ctx *ctx, void *p, long len);
	enum probe_kind kind;
	bool null_ok;		/* NULL means "none" here (spawn args, wait status) */
	bool inval_ok;		/* the kernel never dereferences it: ERR_INVAL is fine */
};

/* A spawn that should have failed: end the child so it does not linger. */
static long spawned(long pid)
{
	long status;

	if (pid > 0 && sys_kill(pid) == 0)
		sys_wait(pid, &status, -1);
	return pid;
}

PROBE(p_spawn_name)
{
	return spawned(sys_spawn(p, "utest exit_code 0"));
}

PROBE(p_spawn_args)
{
	return spawned(sys_spawn("utest", p));
}

PROBE(p_wait)
{
	return sys_wait(ctx->caller, p, 0);
}

PROBE(p_proc_info)
{
	return sys_proc_info(0, p);
}

PROBE(p_console_write)
{
	return sys_console_write(p, len);
}

PROBE(p_console_read)
{
	return sys_console_read(p, len);
}

PROBE(p_mem_unmap)
{
	return sys_mem_unmap(p, len);
}

PROBE(p_thread_entry)
{
	static char stack[1024] __attribute__((aligned(16)));

	return sys_thread_create(p, stack + sizeof(stack), 0);
}

/* If the kernel wrongly took the stack, the thread faults: that fails too. */
static void idle_thread(void)
{
	for (;;)
		sys_thread_exit(0);
}

PROBE(p_thread_stack)
{
	return sys_thread_create((void *)idle_thread, p, 0);
}

PROBE(p_port_publish)
{
	return sys_port_publish(p, ctx->spare);
}

PROBE(p_port_lookup)
{
	return sys_port_lookup(p);
}

PROBE(p_send)
{
	return sys_send(ctx->port, p);
}

PROBE(p_send_page)
{
	struct msg m = { .op = MSG_OP_USER, .flags = MSG_PAGE, .page = p };

	return sys_send(ctx->port, &m);
}

PROBE(p_recv)
{
	return sys_recv(ctx->port, p, CALL_WAIT_NS);
}

PROBE(p_call_req)
{
	struct msg rep = { 0 };

	return sys_call(ctx->port, p, &rep, CALL_WAIT_NS);
}

PROBE(p_call_rep)
{
	struct msg req = { .op = MSG_OP_USER };

	return sys_call(ctx->port, &req, p, CALL_WAIT_NS);
}

PROBE(p_call_page)
{
	struct msg req = { .op = MSG_OP_USER, .flags = MSG_PAGE, .page = p }, rep = { 0 };

	return sys_call(ctx->port, &req, &rep, CALL_WAIT_NS);
}

PROBE(p_reply)
{
	return sys_reply(ctx->token, p);
}

PROBE(p_reply_page)
{
	struct msg m = { .op = MSG_OP_USER, .flags = MSG_PAGE, .page = p };

	return sys_reply(ctx->token, &m);
}

PROBE(p_stats)
{
	return sys_stats(p);
}

/*
 * mem_pin and dma_alloc are missing: utest lacks their rights, so they
 * fail with ERR_PERM before looking at a pointer (see no_rights).
 */
static const struct probe probes[] = {
	{ .name = "spawn name", .call = p_spawn_name, .kind = PROBE_STR },
	{ .name = "spawn args", .call = p_spawn_args, .kind = PROBE_STR, .null_ok = true },
	{ .name = "wait status", .call = p_wait, .kind = PROBE_OBJ, .null_ok = true },
	{ .name = "proc_info", .call = p_proc_info, .kind = PROBE_OBJ },
	{ .name = "thread_create entry", .call = p_thread_entry, .kind = PROBE_CODE,
	  .inval_ok = true },
	{ .name = "thread_create stack", .call = p_thread_stack, .kind = PROBE_CODE,
	  .inval_ok = true },
	{ .name = "console_write", .call = p_console_write, .kind = PROBE_BUF },
	{ .name = "console_read", .call = p_console_read, .kind = PROBE_BUF },
	{ .name = "mem_unmap", .call = p_mem_unmap, .kind = PROBE_BUF, .inval_ok = true },
	{ .name = "port_publish", .call = p_port_publish, .kind = PROBE_STR },
	{ .name = "port_lookup", .call = p_port_lookup, .kind = PROBE_STR },
	{ .name = "send", .call = p_send, .kind = PROBE_OBJ },
	{ .name = "send page", .call = p_send_page, .kind = PROBE_OBJ },
	{ .name = "recv", .call = p_recv, .kind = PROBE_OBJ },
	{ .name = "call request", .call = p_call_req, .kind = PROBE_OBJ },
	{ .name = "call reply", .call = p_call_rep, .kind = PROBE_OBJ },
	{ .name = "call page", .call = p_call_page, .kind = PROBE_OBJ },
	{ .name = "reply", .call = p_reply, .kind = PROBE_OBJ },
	{ .name = "reply page", .call = p_reply_page, .kind = PROBE_OBJ },
	{ .name = "stats", .call = p_stats, .kind = PROBE_OBJ },
};

/* utest bad_caller PARENT: calls the parent's port and expects MARKER + 1. */
UTEST_HELPER(bad_caller)
{
	long parent = utest_arg(argc, argv, 2), port;
	char name[PORT_NAME_MAX];
	struct msg req = { .op = MSG_OP_USER, .arg = { MARKER } }, rep = { 0 };

	utest_port_name(name, "bad", parent);
	port = CHECK_OK(ipc_lookup(name, 5 * SEC_NS));
	CHECK_OK(sys_call(port, &req, &rep, 15 * SEC_NS));
	CHECK_EQ(rep.arg[0], MARKER + 1);
	return 0;
}

/*
 * Eight non-NUL bytes that end where an unmapped page begins: find two
 * free pages, then map only the first of them again.
 */
static char *map_unterminated(void)
{
	long rw = PROT_READ | PROT_WRITE;
	char *base = (char *)CHECK_OK(sys_mem_map(NULL, 2 * PAGE_SIZE, rw));

	CHECK_OK(sys_mem_unmap(base, 2 * PAGE_SIZE));
	CHECK_EQ(sys_mem_map(base, PAGE_SIZE, rw), (long)base);
	memset(base + PAGE_SIZE - 8, 'x', 8);
	return base + PAGE_SIZE - 8;
}

static void setup(struct bad_ctx *ctx)
{
	char name[PORT_NAME_MAX];
	struct msg m = { 0 };

	utest_port_name(name, "bad", proc_pid());
	ctx->port = CHECK_OK(ipc_publish(name, 8));
	ctx->spare = CHECK_OK(sys_port_create(1));
	ctx->caller = utest_spawn("bad_caller", "%ld", proc_pid());
	CHECK_OK(sys_recv(ctx->port, &m, 5 * SEC_NS));
	CHECK_EQ(m.sender, ctx->caller);
	CHECK(m.reply != 0);
	ctx->token = m.reply;
	m = (struct msg){ .op = MSG_OP_USER, .arg = { MARKER } };
	CHECK_OK(sys_send(ctx->port, &m));
	ctx->unterminated = map_unterminated();
	inputs[BAD_UNTERMINATED].addr = (uintptr_t)ctx->unterminated;
}

/* Nothing the probes did may have touched the port, the child or the token. */
static void teardown(struct bad_ctx *ctx)
{
	struct msg m = { 0 };

	CHECK_OK(sys_recv(ctx->port, &m, SEC_NS));
	CHECK_EQ(m.arg[0], MARKER);
	CHECK_EQ(sys_recv(ctx->port, &m, MSEC_NS), ERR_TIMEOUT);
	m = (struct msg){ .op = MSG_OP_USER, .arg = { MARKER + 1 } };
	CHECK_OK(sys_reply(ctx->token, &m));
	utest_reap(ctx->caller, 0);
	CHECK_OK(sys_port_destroy(ctx->port));
	CHECK_OK(sys_port_destroy(ctx->spare));
	CHECK_OK(sys_mem_unmap(ctx->unterminated - (PAGE_SIZE - 8), PAGE_SIZE));
}

/* => returns the number of wrong answers, each one printed; counts calls in *tried. */
static int try_probe(const struct bad_ctx *ctx, const struct probe *pr, int *tried)
{
	const struct bad_input *in;
	long ret;
	int wrong = 0;

	for (in = inputs; in < inputs + sizeof(inputs) / sizeof(inputs[0]); in++) {
		if (!(in->kinds & pr->kind) || (pr->null_ok && in->addr == 0))
			continue;
		(*tried)++;
		ret = pr->call(ctx, (void *)in->addr, in->len);
		if (ret == ERR_FAULT || (ret == ERR_INVAL && (in->len_bad || pr->inval_ok)))
			continue;
		printf("utest: %s with %s pointer %#lx: got %ld (%s), want ERR_FAULT\n",
		       pr->name, in->what, (unsigned long)in->addr, ret,
		       ret < 0 ? err_str(ret) : "success");
		wrong++;
	}
	return wrong;
}

UTEST(bad_pointers)
{
	struct bad_ctx ctx;
	size_t i;
	int wrong = 0, tried = 0;

	setup(&ctx);
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		wrong += try_probe(&ctx, &probes[i], &tried);
	teardown(&ctx);
	printf("utest: bad_pointers: %d of %d calls answered wrongly\n", wrong, tried);
	CHECK_EQ(wrong, 0);
	return 0;
}
