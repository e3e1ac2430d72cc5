// SPDX-License-Identifier: MIT
/* The block protocol's server side (model in <blkserve.h>). */
#include <blkserve.h>
#include <ferry/err.h>
#include <ferry/sys.h>
#include <proc.h>
#include <stdio.h>
#include <string.h>

static long serve_info(struct blkserve *s, struct blkserve_call *c, struct msg *ans)
{
	return s->drv->info(s->ctx, c, ans);
}

static long serve_read(struct blkserve *s, struct blkserve_call *c, struct msg *ans)
{
	return s->drv->rw(s->ctx, c, ans, false);
}

static long serve_write(struct blkserve *s, struct blkserve_call *c, struct msg *ans)
{
	return s->drv->rw(s->ctx, c, ans, true);
}

static long serve_flush(struct blkserve *s, struct blkserve_call *c, struct msg *ans)
{
	return s->drv->flush(s->ctx, c, ans);
}

/* The ops: their names in the log lines, the rights they take (<proto/block.h>). */
static const struct blkserve_op {
	const char *name;
	bool info;		/* any right on the disk will do */
	long (*serve)(struct blkserve *s, struct blkserve_call *c, struct msg *ans);
} ops[] = {
	[BLOCK_INFO - BLOCK_INFO] = { "info", true, serve_info },
	[BLOCK_READ - BLOCK_INFO] = { "read", false, serve_read },
	[BLOCK_WRITE - BLOCK_INFO] = { "write", false, serve_write },
	[BLOCK_FLUSH - BLOCK_INFO] = { "flush", false, serve_flush },
};

/* The sender as the kernel describes it, or NULL if it is gone already. */
static const struct blkserve_client *client_of(struct blkserve *s, uint64_t pid)
{
	struct blkserve_client *c;
	struct proc_info info;

	for (int i = 0; i < BLKSERVE_CLIENTS; i++)
		if (s->clients[i].pid == pid)
			return &s->clients[i];
	if (proc_find((long)pid, &info))
		return NULL;
	c = &s->clients[s->next_client++ % BLKSERVE_CLIENTS];
	c->pid = pid;
	strlcpy(c->name, info.name, sizeof(c->name));
	c->stripped = info.flags & PROC_INFO_STRIPPED;
	return c;
}

static void log_failure(const struct blkserve *s, struct blkserve_call *c,
			const struct blkserve_op *h, long err)
{
	const struct msg *m = c->m;
	uint64_t allowance = BLOCK_PART_ALLOW(m->arg[BLOCK_ARG_PART]);
	char via[40] = "";

	if (err == ERR_PERM && c->client && c->client->stripped)
		c->why = "it runs without its configuration's rights";
	if (allowance)
		snprintf(via, sizeof(via), " via allowance %#llx", (unsigned long long)allowance);
	s->drv->log("%s of disk%llu part%llu (%llu sectors at %llu, mode %#llx) by %s (pid %#llx)%s:"
		    " %s%s%s%s", h->name, (unsigned long long)BLOCK_PART_DISK(m->arg[BLOCK_ARG_PART]),
		    (unsigned long long)BLOCK_PART_NUM(m->arg[BLOCK_ARG_PART]),
		    (unsigned long long)m->arg[BLOCK_ARG_COUNT],
		    (unsigned long long)m->arg[BLOCK_ARG_SECTOR],
		    (unsigned long long)m->arg[BLOCK_ARG_MODE], c->client ? c->client->name : "?",
		    (unsigned long long)m->sender, via, err_str(err), c->why ? " (" : "",
		    c->why ? c->why : "", c->why ? ")" : "");
}

/* One call: stamped sender -> handler -> rights -> serve. */
long blkserve_dispatch(struct blkserve *s, const struct msg *m, struct msg *ans)
{
	uint32_t i = m->op - BLOCK_INFO;
	const struct blkserve_op *h;
	struct blkserve_call c = { .m = m };
	long err;

	if (m->op < BLOCK_INFO || i >= sizeof(ops) / sizeof(ops[0]) || !ops[i].serve) {
		s->drv->log("op %#x from pid %#llx: no such operation", m->op,
			    (unsigned long long)m->sender);
		return ERR_NOSYS;
	}
	h = &ops[i];
	c.client = m->sender ? client_of(s, m->sender) : NULL;
	err = c.client ? s->drv->resolve(s->ctx, &c, h->info) : ERR_PERM;
	if (!err)
		err = h->serve(s, &c, ans);
	if (err)
		log_failure(s, &c, h, err);
	return err;
}

/*
 * An answer carrying pages needs kernel frames; under memory pressure the
 * kernel says ERR_NOMEM and wakes the page-out daemon.  The client is
 * blocked on this answer (often the pager on the fault path), so dropping
 * it would hang it: wait a little and try again, a bounded number of times.
 */
#define REPLY_TRIES	50
#define REPLY_WAIT_NS	(10 * 1000 * 1000)

static long reply_patiently(uint64_t token, const struct msg *ans)
{
	long err = sys_reply(token, ans);

	for (int i = 0; err == ERR_NOMEM && i < REPLY_TRIES; i++) {
		sys_sleep(REPLY_WAIT_NS);
		err = sys_reply(token, ans);
	}
	return err;
}

noreturn void blkserve_loop(struct blkserve *s)
{
	struct msg m, ans;
	long err;

	for (;;) {
		memset(&m, 0, sizeof(m));
		m.page = s->buf;	/* a write's data lands where DMA can take it */
		m.flags = MSG_WITH_PAGES(BLKSERVE_BUF_PAGES);
		err = sys_recv(s->port, &m, -1);
		if (err) {
			s->drv->log("recv: %s", err_str(err));
			continue;
		}
		if (!m.reply)
			continue;	/* a send, not a call: nobody waits for an answer */
		memset(&ans, 0, sizeof(ans));
		err = blkserve_dispatch(s, &m, &ans);
		if (s->drv->served)
			s->drv->served(s->ctx);
		if (err)
			ans = (struct msg){ .op = BLOCK_FAIL, .arg = { (uint64_t)err } };
		err = reply_patiently(m.reply, &ans);
		/* ERR_TIMEOUT: the client gave up on it; the kernel counts those. */
		if (err && err != ERR_TIMEOUT)
			s->drv->log("reply to pid %#llx: %s", (unsigned long long)m.sender,
				    err_str(err));
	}
}

long blkserve_grant(const struct msg *m, uint32_t mode, bool write, struct grant_info *gi)
{
	if (sys_grant_info(m->arg[BLOCK_ARG_GRANT], gi))
		return ERR_BADHANDLE;
	if (gi->forwarded_from != m->sender || gi->mode != mode || (!write && !gi->writable) ||
	    gi->npages > GRANT_MAX_PAGES) {
		sys_grant_done(m->arg[BLOCK_ARG_GRANT], 0);	/* no transfer was started */
		return gi->forwarded_from != m->sender ? ERR_PERM : ERR_INVAL;
	}
	return 0;
}

/*
 * Asked on every request that names an allowance (it may have ended since
 * the last).  What it says never changes while it lives and ids are never
 * reused, so what was read the first time serves as long as the same id
 * still lives: one check per request, nothing copied (ALLOW_LIVE).
 */
const struct allow_info *blkserve_allowance(uint64_t id)
{
	static struct allow_info cached;	/* one thread: 2 KiB not on the stack */
	static uint64_t cached_id;

	if (id == cached_id)
		return sys_allow(ALLOW_LIVE, id, NULL) == 0 ? &cached : NULL;
	cached.ai_nranges = ALLOW_RANGES_MAX;
	cached_id = sys_allow(ALLOW_INFO, id, &cached) < 0 ? 0 : id;
	return cached_id ? &cached : NULL;
}

long blkserve_option(struct part_policy *pol, uint64_t *timeout_ns, const char *arg,
		     const char **why)
{
	long err = part_policy_parse(pol, arg, why);
	uint64_t ms;

	if (err != ERR_NOENT || strncmp(arg, "timeout=", 8) != 0)
		return err;
	/* Two attempts and two resets must fit one request's budget. */
	if (str_to_u64(arg + 8, 10, &ms, NULL) || ms < 10 ||
	    ms * 1000000ULL * 4 > (uint64_t)BLOCK_DRIVER_BUDGET_NS) {
		*why = "timeout out of range (10..2000 ms: the request budget is 8 s)";
		return ERR_INVAL;
	}
	*timeout_ns = ms * 1000000ULL;
	return 0;
}
